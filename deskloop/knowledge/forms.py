"""The agents' knowledge-base forms: parsing only; every rule is the services' (they raise DomainError)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.core.forms import AccessibleForm
from deskloop.knowledge.models import ArticleLocale, ArticleState, ArticleVisibility, KnowledgeCategory
from deskloop.knowledge.services.articles import BODY_MAX, TITLE_MAX
from deskloop.knowledge.services.help_center import HOLDOUT_MAX
from deskloop.tickets.models import ProductArea


def split_tags(raw: str) -> list[str]:
    return [name.strip() for name in (raw or "").split(",") if name.strip()]


class CategoryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Sections shown under their category's name ("Billing › Invoices")."""

    def label_from_instance(self, obj: KnowledgeCategory) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent is not None else obj.name


class ArticleForm(AccessibleForm):
    """One language of an article and what the article is about."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=_("Body (HTML)"),
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 18, "data-article-body": ""}),
        help_text=_(
            "Paragraphs, headings, lists, links, tables and uploaded images are kept; anything else is removed."
        ),
    )
    state = forms.ChoiceField(label=_("State"), choices=ArticleState.choices, initial=ArticleState.DRAFT)
    visibility = forms.ChoiceField(
        label=_("Who may read it"), choices=ArticleVisibility.choices, initial=ArticleVisibility.PUBLIC
    )
    category = forms.ModelChoiceField(
        label=_("Category or section"), queryset=KnowledgeCategory.objects.none(), required=False
    )
    product_area = forms.ModelChoiceField(label=_("Product area"), queryset=ProductArea.objects.none(), required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Comma-separated."), max_length=2000)
    note = forms.CharField(label=_("What changed (optional)"), required=False, max_length=200)

    def __init__(self, *args: object, workspace_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = KnowledgeCategory.objects.filter(workspace_id=workspace_id).select_related("parent")
        area = self.fields["product_area"]
        assert isinstance(area, forms.ModelChoiceField)
        area.queryset = ProductArea.objects.filter(workspace_id=workspace_id)


class NewArticleForm(ArticleForm):
    locale = forms.ChoiceField(label=_("Language"), choices=ArticleLocale.choices)
    field_order = ["locale", "title", "body", "state", "visibility", "category", "product_area", "tags"]


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Text"), required=False, max_length=200)
    category = forms.IntegerField(label=_("Category"), required=False, min_value=1)
    locale = forms.ChoiceField(label=_("Language"), required=False, choices=[("", _("Any")), *ArticleLocale.choices])
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any")), *ArticleState.choices])
    visibility = forms.ChoiceField(
        label=_("Visibility"), required=False, choices=[("", _("Any")), *ArticleVisibility.choices]
    )
    product_area = forms.IntegerField(label=_("Product area"), required=False, min_value=1)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=100)


class CategoryForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    name_en = forms.CharField(label=_("Name in English"), required=False, max_length=120)
    name_es = forms.CharField(label=_("Name in Spanish"), required=False, max_length=120)
    name_ru = forms.CharField(label=_("Name in Russian"), required=False, max_length=120)
    description = forms.CharField(label=_("Description"), required=False, max_length=500)

    def names(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"name_{code}", "") for code in ("en", "es", "ru")}


class NewCategoryForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    parent = forms.ModelChoiceField(
        label=_("Section of"), queryset=KnowledgeCategory.objects.none(), required=False, empty_label=_("(a category)")
    )

    def __init__(self, *args: object, workspace_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = KnowledgeCategory.objects.filter(workspace_id=workspace_id, parent=None)


class HelpCenterForm(AccessibleForm):
    host_name = forms.CharField(
        label=_("Host name"),
        required=False,
        max_length=253,
        help_text=_(
            "Leave empty to serve the help center only at /help/<workspace>/. Point the name's DNS here first."
        ),
    )
    holdout_percent = forms.IntegerField(
        label=_("Holdout, percent of sessions"),
        min_value=0,
        max_value=HOLDOUT_MAX,
        help_text=_("This share of customers sees no suggestions, so the saving can be measured against them."),
    )


class ImageUploadForm(forms.Form):
    image = forms.FileField(label=_("Image"))
