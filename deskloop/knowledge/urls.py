"""The agents' knowledge base, under /knowledge/."""

from django.urls import path

from deskloop.knowledge.views import articles, categories, finder, images, revisions

app_name = "knowledge"

urlpatterns = [
    path("", articles.article_list, name="articles"),
    path("stale/", articles.stale_list, name="stale"),
    path("preview/", articles.article_preview, name="preview"),
    path("articles/new/", articles.article_new, name="article_new"),
    path("articles/<int:article_id>/", articles.article_detail, name="article"),
    path("articles/<int:article_id>/reviewed/", articles.article_reviewed, name="article_reviewed"),
    path("articles/<int:article_id>/delete/", articles.article_delete, name="article_delete"),
    path("articles/<int:article_id>/images/", images.image_upload, name="image_upload"),
    path("articles/<int:article_id>/<str:locale>/", articles.article_locale, name="article_locale"),
    path("articles/<int:article_id>/<str:locale>/revisions/", revisions.revision_list, name="revisions"),
    path(
        "articles/<int:article_id>/<str:locale>/revisions/<int:revision_number>/",
        revisions.revision_diff,
        name="revision",
    ),
    path(
        "articles/<int:article_id>/<str:locale>/revisions/<int:revision_number>/restore/",
        revisions.revision_restore,
        name="revision_restore",
    ),
    path("categories/", categories.category_list, name="categories"),
    path("categories/<int:category_id>/", categories.category_edit, name="category"),
    path("categories/<int:category_id>/move/", categories.category_move, name="category_move"),
    path("categories/<int:category_id>/delete/", categories.category_delete, name="category_delete"),
    path("finder/<int:number>/", finder.composer_finder, name="finder"),
    path("images/<uuid:image_key>/", images.image_show, name="image"),
]
