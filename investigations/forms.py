"""Forms of the test-purchase pages. They validate input and check every upload by its content
(`investigations.services.purchases.check_purchase_file`); the services make the changes.

Messages name the field ("Enter the order number", "clip.mp4 is not an MP4 video"), optional fields say
so (`brands.forms.PortalFormMixin`), and the pages render them with `brands/includes/form.html`.
"""

import copy
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy

from brands.forms import PortalFormMixin
from cases.action_forms import CheckedFilesField
from cases.forms import DECLARATION_FIELDS, CaseFilingForm
from core.uploads import CheckedUpload
from investigations.choices import MANUAL_EVENT_TYPES, CustodyEventType, Verdict
from investigations.services.purchases import check_purchase_file, video_max_bytes

#: Files per form (the request as a whole is capped by DATA_UPLOAD_MAX_NUMBER_FILES).
MAX_FILES = 10


def files_help() -> str:
    documents = settings.FILE_UPLOAD_MAX_BYTES / 1_048_576
    videos = video_max_bytes() / 1_048_576
    return (
        f"Photos (PNG, JPEG, WebP) and PDFs up to {documents:.0f} MiB each, videos (MP4, MOV, WebM) up to "
        f"{videos:.0f} MiB. Each file's SHA-256 is recorded in the chain of custody."
    )


def purchase_files_field() -> CheckedFilesField:
    """Photos, videos and documents in one input, each checked by the test purchases' allow-list."""
    return CheckedFilesField(
        check=check_purchase_file,
        max_files=MAX_FILES,
        label="Photos, videos or documents",
        required=False,
        allow_empty_file=True,  # the check refuses it, naming the file
        help_text=lazy(files_help, str)(),
    )


class DateInput(forms.DateInput):
    input_type = "date"


class TestPurchaseForm(PortalFormMixin, forms.Form):
    __test__ = False

    listing_url = forms.CharField(
        label="Listing address",
        max_length=2000,
        help_text="The listing's full address, as you opened it to buy. A copy of what it shows now is kept.",
        widget=forms.URLInput(attrs={"autocomplete": "off"}),
    )
    order_id = forms.CharField(label="Order number", max_length=100, help_text="As the marketplace confirmed it.")
    purchased_on = forms.DateField(label="Date bought", widget=DateInput)
    received_on = forms.DateField(label="Date received", required=False, widget=DateInput)
    authenticator_name = forms.CharField(
        label="Authenticator", max_length=200, required=False, help_text="Who will examine the item, if known."
    )
    authenticator_organisation = forms.CharField(label="Authenticator's organisation", max_length=200, required=False)
    note = forms.CharField(
        label="Note on the purchase",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: bought under which name, shipped to which address.",
    )
    files = purchase_files_field()

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class CustodyEventForm(PortalFormMixin, forms.Form):
    event_type = forms.ChoiceField(
        label="What happened",
        choices=[(value, CustodyEventType(value).label) for value in MANUAL_EVENT_TYPES],
        widget=forms.RadioSelect,
        initial=CustodyEventType.RECEIVED,
    )
    at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Now, unless you say otherwise.",
    )
    note = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    files = purchase_files_field()

    def clean_at(self) -> Any:
        at = self.cleaned_data.get("at")
        if at is not None and at > timezone.now():
            raise ValidationError("The time is in the future.")
        return at


class VerdictForm(PortalFormMixin, forms.Form):
    verdict = forms.ChoiceField(
        label="Verdict",
        choices=[(v.value, v.label) for v in Verdict if v != Verdict.PENDING],
        widget=forms.RadioSelect,
    )
    authenticator_name = forms.CharField(label="Authenticator", max_length=200)
    authenticator_organisation = forms.CharField(label="Authenticator's organisation", max_length=200, required=False)
    report = forms.CharField(
        label="Findings",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the authenticator found. Give the findings, attach their report, or both.",
    )
    report_file = forms.FileField(
        label="Authentication report", required=False, allow_empty_file=True, help_text="A PDF or an image."
    )

    def clean_report_file(self) -> CheckedUpload | None:
        file = self.cleaned_data.get("report_file")
        return check_purchase_file(file) if file else None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("report") or "").strip() and not data.get("report_file") and "report_file" not in self.errors:
            self.add_error("report", "Give the authenticator's findings, or attach their report.")
        return data


def _listing_label(listing: Any) -> str:
    return f"{listing.title or listing.url} ({listing.url})"


class NoticeForm(PortalFormMixin, forms.Form):
    """A notice "counterfeit confirmed by test purchase", filed from the purchase's page with it attached."""

    # The filing form's own fields (hidden key, rights, declarations): the same labels and messages.
    idempotency_key = CaseFilingForm.base_fields["idempotency_key"]
    rights = CaseFilingForm.base_fields["rights"]
    listings = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Listings to report",
        help_text="The listing bought from, and the seller's other live listings the portal knows.",
    )
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Which right is infringed and what the examination found.",
    )
    signed_name = forms.CharField(max_length=150, label="Your full name, as your signature")

    def __init__(self, *args: Any, rights: Any, listings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rights"].queryset = rights
        self.fields["rights"].error_messages["required"] = CaseFilingForm.base_fields["rights"].error_messages[
            "required"
        ]
        self.fields["listings"].queryset = listings
        self.fields["listings"].error_messages["required"] = "Choose at least one listing to report."
        self.fields["listings"].label_from_instance = _listing_label
        for name in DECLARATION_FIELDS:
            self.fields[name] = copy.deepcopy(CaseFilingForm.base_fields[name])
        self.order_fields(["rights", "listings", "explanation", *DECLARATION_FIELDS, "signed_name"])

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "right_ids": [right.pk for right in data["rights"]],
            "listing_ids": [listing.pk for listing in data["listings"]],
            "explanation": data["explanation"],
            "signed_name": data["signed_name"],
            "idempotency_key": str(data["idempotency_key"]),
        }
