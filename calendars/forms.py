from __future__ import annotations

from typing import Any

from django import forms

from calendars.models import Appointment, Category


class CategoriesField(forms.MultipleChoiceField):
    """Outlook category names picked from the owner's categories; the stored order is kept
    (the appointment's own categories are offered first, in their order)."""

    widget = forms.SelectMultiple(attrs={"size": 8, "class": "categories-select"})

    def __init__(self, **kwargs: Any) -> None:
        # JSONField offers these to its own form field; a choice field has no use for them.
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.setdefault("required", False)
        kwargs["help_text"] = (
            "Outlook categories, from the owner's synced categories, in Outlook's order. Hold "
            "Ctrl (⌘ on a Mac) to pick several."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return list(value or [])

    def offer(self, *, owned: list[str], current: list[str]) -> None:
        names = list(dict.fromkeys([*current, *sorted(owned, key=str.lower)]))
        self.choices = [(name, name) for name in names]


class AppointmentForm(forms.ModelForm):
    categories_owner_id: int | None = None

    class Meta:
        model = Appointment
        fields = ["categories"]
        field_classes = {"categories": CategoriesField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("categories")
        if isinstance(field, CategoriesField):
            owner_id = self.instance.user_id or self.categories_owner_id
            owned = (
                list(Category.objects.filter(user_id=owner_id).values_list("name", flat=True))
                if owner_id is not None
                else []
            )
            field.offer(owned=owned, current=list(self.instance.categories or []))
