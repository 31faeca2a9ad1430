"""DSA statements of reasons: the defaults a moderator starts from, the values checked against the
Transparency Database's limits, and the statement stored with every acceptance."""

import re
from collections.abc import Mapping, Sequence
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

# --- the Transparency Database's rules --------------------------------------------------------------

#: Dates the Transparency Database accepts: a statement applies from 2020-01-01 at the earliest, and no date
#: of a statement lies after 2038-01-01; the content it concerns is dated from 2000-01-01.
TDB_FIRST_DATE = date(2020, 1, 1)
TDB_LAST_DATE = date(2038, 1, 1)
TDB_CONTENT_FIRST_DATE = date(2000, 1, 1)
TDB_CONTENT_TYPES = frozenset(
    {
        "CONTENT_TYPE_APP",
        "CONTENT_TYPE_AUDIO",
        "CONTENT_TYPE_IMAGE",
        "CONTENT_TYPE_PRODUCT",
        "CONTENT_TYPE_SYNTHETIC_MEDIA",
        "CONTENT_TYPE_TEXT",
        "CONTENT_TYPE_VIDEO",
        "CONTENT_TYPE_OTHER",
    }
)
TDB_ACCOUNT_TYPES = frozenset({"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"})
_PUID = re.compile(r"[A-Za-z0-9_-]{1,500}")
#: The statement's text fields in the database's names, with their length limits.
_TDB_TEXT_LIMITS = {
    "illegal_content_legal_ground": STATEMENT_MAX_LENGTHS["legal_ground"],
    "illegal_content_explanation": STATEMENT_MAX_LENGTHS["explanation"],
    "incompatible_content_ground": STATEMENT_MAX_LENGTHS["legal_ground"],
    "incompatible_content_explanation": STATEMENT_MAX_LENGTHS["explanation"],
    "decision_facts": STATEMENT_MAX_LENGTHS["facts"],
    "decision_visibility_other": 500,
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d ()/.-]{7,}\d")
#: An act's number as EU law cites it ("2017/1001", "No 608/2013", "98/71/EC"): read as a phone number
#: by `_PHONE`, but it is law, not a person's number.
_ACT_NUMBER = re.compile(r"\d{2,4}/\d{1,4}")


#: The statement's free texts that may hold personal data: every text a moderator can type, masked by
#: the one rule (`mask_personal_data`) when stored and exported.
MASKED_FIELDS = ("legal_ground", "explanation", "facts")


def _mask_phone(match: re.Match[str]) -> str:
    return match[0] if _ACT_NUMBER.fullmatch(match[0]) else "[number removed]"


def mask_personal_data(text: str) -> str:
    """Mask what identifies a person in free text written by moderators and brands (the Transparency
    Database must hold no personal data). Masking can make a text longer: mask first, then cut."""
    text = _EMAIL.sub("[e-mail removed]", text)
    text = _LINK.sub("[link removed]", text)
    return _PHONE.sub(_mask_phone, text)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def tdb_statement_problems(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """What the Transparency Database would refuse in `data`, a statement in its own field names, by field
    (empty when it would take it): required fields, enumerations, lengths, dates and the rules between
    fields, after its statement store request (research notes, domain.md "Art. 24(5)")."""
    errors: dict[str, list[str]] = {}

    def check(name: str, ok: bool, text: str) -> None:
        if not ok:
            errors.setdefault(name, []).append(text)

    visibility = list(data.get("decision_visibility") or [])
    check(
        "decision_visibility",
        bool(
            visibility
            or data.get("decision_monetary")
            or data.get("decision_provision")
            or data.get("decision_account")
        ),
        "Choose at least one restriction.",
    )
    check(
        "decision_visibility", set(visibility) <= set(DecisionVisibility.values), "Unknown restriction of visibility."
    )
    if DecisionVisibility.OTHER in visibility:
        check("decision_visibility_other", bool(data.get("decision_visibility_other")), "Describe the restriction.")
    ground = data.get("decision_ground")
    check("decision_ground", ground in DecisionGround.values, "Unknown decision ground.")
    if ground == DecisionGround.ILLEGAL_CONTENT:
        required = ("illegal_content_legal_ground", "illegal_content_explanation")
    elif ground == DecisionGround.INCOMPATIBLE_CONTENT:
        required = ("incompatible_content_ground", "incompatible_content_explanation")
        check("incompatible_content_illegal", data.get("incompatible_content_illegal") in {"Yes", "No"}, "Yes or No.")
    else:
        required = ()
    for name in (*required, "decision_facts"):
        check(name, bool(str(data.get(name) or "").strip()), "This field of the statement of reasons is required.")
    for name, limit in _TDB_TEXT_LIMITS.items():
        value = data.get(name)
        if value is not None:
            check(name, len(str(value)) <= limit, f"At most {limit:,} characters (this is {len(str(value)):,}).")
    check("category", str(data.get("category") or "").startswith("STATEMENT_CATEGORY_"), "Unknown category.")
    check(
        "category_specification",
        set(data.get("category_specification") or []) <= set(DSA_KEYWORDS.values()),
        "Unknown DSA keyword.",
    )
    content_types = list(data.get("content_type") or [])
    check("content_type", bool(content_types) and set(content_types) <= TDB_CONTENT_TYPES, "Unknown content type.")
    unknown = sorted(set(data.get("territorial_scope") or []) - EEA_COUNTRIES)
    check("territorial_scope", not unknown, f"Not EU or EEA country codes: {', '.join(unknown)}.")
    check("source_type", data.get("source_type") in SourceType.values, "Unknown source type.")
    if data.get("source_type") == SourceType.VOLUNTARY:
        check("source_identity", not data.get("source_identity"), "Left out when the source is voluntary.")
    check("automated_detection", data.get("automated_detection") in {"Yes", "No"}, "Yes or No.")
    check("automated_decision", data.get("automated_decision") in AutomatedDecision.values, "Unknown automation.")
    if data.get("account_type") is not None:
        check("account_type", data["account_type"] in TDB_ACCOUNT_TYPES, "Unknown account type.")
    if "puid" in data:
        check("puid", bool(_PUID.fullmatch(str(data["puid"]))), "Letters, digits, - and _ only, at most 500.")

    applies = _as_date(data.get("application_date"))
    check(
        "application_date",
        applies is not None and TDB_FIRST_DATE <= applies <= TDB_LAST_DATE,
        f"Must lie between {TDB_FIRST_DATE} and {TDB_LAST_DATE}.",
    )
    if "content_date" in data:
        content = _as_date(data["content_date"])
        check(
            "content_date",
            content is not None and TDB_CONTENT_FIRST_DATE <= content <= TDB_LAST_DATE,
            f"Must lie between {TDB_CONTENT_FIRST_DATE} and {TDB_LAST_DATE}.",
        )
    for name in (
        "end_date_visibility_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_account_restriction",
    ):
        if data.get(name) is None:
            continue
        end = _as_date(data[name])
        check(name, end is not None and end <= TDB_LAST_DATE, f"Cannot lie after {TDB_LAST_DATE}.")
        if end is not None and applies is not None:
            check(name, end >= applies, "The restriction cannot end before it applies.")
    return errors


#: A statement field of the portal (`StatementInput`) for each field of the database it fills.
_PORTAL_FIELD = {
    "illegal_content_legal_ground": "legal_ground",
    "incompatible_content_ground": "legal_ground",
    "illegal_content_explanation": "explanation",
    "incompatible_content_explanation": "explanation",
    "decision_facts": "facts",
    "automated_detection": "automated_detection",
}


def _tdb_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The portal's statement values (`_statement_values`) in the database's field names, where known."""
    illegal = values.get("decision_ground") == DecisionGround.ILLEGAL_CONTENT
    data = {
        name: values[name]
        for name in (
            "decision_visibility",
            "end_date_visibility_restriction",
            "decision_ground",
            "category_specification",
            "territorial_scope",
            "application_date",
            "source_type",
            "automated_decision",
        )
        if name in values
    }
    data["category"] = DSA_CATEGORY_IP
    data["content_type"] = ["CONTENT_TYPE_PRODUCT"]
    if "automated_detection" in values:
        data["automated_detection"] = "Yes" if values["automated_detection"] else "No"
    if "legal_ground" in values:
        data["illegal_content_legal_ground" if illegal else "incompatible_content_ground"] = values["legal_ground"]
    if "explanation" in values:
        data["illegal_content_explanation" if illegal else "incompatible_content_explanation"] = values["explanation"]
    if not illegal:
        data["incompatible_content_illegal"] = "Yes"
    if "facts" in values:
        data["decision_facts"] = values["facts"]
    return data


def _portal_problems(values: Mapping[str, Any], *, masked_fields: Sequence[str] = ()) -> dict[str, list[str]]:
    """`tdb_statement_problems` of the portal's values, by the portal's field names. Fields the
    database needs but `values` lacks (a form's blank field takes each item's default) are not reported."""
    problems = tdb_statement_problems(_tdb_fields(values))
    errors: dict[str, list[str]] = {}
    for name, messages in problems.items():
        field = _PORTAL_FIELD.get(name, name)
        if field not in values:
            continue
        if field in masked_fields:
            messages = [
                message.replace(" characters", " characters once e-mail addresses, phone numbers and links are masked")
                for message in messages
            ]
        errors.setdefault(field, []).extend(messages)
    return errors


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


def statement_given_problems(given: StatementInput) -> dict[str, list[str]]:
    """What the database would refuse in the fields a moderator gave (the accept form's check), by field.

    The free texts are measured once masked, as they are stored; fields left blank take each item's
    defaults, which `_statement_values` checks again when the decision is made."""
    values = {name: value for name, value in vars(given).items() if value is not None}
    for name in MASKED_FIELDS:
        if name in values:
            values[name] = mask_personal_data(values[name])
    values.setdefault("decision_ground", DecisionGround.ILLEGAL_CONTENT)
    return _portal_problems(values, masked_fields=MASKED_FIELDS)


def statement_defaults(item: CaseItem, *, message: str = "") -> dict[str, Any]:
    """The statement of reasons a moderator's acceptance of `item` gives when nothing is overridden.

    A notice under DSA Art. 16 reviewed by a person: content removed for illegal content, the reason
    code's legal ground and keyword, every redress route open. The facts are the moderator's message,
    else the brand's note on the listing, else the notice's explanation (the statement needs facts).
    """
    reason = ReasonCode(item.reason_code)
    case = Case.objects.filter(pk=item.case_id).values("explanation", "automated").get()
    facts = message.strip() or item.brand_note.strip() or case["explanation"]
    return {
        "decision_visibility": [DecisionVisibility.CONTENT_REMOVED],
        "end_date_visibility_restriction": None,
        "decision_ground": DecisionGround.ILLEGAL_CONTENT,
        "legal_ground": LEGAL_GROUNDS[reason],
        "explanation": (
            f"The holder of the rights reported this listing for {reason.label.lower()} in notice #{item.case_id}. "
            "A moderator reviewed the notice and the listing and found the report well-founded."
        ),
        # Masked, then cut: masking can lengthen the text (an address becomes "[e-mail removed]").
        "facts": mask_personal_data(facts)[: STATEMENT_MAX_LENGTHS["facts"]],
        "category_specification": [DSA_KEYWORDS[reason]],
        "territorial_scope": [],
        "application_date": timezone.localdate(),
        "source_type": SourceType.ARTICLE_16,
        # A notice filed by automated re-listing detection: the content was found by automated means.
        "automated_detection": case["automated"],
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
    given_texts = []
    for name in MASKED_FIELDS:
        masked = mask_personal_data(values[name])
        if given is not None and getattr(given, name) is not None:
            given_texts.append(name)
        values[name] = masked
    errors = _portal_problems(values, masked_fields=given_texts)
    if not set(values["redress"]) <= set(Redress.values):
        errors.setdefault("redress", []).append("Unknown redress option.")
    for name in ("legal_ground", "explanation", "facts"):
        if not values[name].strip() and name not in errors:
            errors[name] = ["This field of the statement of reasons is required."]
    if errors:
        raise ValidationError(errors)
    return values | {"category": DSA_CATEGORY_IP}


def _store_statement(item: CaseItem, actor: Any, values: dict[str, Any]) -> StatementOfReasons:
    return StatementOfReasons.objects.create(
        item=item, moderator=actor if actor is not None and actor.is_authenticated else None, **values
    )
