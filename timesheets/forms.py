from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import User
from timesheets.models import Timesheet


class GenerateTimesheetForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    customer = forms.CharField(max_length=255)
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, request_user: User, customers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user
        if request_user.is_superuser:
            owner = cast(forms.ModelChoiceField, self.fields["user"])  # declared above
            owner.queryset = User.objects.order_by("email")
            owner.initial = request_user.pk
            owner.help_text = "Whose appointments are billed."
        else:
            del self.fields["user"]
        self.fields["customer"].widget.attrs["list"] = "customers"
        self.customers = customers

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name, message in Timesheet.period_errors(data.get("start"), data.get("end")).items():
            self.add_error(name, message)
        return data

    def owner(self) -> User:
        return self.cleaned_data.get("user") or self.request_user
