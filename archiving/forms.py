from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from archiving.phrases import DatePhraseError, DateRange, parse_date_phrase


class ArchiveNowForm(forms.Form):
    dates = forms.CharField(
        initial="yesterday",
        max_length=100,
        help_text="today, yesterday, last 7 days, last week, this month, 2025-06-01, "
        "1 June 2025, 2025-06-01 to 2025-06-07 — days in the configuration's time zone.",
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_dates(self) -> DateRange:
        try:
            return parse_date_phrase(self.cleaned_data["dates"], today=self.today)
        except DatePhraseError as error:
            raise forms.ValidationError(str(error)) from error
