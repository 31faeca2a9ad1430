"""Exports for transparency: DSA statements of reasons and Lumen-style notices.

`dsa_statement` turns a stored `StatementOfReasons` into a statement for the EU DSA Transparency Database
(Art. 24(5)), in its own field names and values; `dsa_batches` groups them in request bodies of at most
100 statements, the database's batch limit (`{"statements": [...]}`). The database must hold no personal
data: a statement carries no seller, brand user or listing URL, its `puid` is a portal number, and the
free texts (legal ground, explanation, facts) have e-mail addresses, phone numbers and links masked
(then cut to length). A statement the database would refuse (`tdb_statement_problems`) raises
ValidationError instead of being exported.

`lumen_notice` turns a case into a notice in Lumen's notice JSON (its `NoticeSerializer`, and the
`TrademarkSerializer` and `OtherSerializer` variants): sender and principal are the brand (an
organisation), the recipient is the marketplace, the works (or marks) are the rights relied on with the
reported listing URLs. No signer's name, e-mail or IP address leaves the portal.

A notice has one recipient: `lumen_notice` always takes the marketplace and reads the case's items
through the marketplace scope (`for_marketplace`), so a notice never names another marketplace's
listings; a case with listings on several marketplaces is several notices (`lumen_notices`, the staff
export). The platform's DSA batch reads the same way (`dsa_statement_batch`).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from cases.choices import (
    ITEM_OPEN_STATUSES,
    ITEM_REMOVAL_STATUSES,
    STATEMENT_MAX_LENGTHS,
    DecisionGround,
    DecisionVisibility,
    ItemStatus,
    ReasonCode,
)
from cases.models import Case, CaseItem, StatementOfReasons
from cases.services.statements import mask_personal_data, tdb_statement_problems
from listings.choices import SellerAccountType
from listings.models import Marketplace

#: The Transparency Database accepts at most this many statements per call.
DSA_BATCH_SIZE = 100

#: Mask what identifies a person in free text (the statement's own rules, `cases.services.statements`).
scrub_personal_data = mask_personal_data


def _masked(text: str, limit: int) -> str:
    """Masked, then cut: masking can lengthen a text (statements stored before masking came first)."""
    return mask_personal_data(text)[:limit]


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def dsa_puid(statement: StatementOfReasons) -> str:
    """The platform's unique id of the statement ([A-Za-z0-9-_], never reused: it is the row's number)."""
    return f"marketsafe-sor-{statement.pk}"


def dsa_statement(statement: StatementOfReasons) -> dict[str, Any]:
    """One statement in the Transparency Database's fields (needs `item__listing__seller` loaded)."""
    item = statement.item
    listing = item.listing
    seller = listing.seller
    facts = _masked(statement.facts, STATEMENT_MAX_LENGTHS["facts"])
    data: dict[str, Any] = {
        "decision_visibility": list(statement.decision_visibility),
        "decision_ground": statement.decision_ground,
        "category": statement.category,
        "category_specification": list(statement.category_specification),
        "content_type": ["CONTENT_TYPE_PRODUCT"],
        "content_date": _date(listing.created_at.date()),
        "application_date": _date(statement.application_date),
        "decision_facts": facts,
        "source_type": statement.source_type,
        "automated_detection": _yes_no(statement.automated_detection),
        "automated_decision": statement.automated_decision,
        "territorial_scope": list(statement.territorial_scope),
        "puid": dsa_puid(statement),
    }
    if statement.end_date_visibility_restriction is not None:  # left out, not null, when indefinite
        data["end_date_visibility_restriction"] = _date(statement.end_date_visibility_restriction)
    if DecisionVisibility.OTHER in statement.decision_visibility:
        data["decision_visibility_other"] = "Restriction described in the decision facts."
    legal_ground = _masked(statement.legal_ground, STATEMENT_MAX_LENGTHS["legal_ground"])
    explanation = _masked(statement.explanation, STATEMENT_MAX_LENGTHS["explanation"])
    if statement.decision_ground == DecisionGround.ILLEGAL_CONTENT:
        data["illegal_content_legal_ground"] = legal_ground
        data["illegal_content_explanation"] = explanation
    else:
        data["incompatible_content_ground"] = legal_ground
        data["incompatible_content_explanation"] = explanation
        data["incompatible_content_illegal"] = "Yes"
    if seller is not None:
        data["account_type"] = (
            "ACCOUNT_TYPE_PRIVATE" if seller.account_type == SellerAccountType.PRIVATE else "ACCOUNT_TYPE_BUSINESS"
        )
    problems = tdb_statement_problems(data)
    if problems:
        # Never sent as it is: the database would refuse it (or the batch holding it). Checked when the
        # statement was made too; this catches rows stored before those checks, or edited since.
        raise ValidationError(
            {
                name: [f"Statement {data['puid']}: {message}" for message in messages]
                for name, messages in problems.items()
            }
        )
    return data


def dsa_statements_queryset() -> QuerySet[StatementOfReasons]:
    """Statements with what `dsa_statement` reads, in id order (every marketplace's: scope it)."""
    return StatementOfReasons.objects.select_related("item__listing__seller").order_by("pk")


def dsa_statement_batch(*, marketplace: Marketplace, after: int, settled_before: datetime) -> list[StatementOfReasons]:
    """The marketplace's next batch: up to `DSA_BATCH_SIZE` of its statements after id `after`, created
    no later than `settled_before`."""
    return list(
        dsa_statements_queryset()
        .for_marketplace(marketplace)
        .filter(pk__gt=after, created_at__lte=settled_before)[:DSA_BATCH_SIZE]
    )


def dsa_batches(statements: Iterable[StatementOfReasons], size: int = DSA_BATCH_SIZE) -> Iterator[dict[str, Any]]:
    """Request bodies for the Transparency Database's batch endpoint: `{"statements": [<= 100]}` each."""
    if not 1 <= size <= DSA_BATCH_SIZE:
        raise ValueError(f"A batch holds 1 to {DSA_BATCH_SIZE} statements.")
    batch: list[dict[str, Any]] = []
    for statement in statements:
        batch.append(dsa_statement(statement))
        if len(batch) == size:
            yield {"statements": batch}
            batch = []
    if batch:
        yield {"statements": batch}


# --- Lumen ----------------------------------------------------------------------------------------

#: Lumen's notice type for each reason code.
LUMEN_TYPES: dict[str, str] = {
    ReasonCode.COUNTERFEIT: "Counterfeit",
    ReasonCode.COUNTERFEIT_TEST_PURCHASE: "Counterfeit",
    ReasonCode.UNLAWFUL_IMPORT: "Counterfeit",
    ReasonCode.TRADEMARK_TITLE: "Trademark",
    ReasonCode.TRADEMARK_IMAGE: "Trademark",
    ReasonCode.STOREFRONT: "Trademark",
    ReasonCode.COPYRIGHT: "DMCA",
    ReasonCode.DESIGN: "Other",
    ReasonCode.PATENT: "Other",
    ReasonCode.OTHER: "Other",
}


def lumen_action_taken(statuses: Iterable[str]) -> str:
    """Lumen's `action_taken`: Yes (every listing removed), No (none), Partial, or Unspecified (undecided)."""
    statuses = list(statuses)
    if not statuses or any(s in ITEM_OPEN_STATUSES for s in statuses):
        return "Unspecified"
    removed = sum(s in ITEM_REMOVAL_STATUSES or s == ItemStatus.APPEALED for s in statuses)
    if removed == len(statuses):
        return "Yes"
    return "No" if removed == 0 else "Partial"


def lumen_notices(cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Notices of `cases`, in their order: one per case and marketplace its listings are on (by name)."""
    on: defaultdict[int, set[int]] = defaultdict(set)
    for case_id, marketplace_id in (
        CaseItem.objects.filter(case__in=cases).values_list("case_id", "listing__marketplace_id").distinct()
    ):
        on[case_id].add(marketplace_id)
    marketplaces = Marketplace.objects.in_bulk({pk for ids in on.values() for pk in ids})
    return [
        lumen_notice(case, marketplace=marketplace)
        for case in cases
        for marketplace in sorted((marketplaces[pk] for pk in on[case.pk]), key=lambda m: (m.name, m.pk))
    ]


#: Lumen's topics of each reason code (its topic names).
LUMEN_TOPICS: dict[str, list[str]] = {
    ReasonCode.COUNTERFEIT: ["Counterfeit", "Trademark"],
    ReasonCode.COUNTERFEIT_TEST_PURCHASE: ["Counterfeit", "Trademark"],
    ReasonCode.UNLAWFUL_IMPORT: ["Counterfeit", "Trademark"],
    ReasonCode.TRADEMARK_TITLE: ["Trademark"],
    ReasonCode.TRADEMARK_IMAGE: ["Trademark"],
    ReasonCode.STOREFRONT: ["Trademark"],
    ReasonCode.COPYRIGHT: ["Copyright"],
    ReasonCode.DESIGN: ["Design"],
    ReasonCode.PATENT: ["Patent"],
    ReasonCode.OTHER: ["Other"],
}


def lumen_notice(case: Case, *, marketplace: Marketplace) -> dict[str, Any]:
    """A notice of `case` to `marketplace` (only the case's listings on that marketplace) in Lumen's notice
    JSON: the keys of its `NoticeSerializer`, with the works replaced by `marks` for a trademark notice
    (`TrademarkSerializer`: description and the infringing URLs as strings) and renamed for "Other"
    (`OtherSerializer`: `explanation`, and works of `complaint`, `problematic_urls`, `original_work_urls`).
    """
    items = list(
        CaseItem.objects.for_marketplace(marketplace).filter(case=case).select_related("listing").order_by("pk")
    )
    brand = case.brand
    rights = list(case.rights.order_by("pk"))
    notice_type = LUMEN_TYPES[case.reason_code]
    urls = [item.listing.url for item in items]
    descriptions = [
        f"{right.get_kind_display()} {right.name}"
        + (
            f" ({' '.join(filter(None, (right.office, right.registration_number)))})"
            if right.registration_number
            else ""
        )
        for right in rights
    ] or [ReasonCode(case.reason_code).label]
    submitted = case.submitted_at.isoformat()
    notice: dict[str, Any] = {
        "id": case.pk,
        "type": notice_type,
        "title": f"{ReasonCode(case.reason_code).label} notice from {brand.name}",
        "body": scrub_personal_data(case.explanation),
        "date_sent": submitted,
        "date_received": submitted,
        "date_submitted": submitted,
        "topics": LUMEN_TOPICS[case.reason_code],
        "sender_name": brand.legal_name or brand.name,
        "principal_name": brand.legal_name or brand.name,
        "recipient_name": marketplace.name,
        "works": [
            {"description": description, "infringing_urls": [{"url": url} for url in urls], "copyrighted_urls": []}
            for description in descriptions
        ],
        "tags": [case.reason_code],
        "jurisdictions": [brand.country] if brand.country else [],
        "action_taken": lumen_action_taken(item.status for item in items),
        "language": "en",
    }
    if notice_type == "Trademark":
        del notice["works"]
        notice["marks"] = [{"description": description, "infringing_urls": urls} for description in descriptions]
        notice["mark_registration_number"] = ", ".join(r.registration_number for r in rights if r.registration_number)
    elif notice_type == "Other":
        notice["explanation"] = notice.pop("body")
        notice["works"] = [
            {
                "complaint": work["description"],
                "problematic_urls": work["infringing_urls"],
                "original_work_urls": work["copyrighted_urls"],
            }
            for work in notice["works"]
        ]
    return notice
