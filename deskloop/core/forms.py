"""A Form base that ties each input to its help text and error for screen readers."""

from __future__ import annotations

from typing import Any

from django import forms


class AccessibleForm(forms.Form):
    """Inputs get ``aria-describedby`` (help and error ids) and ``aria-invalid`` when they have an error.

    The ids match the settings field template (``<auto_id>-help``, ``<auto_id>-error``).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.describe_fields()

    def full_clean(self) -> None:
        super().full_clean()
        self.describe_fields()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.describe_fields()

    def describe_fields(self) -> None:
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            auto_id = self[name].auto_id
            described: list[str] = []
            if field.help_text:
                described.append(f"{auto_id}-help")
            if name in errors:
                described.append(f"{auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
            else:
                field.widget.attrs.pop("aria-describedby", None)
