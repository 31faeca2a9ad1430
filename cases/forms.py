"""Forms of the brand-side case pages.

They validate what the user typed or uploaded and hand typed values to the services (the filing form
its `FilingRequest`); they never save.
Related-object choices arrive already scoped to the brand (the view passes the queryset), so an id of
another brand's right is simply not a valid choice.
"""

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from brands.choices import Lane
from cases import importing
from cases.choices import DECLARATION_TEXT, FILING_REASON_CHOICES, Channel, DeclarationKind, EvidenceKind, ReasonCode
from cases.services import FilingRequest, StoredEvidence, evidence_required
from core.uploads import check_upload


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input, cleaned to a list (empty when none was chosen)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        clean_one = super().clean
        if isinstance(data, list | tuple):
            return [clean_one(item, initial) for item in data]
        return [clean_one(data, initial)] if data else []


#: Form field of each declaration, in the order they are shown.
DECLARATION_FIELDS = {
    "declare_good_faith": DeclarationKind.GOOD_FAITH,
    "declare_accuracy": DeclarationKind.ACCURACY,
    "declare_authority": DeclarationKind.AUTHORITY,
}
CSV_SUFFIXES = frozenset({".csv", ".txt"})
#: The reasons this form offers: one that needs proof on every item (`PROOF_REQUIRED`) is filed from where
#: the proof is kept (a test purchase's page), with the proof attached.
FORM_REASONS = [code for code, _ in FILING_REASON_CHOICES]
#: Evidence files per filing (the request as a whole is capped by DATA_UPLOAD_MAX_NUMBER_FILES).
MAX_EVIDENCE_FILES = 10


class CaseFilingForm(forms.Form):
    """Step 1 of filing: everything a case needs. Valid data becomes a draft whose rows are previewed."""

    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"required": "This form is out of date: reload the page.", "invalid": "Reload the page."},
    )
    rights = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="IP rights relied on",
        help_text="Only verified rights that are valid today can be chosen.",
        error_messages={"required": "Choose at least one verified IP right."},
    )
    reason_code = forms.ChoiceField(
        choices=[("", "Choose a reason"), *FILING_REASON_CHOICES],
        label="Reason",
        error_messages={"required": "Choose the reason for this notice."},
    )
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Which right is infringed, where on the listings, and why it is unlawful.",
        error_messages={"required": "Explain what infringes which right."},
    )
    evidence = MultipleFileField(
        required=False,
        label="Evidence files",
        help_text=f"PDF, PNG, JPEG or WebP; up to {MAX_EVIDENCE_FILES} files.",
    )
    evidence_kind = forms.ChoiceField(
        choices=EvidenceKind.choices, initial=EvidenceKind.SCREENSHOT, label="The files are"
    )
    listing_urls = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        required=False,
        strip=False,  # leading blank lines count, so row numbers stay the textarea's line numbers
        label="Listing URLs",
        help_text=f"One per line, up to {importing.max_rows():,}.",
    )
    listing_file = forms.FileField(
        required=False,
        label="Or a CSV file",
        help_text="Columns url and note (optional), with a header row, saved as CSV UTF-8.",
    )
    declare_good_faith = forms.BooleanField(
        label=DECLARATION_TEXT[DeclarationKind.GOOD_FAITH],
        error_messages={"required": "Tick the good-faith declaration to sign it."},
    )
    declare_accuracy = forms.BooleanField(
        label=DECLARATION_TEXT[DeclarationKind.ACCURACY],
        error_messages={"required": "Tick the accuracy declaration to sign it."},
    )
    declare_authority = forms.BooleanField(
        label=DECLARATION_TEXT[DeclarationKind.AUTHORITY],
        error_messages={"required": "Tick the authority declaration to sign it."},
    )
    signed_name = forms.CharField(
        max_length=150,
        label="Your full name, as your signature",
        error_messages={"required": "Sign the declarations by typing your full name."},
    )

    def __init__(
        self,
        *args: Any,
        rights: QuerySet,
        lane: str,
        brand_name: str,
        kept_evidence: Sequence[StoredEvidence] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rights"].queryset = rights
        self.lane = lane
        self.brand_name = brand_name
        #: Evidence files of the draft being revised, kept unless new files are uploaded.
        self.kept_evidence = list(kept_evidence)

    @property
    def declarations(self) -> list[forms.BoundField]:
        return [self[name] for name in DECLARATION_FIELDS]

    # --- evidence hint (the rule `case_submit` applies; static/js/filing.js switches it live) ---

    @property
    def evidence_required_reasons(self) -> list[str]:
        return [code for code in FORM_REASONS if evidence_required(lane=self.lane, reason_code=code)]

    @property
    def evidence_hints(self) -> dict[str, str]:
        lane = Lane(self.lane).label
        return {
            "required": f"Evidence is required for this reason in the {lane} lane.",
            "optional": f"Evidence is optional for this reason in the {lane} lane.",
        }

    @property
    def evidence_hint(self) -> str:
        """The hint for the reason chosen so far (or for the lane as a whole before one is chosen)."""
        reason = self["reason_code"].value()
        required = self.evidence_required_reasons
        if reason in FORM_REASONS:
            return self.evidence_hints["required" if reason in required else "optional"]
        if len(required) == len(FORM_REASONS):
            return f"Evidence is required: {self.brand_name} files in the {Lane(self.lane).label} lane."
        return f"Evidence is optional for some reasons in the {Lane(self.lane).label} lane; choose a reason first."

    # --- cleaning ---

    def clean_evidence(self) -> list:
        uploads = self.cleaned_data["evidence"]
        if len(uploads) > MAX_EVIDENCE_FILES:
            raise ValidationError(f"Attach at most {MAX_EVIDENCE_FILES} files; you chose {len(uploads)}.")
        checked, errors = [], []
        for upload in uploads:
            try:
                checked.append(check_upload(upload))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return checked

    def clean_listing_file(self) -> Any:
        upload = self.cleaned_data["listing_file"]
        if upload is None:
            return None
        name = PurePath(upload.name or "file").name
        if PurePath(name).suffix.lower() not in CSV_SUFFIXES:
            raise ValidationError(
                f"{name} is not a CSV file. In your spreadsheet choose “Save as… CSV UTF-8” and upload that file."
            )
        if upload.size > settings.FILE_UPLOAD_MAX_BYTES:
            raise ValidationError(f"{name} is larger than {settings.FILE_UPLOAD_MAX_BYTES / 1_048_576:.0f} MiB.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pasted, upload = data.get("listing_urls", ""), data.get("listing_file")
        if pasted.strip() and upload:
            self.add_error("listing_file", "Paste the URLs or upload a CSV file, not both.")
        elif upload:
            try:
                data["rows"] = importing.parse_csv(upload.read(), name=PurePath(upload.name).name)
                data["channel"] = Channel.CSV
            except ValidationError as exc:
                self.add_error("listing_file", exc)
        elif pasted.strip():
            try:
                data["rows"] = importing.parse_pasted(pasted)
                data["channel"] = Channel.WEB
            except ValidationError as exc:
                self.add_error("listing_urls", exc)
        elif "listing_file" not in self.errors:
            self.add_error("listing_urls", "Paste the listing URLs, one per line, or upload a CSV file.")

        reason = data.get("reason_code")
        has_evidence = data.get("evidence") or self.kept_evidence
        if reason and not has_evidence and "evidence" not in self.errors and reason in self.evidence_required_reasons:
            label, lane = ReasonCode(reason).label, Lane(self.lane).label
            self.add_error("evidence", f"Attach evidence: it is required for “{label}” in the {lane} lane.")
        return data

    def filing_request(
        self,
        *,
        brand_id: int,
        actor_id: int,
        ip_address: str | None,
        evidence: Sequence[StoredEvidence],
        channel: str | None = None,
        idempotency_key: str | None = None,
    ) -> FilingRequest:
        """The valid form as the filing request every entry point hands on (without its listing rows,
        which are checked apart). `evidence` is the form's uploads once stored (`evidence_staged`); the
        API passes its own channel and its Idempotency-Key header instead of the form's hidden key."""
        data = self.cleaned_data
        return FilingRequest(
            brand_id=brand_id,
            actor_id=actor_id,
            reason_code=data["reason_code"],
            explanation=data["explanation"],
            right_ids=tuple(right.pk for right in data["rights"]),
            signed_name=data["signed_name"],
            ip_address=ip_address,
            evidence=tuple(evidence),
            evidence_kind=data["evidence_kind"],
            channel=channel or data["channel"],
            idempotency_key=str(data["idempotency_key"]) if idempotency_key is None else idempotency_key,
        )

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for every error, fields in form order, for the summary at the top of the page."""
        summary = [("", str(message)) for message in self.non_field_errors()]
        for bound in self:
            anchor = bound.id_for_label or f"{bound.auto_id}_0"
            short = "" if bound.name in DECLARATION_FIELDS else f"{bound.label}: "
            summary += [(anchor, f"{short}{message}") for message in bound.errors]
        return summary
