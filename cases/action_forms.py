"""The brand's actions on a reported listing (case item): their forms, and which of them the item's
status and deadlines allow right now.

The services decide in the end (they lock the item and check again); `available_actions` only spares
the brand buttons that would be refused. Evidence files are checked by content (`check_upload`) before
any service sees them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cases.choices import AppellantSide, EvidenceKind
from cases.forms import MultipleFileField
from cases.models import CaseItem
from cases.services import ALLOWED_FROM, EvidenceInput, appeal_refusal
from core.uploads import CheckedUpload, check_upload


class CheckedFilesField(MultipleFileField):
    """Several files in one input, each checked by content, extension and size; cleans to `CheckedUpload`s.

    `check` is the check of one file (`core.uploads.check_upload` by default; another app's own allow-list
    otherwise); with `max_files`, more files than that are refused as a whole."""

    def __init__(
        self, *, check: Callable[[Any], CheckedUpload] = check_upload, max_files: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.check, self.max_files = check, max_files

    def clean(self, data: Any, initial: Any = None) -> list[CheckedUpload]:
        uploads = super().clean(data, initial)
        if self.max_files is not None and len(uploads) > self.max_files:
            raise ValidationError(f"Attach at most {self.max_files} files; you chose {len(uploads)}.")
        checked, errors = [], []
        for upload in uploads:
            try:
                checked.append(self.check(upload))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return checked


def _text(label: str, *, required: bool = True, rows: int = 3, help_text: str = "") -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows})
    return forms.CharField(label=label, required=required, max_length=5000, help_text=help_text, widget=widget)


class WithdrawForm(forms.Form):
    reason = _text("Why you withdraw it (optional)", required=False, rows=2)


class ResubmitForm(forms.Form):
    note = _text(
        "Your amended explanation",
        rows=4,
        help_text="Answer the moderator's question; this replaces your note on this listing.",
    )


class CounterNoticeAnswerForm(forms.Form):
    ACCEPT, REJECT = "accept", "reject"

    answer = forms.ChoiceField(
        label="Your answer",
        choices=[
            (ACCEPT, "Accept the counter-notice: the listing is reinstated"),
            (REJECT, "Reject it with evidence: the listing stays removed"),
        ],
        widget=forms.RadioSelect,
    )
    note = _text("Note (optional)", required=False, rows=2)
    evidence = CheckedFilesField(
        label="Evidence", required=False, help_text="PDF, PNG, JPEG or WebP files. Required to reject."
    )
    evidence_kind = forms.ChoiceField(
        label="Kind of evidence", choices=EvidenceKind.choices, initial=EvidenceKind.TEST_PURCHASE, required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("answer") == self.REJECT and not cleaned.get("evidence") and "evidence" not in self.errors:
            self.add_error("evidence", "Attach evidence to reject the counter-notice.")
        return cleaned

    def evidence_inputs(self) -> list[EvidenceInput]:
        kind = self.cleaned_data["evidence_kind"] or EvidenceKind.OTHER
        return [
            EvidenceInput(file=checked.file, content_type=checked.content_type, kind=kind)
            for checked in self.cleaned_data["evidence"]
        ]


class AppealForm(forms.Form):
    grounds = _text("Grounds of your appeal", rows=4, help_text="Say why the decision is wrong.")


@dataclass(frozen=True)
class ItemAction:
    name: str
    #: The button and the heading of its form.
    title: str
    form_class: type[forms.Form]

    @property
    def url_name(self) -> str:
        return f"cases:item_{self.name}"


ACTIONS = {
    action.name: action
    for action in (
        ItemAction("answer", "Answer the counter-notice", CounterNoticeAnswerForm),
        ItemAction("resubmit", "Amend and resubmit", ResubmitForm),
        ItemAction("appeal", "Appeal the decision", AppealForm),
        ItemAction("withdraw", "Withdraw this report", WithdrawForm),
    )
}


def available_actions(item: CaseItem, *, now: datetime) -> list[ItemAction]:
    """The actions the item's status and deadlines allow now, most pressing first."""
    allowed = []
    if item.status in ALLOWED_FROM["brand_answer"] and (
        item.brand_answer_due_at is None or now <= item.brand_answer_due_at
    ):
        allowed.append(ACTIONS["answer"])
    if item.status in ALLOWED_FROM["resubmit"]:
        allowed.append(ACTIONS["resubmit"])
    if (
        item.status in ALLOWED_FROM["appeal"]
        and item.appeal_until
        and now <= item.appeal_until
        and not appeal_refusal(item, AppellantSide.BRAND)
    ):
        allowed.append(ACTIONS["appeal"])
    if item.status in ALLOWED_FROM["withdraw"]:
        allowed.append(ACTIONS["withdraw"])
    return allowed
