"""The DSA transparency report's period and service selector (`reports.views.DSAReportView`)."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from listings.models import Marketplace
from reports.dsa import Period, last_full_year

#: The longest period a report covers: a calendar year, a leap day and some slack for a custom range.
MAX_PERIOD = timedelta(days=400)


class DSAReportForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))
    marketplace = forms.ModelChoiceField(
        queryset=Marketplace.objects.order_by("name"),
        required=False,
        empty_label="All marketplaces",
        help_text="Each marketplace is its own online platform and publishes its own report.",
    )

    def __init__(self, data: Any = None, *, today: date | None = None) -> None:
        default = last_full_year(today)
        # A GET without the period is the default report, not an invalid form.
        if not data or not {"start", "end"} & set(data):
            data = {
                "start": default.start,
                "end": default.end,
                **({"marketplace": data["marketplace"]} if data and "marketplace" in data else {}),
            }
        super().__init__(data)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise ValidationError({"end": "The period ends on or after its first day."})
            if end - start > MAX_PERIOD:
                raise ValidationError({"end": "A report covers at most a year."})
            cleaned["period"] = Period(start, end)
        return cleaned
