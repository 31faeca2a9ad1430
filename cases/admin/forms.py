"""The moderators' decision forms: accept (with the seller's statement of reasons), reject with a code,
request clarification, each for one item or many (`Decision`), and the appeal decision."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import services
from cases.choices import (
    DSA_KEYWORDS,
    EEA_COUNTRIES,
    REJECTION_FIX_GUIDANCE,
    STATEMENT_MAX_LENGTHS,
    AutomatedDecision,
    DecisionGround,
    DecisionVisibility,
    Redress,
    RejectionCode,
    SourceType,
)
from cases.services import BulkOutcome, StatementInput
from cases.services.statements import statement_given_problems


def _text(
    label: str, *, required: bool = False, max_length: int = 5000, rows: int = 3, help_text: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
    )


class DecisionForm(forms.Form):
    """A decision's form, for one item (its page) or many (the queue's confirmation page).

    `apply` calls the service for each item; the template shows the primary fields, the statement of
    reasons' fields (acceptances only) and the take-over box apart.
    """

    STATEMENT_FIELDS: Sequence[str] = ()

    take_over = forms.BooleanField(
        label="Take over items assigned to other moderators",
        required=False,
        help_text="Without it, an item another moderator works on is left to them and reported.",
    )

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        raise NotImplementedError

    @property
    def primary_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "take_over" and name not in self.STATEMENT_FIELDS]

    @property
    def statement_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.STATEMENT_FIELDS]

    @property
    def take_over_fields(self) -> list[forms.BoundField]:
        return [self["take_over"]]


def _eea_codes(value: str) -> list[str]:
    codes = sorted({code.upper() for code in value.replace(",", " ").split()})
    unknown = [code for code in codes if code not in EEA_COUNTRIES]
    if unknown:
        raise ValidationError(f"Not EU or EEA country codes: {', '.join(unknown)}.")
    return codes


class AcceptForm(DecisionForm):
    """Accept: the listing is removed and the seller gets a statement of reasons, whose fields default to
    what fits a person's decision on an Art. 16 notice (blank ones take each item's own default)."""

    STATEMENT_FIELDS = (
        "decision_visibility",
        "end_date_visibility_restriction",
        "decision_ground",
        "legal_ground",
        "explanation",
        "category_specification",
        "territorial_scope",
        "application_date",
        "source_type",
        "automated_detection",
        "automated_decision",
        "redress",
    )

    message = _text(
        "Message",
        help_text="Shown to the brand, and the facts of the seller's statement of reasons. "
        "Blank: the brand's note on the listing.",
    )
    decision_visibility = forms.MultipleChoiceField(
        label="Restriction",
        choices=DecisionVisibility.choices,
        initial=[DecisionVisibility.CONTENT_REMOVED],
        widget=forms.CheckboxSelectMultiple,
    )
    end_date_visibility_restriction = forms.DateField(
        label="Restriction ends",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: none.",
    )
    decision_ground = forms.ChoiceField(
        label="Ground", choices=DecisionGround.choices, initial=DecisionGround.ILLEGAL_CONTENT
    )
    legal_ground = forms.CharField(
        label="Legal ground",
        required=False,
        max_length=STATEMENT_MAX_LENGTHS["legal_ground"],
        help_text="Blank: the law each item's reason code relies on.",
        widget=forms.TextInput(attrs={"size": 80}),
    )
    explanation = _text(
        "Explanation",
        max_length=STATEMENT_MAX_LENGTHS["explanation"],
        rows=2,
        help_text="Why the listing is illegal. Blank: a sentence naming the notice and its reason.",
    )
    category_specification = forms.MultipleChoiceField(
        label="DSA keywords",
        required=False,
        choices=[(keyword, keyword) for keyword in sorted(set(DSA_KEYWORDS.values()))],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the keyword of each item's reason code.",
    )
    territorial_scope = forms.CharField(
        label="Territorial scope",
        required=False,
        help_text="EU or EEA country codes (e.g. DE FR). Blank: not limited to some countries.",
    )
    application_date = forms.DateField(
        label="Applies from", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    source_type = forms.ChoiceField(label="Source", choices=SourceType.choices, initial=SourceType.ARTICLE_16)
    automated_detection = forms.BooleanField(
        label="Detected by automated means",
        required=False,
        help_text="Unticked: yes for notices filed by automated re-listing detection, no for the others.",
    )
    automated_decision = forms.ChoiceField(
        label="Automated decision", choices=AutomatedDecision.choices, initial=AutomatedDecision.NOT_AUTOMATED
    )
    redress = forms.MultipleChoiceField(
        label="Redress offered",
        required=False,
        choices=Redress.choices,
        initial=Redress.values,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_territorial_scope(self) -> list[str]:
        return _eea_codes(self.cleaned_data["territorial_scope"])

    def clean(self) -> dict[str, Any]:
        """The Transparency Database's rules on what was typed (dates, lengths once masked, the rules
        between fields), as messages on the fields; each item's defaults are checked when it is decided."""
        data = super().clean()
        given = {name: data.get(name) for name in self.STATEMENT_FIELDS if name in data and name not in self.errors}
        for name in ("legal_ground", "explanation", "category_specification"):
            given[name] = given.get(name) or None
        fields = {name: value for name, value in given.items() if name in StatementInput.__dataclass_fields__}
        for name, messages in statement_given_problems(StatementInput(**fields)).items():
            if name in self.fields and name not in self.errors:
                for message in messages:
                    self.add_error(name, message)
        return data

    def statement(self) -> StatementInput:
        data = self.cleaned_data
        return StatementInput(
            decision_visibility=data["decision_visibility"],
            end_date_visibility_restriction=data["end_date_visibility_restriction"],
            decision_ground=data["decision_ground"],
            legal_ground=data["legal_ground"] or None,
            explanation=data["explanation"] or None,
            category_specification=data["category_specification"] or None,
            territorial_scope=data["territorial_scope"],
            application_date=data["application_date"],
            source_type=data["source_type"],
            # Unticked takes each item's default: a notice filed by automated detection says so regardless.
            automated_detection=data["automated_detection"] or None,
            automated_decision=data["automated_decision"],
            redress=data["redress"],
        )

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        return services.items_accept(
            item_ids=item_ids,
            actor=actor,
            message=self.cleaned_data["message"],
            statement=self.statement(),
            take_over=self.cleaned_data["take_over"],
        )


class RejectForm(DecisionForm):
    code = forms.ChoiceField(
        label="Rejection code",
        # The brand sees the guidance under the rejection: the moderator reads it when choosing the code.
        choices=[("", "---------")]
        + [(code, f"{label}: {REJECTION_FIX_GUIDANCE[code]}") for code, label in RejectionCode.choices],
        widget=forms.Select(attrs={"class": "console-rejection-code"}),
    )
    message = _text("Message", help_text="Shown to the brand with the code and its “how to fix” text.")

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        data = self.cleaned_data
        return services.items_each(
            item_ids=item_ids,
            apply=lambda item_id: services.item_reject(
                item_id=item_id, actor=actor, code=data["code"], message=data["message"], take_over=data["take_over"]
            ),
        )


class ClarifyForm(DecisionForm):
    message = _text("Question", required=True, help_text="What the brand must clarify; it amends and resubmits.")

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        data = self.cleaned_data
        return services.items_each(
            item_ids=item_ids,
            apply=lambda item_id: services.item_request_clarification(
                item_id=item_id, actor=actor, message=data["message"], take_over=data["take_over"]
            ),
        )


@dataclass(frozen=True)
class Decision:
    """A decision moderators take on reported listings: a queue action and a form on the item page."""

    name: str
    label: str
    past: str
    form_class: type[DecisionForm]


ACCEPT = Decision("accept", "Accept", "accepted", AcceptForm)
REJECT = Decision("reject", "Reject", "rejected", RejectForm)
CLARIFY = Decision("clarify", "Request clarification", "asked for clarification", ClarifyForm)
DECISIONS = {decision.name: decision for decision in (ACCEPT, REJECT, CLARIFY)}


class AppealDecisionForm(forms.Form):
    OVERTURN, UPHOLD = "overturn", "uphold"

    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[(UPHOLD, "Uphold the decision"), (OVERTURN, "Overturn the decision")],
        widget=forms.RadioSelect,
    )
    note = _text("Reasons", required=True, help_text="Shown to both sides.")
