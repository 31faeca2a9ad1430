"""DSA statements of reasons: the defaults a moderator starts from, the values checked against the
Transparency Database's limits, and the statement stored with every acceptance."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.choices import (
    DSA_CATEGORY_IP,
    DSA_KEYWORDS,
    EEA_COUNTRIES,
    LEGAL_GROUNDS,
    STATEMENT_MAX_LENGTHS,
    AutomatedDecision,
    DecisionGround,
    DecisionVisibility,
    ReasonCode,
    Redress,
    SourceType,
)
from cases.models import Case, CaseItem, StatementOfReasons

# --- statements of reasons -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementInput:
    """What the moderator states to the seller about an acceptance, in the DSA Transparency Database's fields.

    A field left None takes the item's own default (`statement_defaults`), so one bulk decision over
    items of different reason codes still gives each item its legal ground and keyword.
    """

    decision_visibility: Sequence[str] | None = None
    end_date_visibility_restriction: date | None = None
    decision_ground: str | None = None
    legal_ground: str | None = None
    explanation: str | None = None
    facts: str | None = None
    category_specification: Sequence[str] | None = None
    territorial_scope: Sequence[str] | None = None
    application_date: date | None = None
    source_type: str | None = None
    automated_detection: bool | None = None
    automated_decision: str | None = None
    redress: Sequence[str] | None = None


def statement_defaults(item: CaseItem, *, message: str = "") -> dict[str, Any]:
    """The statement of reasons a moderator's acceptance of `item` gives when nothing is overridden.

    A notice under DSA Art. 16 reviewed by a person: content removed for illegal content, the reason
    code's legal ground and keyword, every redress route open. The facts are the moderator's message,
    else the brand's note on the listing, else the notice's explanation (the statement needs facts).
    """
    reason = ReasonCode(item.reason_code)
    facts = message.strip() or item.brand_note.strip()
    if not facts:
        facts = Case.objects.filter(pk=item.case_id).values_list("explanation", flat=True).get()
    return {
        "decision_visibility": [DecisionVisibility.CONTENT_REMOVED],
        "end_date_visibility_restriction": None,
        "decision_ground": DecisionGround.ILLEGAL_CONTENT,
        "legal_ground": LEGAL_GROUNDS[reason],
        "explanation": (
            f"The holder of the rights reported this listing for {reason.label.lower()} in notice #{item.case_id}. "
            "A moderator reviewed the notice and the listing and found the report well-founded."
        ),
        "facts": facts[: STATEMENT_MAX_LENGTHS["facts"]],
        "category_specification": [DSA_KEYWORDS[reason]],
        "territorial_scope": [],
        "application_date": timezone.localdate(),
        "source_type": SourceType.ARTICLE_16,
        "automated_detection": False,
        "automated_decision": AutomatedDecision.NOT_AUTOMATED,
        "redress": [Redress.INTERNAL_MECHANISM, Redress.OUT_OF_COURT, Redress.JUDICIAL],
    }


def _statement_values(item: CaseItem, *, message: str, given: StatementInput | None) -> dict[str, Any]:
    """The item's defaults overridden by what was given, checked against the Transparency Database's rules."""
    values = statement_defaults(item, message=message)
    if given is not None:
        values.update({name: value for name, value in vars(given).items() if value is not None})
    for name in ("decision_visibility", "category_specification", "territorial_scope", "redress"):
        values[name] = list(values[name])  # array columns: a tuple would reach PostgreSQL as a record
    errors: dict[str, list[str]] = {}

    def check(name: str, ok: bool, text: str) -> None:
        if not ok:
            errors.setdefault(name, []).append(text)

    visibility = values["decision_visibility"]
    check("decision_visibility", bool(visibility), "Choose at least one restriction of visibility.")
    check(
        "decision_visibility", set(visibility) <= set(DecisionVisibility.values), "Unknown restriction of visibility."
    )
    check("decision_ground", values["decision_ground"] in DecisionGround.values, "Unknown decision ground.")
    for name, limit in STATEMENT_MAX_LENGTHS.items():
        check(name, bool(values[name].strip()), "This field of the statement of reasons is required.")
        check(name, len(values[name]) <= limit, f"At most {limit} characters.")
    check(
        "category_specification",
        set(values["category_specification"]) <= set(DSA_KEYWORDS.values()),
        "Unknown DSA keyword.",
    )
    unknown = sorted(set(values["territorial_scope"]) - EEA_COUNTRIES)
    check("territorial_scope", not unknown, f"Not EU or EEA country codes: {', '.join(unknown)}.")
    check("source_type", values["source_type"] in SourceType.values, "Unknown source type.")
    check("automated_decision", values["automated_decision"] in AutomatedDecision.values, "Unknown automation.")
    check("redress", set(values["redress"]) <= set(Redress.values), "Unknown redress option.")
    end = values["end_date_visibility_restriction"]
    check(
        "end_date_visibility_restriction",
        end is None or end >= values["application_date"],
        "The restriction cannot end before it applies.",
    )
    if errors:
        raise ValidationError(errors)
    return values | {"category": DSA_CATEGORY_IP}


def _store_statement(item: CaseItem, actor: Any, values: dict[str, Any]) -> StatementOfReasons:
    return StatementOfReasons.objects.create(
        item=item, moderator=actor if actor is not None and actor.is_authenticated else None, **values
    )
