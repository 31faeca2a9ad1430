"""Referral dossiers (issue 19 point 3): what goes into the dossier a moderation lead exports for law
enforcement or a brand's counsel, as a registry of pluggable sections.

A dossier is about a subject (today a case; a seller network later) and is made of sections. Each section
is a `DossierSection` registered here with `register_dossier_section`: given the `DossierContext` (the
subject's case and listing ids, the exporting user, whether identities may be in clear) it returns a
`SectionOutput`: data for `case.json`, files for the ZIP (each hashed into the manifest) and lines or a
table for the PDF. `investigations.services.dossiers.dossier_export` assembles them.

The sections of a case are registered below: the case (notice, rights, declarations), the listings with
their snapshots, the sellers and their identifiers, the decisions (items, statements of reasons,
counter-notices, appeals), the evidence files, the documents of the rights relied on, and the chain of
custody (the audit trail, and each file's hash at upload checked against the stored file). Test purchases
and seller networks register their own sections from their modules
(`register_dossier_section(DossierSection(key="purchases", ...))`), with an `order` that places them
(sections here use 10 to 60; 70 and above are free) and the subject kinds they apply to.

Identities: sellers' names, identifiers and countries, and the IP addresses of signed declarations, are in
clear only when the exporting user may see sellers (`listings.view_seller`); otherwise a seller is named by
a keyed pseudonym (HMAC of the portal's secret key), stable within one portal, so the receiver can tell
two listings of one seller apart without learning who it is.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.db.models import Prefetch

from brands.models import IPRightDocument
from cases.models import Appeal, Case, CaseItem, CounterNotice, Declaration, Evidence, StatementOfReasons
from cases.selectors import case_timeline
from core.files import StoredDocument
from listings.models import Listing, Seller

#: Who may see sellers' identities in clear in a dossier (moderators and leads hold it).
SEE_IDENTITIES_PERMISSION = "listings.view_seller"
#: Who may have the evidence files themselves copied into a dossier.
SEE_EVIDENCE_PERMISSION = "cases.view_evidence"
#: Rows of one section's table printed in the PDF; every row is in case.json.
PDF_TABLE_ROWS = 300


@dataclass(frozen=True)
class DossierContext:
    subject_kind: str
    subject_id: int
    case: Case | None
    case_ids: list[int]
    listing_ids: list[int]
    actor: Any
    identities_in_clear: bool
    include_evidence: bool
    now: datetime

    def seller_ref(self, seller: Seller | None) -> str | None:
        """How the dossier names a seller: its portal id in clear, or a keyed pseudonym."""
        if seller is None:
            return None
        if self.identities_in_clear:
            return f"seller-{seller.pk}"
        key = settings.SECRET_KEY.encode()
        return "seller-" + hmac.new(key, f"seller:{seller.pk}".encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class DossierFile:
    """A file of the ZIP: `content` bytes, or `open` returning a binary file (stored evidence)."""

    path: str
    content: bytes | None = None
    open: Callable[[], IO[bytes]] | None = None
    size: int = 0

    @property
    def length(self) -> int:
        return len(self.content) if self.content is not None else self.size


@dataclass(frozen=True)
class DossierTable:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class SectionOutput:
    data: Any
    files: list[DossierFile] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    table: DossierTable | None = None


@dataclass(frozen=True)
class DossierSection:
    key: str
    title: str
    order: int
    build: Callable[[DossierContext], SectionOutput]
    #: The subject kinds the section applies to.
    kinds: frozenset[str] = frozenset({"case"})


_SECTIONS: dict[str, DossierSection] = {}


def register_dossier_section(section: DossierSection) -> DossierSection:
    """Add (or replace, by key) a section of the dossiers of `section.kinds`."""
    _SECTIONS[section.key] = section
    return section


def dossier_sections(kind: str) -> list[DossierSection]:
    return sorted((s for s in _SECTIONS.values() if kind in s.kinds), key=lambda s: (s.order, s.key))


# --- the sections of a case -------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _case_section(context: DossierContext) -> SectionOutput:
    case = context.case
    rights = list(case.rights.order_by("pk"))
    declarations = list(Declaration.objects.filter(case=case).order_by("kind"))
    data = {
        "id": case.pk,
        "brand": case.brand.legal_name or case.brand.name,
        "reason_code": case.reason_code,
        "reason": case.get_reason_code_display(),
        "lane": case.lane,
        "channel": case.channel,
        "status": case.status,
        "submitted_at": _when(case.submitted_at),
        "explanation": case.explanation,
        "rights": [
            {
                "kind": right.kind,
                "name": right.name,
                "registration_number": right.registration_number,
                "office": right.office,
                "status": right.status,
            }
            for right in rights
        ],
        "declarations": [
            {
                "kind": declaration.kind,
                "statement": declaration.statement,
                "signed_name": declaration.signed_name,
                "signed_at": _when(declaration.signed_at),
                "ip_address": declaration.ip_address if context.identities_in_clear else None,
            }
            for declaration in declarations
        ],
    }
    summary = [
        ("Case", f"#{case.pk}"),
        ("Complainant", data["brand"]),
        ("Reason", data["reason"]),
        ("Lane", case.get_lane_display()),
        ("Filed", case.submitted_at.strftime("%Y-%m-%d %H:%M %Z")),
        ("Status", case.get_status_display()),
        *(("Right relied on", f"{r.get_kind_display()} {r.name} {r.registration_number}".strip()) for r in rights),
        ("Explanation", case.explanation),
        *((f"Declaration ({d.get_kind_display()})", f"{d.signed_name}, {d.signed_at:%Y-%m-%d}") for d in declarations),
    ]
    return SectionOutput(data=data, summary=summary)


def _listings(context: DossierContext) -> list[Listing]:
    return list(
        Listing.objects.filter(pk__in=context.listing_ids).select_related("marketplace", "seller").order_by("pk")
    )


def _listings_section(context: DossierContext) -> SectionOutput:
    listings = _listings(context)
    rows, files, data = [], [], []
    for listing in listings:
        record = {
            "id": listing.pk,
            "marketplace": listing.marketplace.name,
            "external_id": listing.external_id,
            "url": listing.url,
            "title": listing.title,
            "price": str(listing.price) if listing.price is not None else None,
            "currency": listing.currency,
            "status": listing.status,
            "seller": context.seller_ref(listing.seller),
            "created_at": _when(listing.created_at),
            "status_changed_at": _when(listing.status_changed_at),
        }
        path = f"listings/{listing.pk}.json"
        files.append(DossierFile(path, content=json_bytes({**record, "snapshot": listing.snapshot})))
        data.append({**record, "snapshot_file": path})
        rows.append(
            [str(listing.pk), listing.title or listing.url, listing.get_status_display(), record["seller"] or ""]
        )
    return SectionOutput(
        data=data,
        files=files,
        summary=[("Listings", str(len(listings)))],
        table=DossierTable(["Listing", "Title", "Status", "Seller"], rows),
    )


def _sellers_section(context: DossierContext) -> SectionOutput:
    sellers = list(
        Seller.objects.filter(listings__pk__in=context.listing_ids)
        .select_related("marketplace")
        .distinct()
        .order_by("pk")
    )
    data, rows = [], []
    for seller in sellers:
        record = {
            "ref": context.seller_ref(seller),
            "marketplace": seller.marketplace.name,
            "account_type": seller.account_type,
            "status": seller.status,
        }
        if context.identities_in_clear:
            record |= {"external_id": seller.external_id, "name": seller.name, "country": seller.country}
        data.append(record)
        rows.append(
            [record["ref"], record.get("name", "(withheld)"), record.get("external_id", "(withheld)"), seller.status]
        )
    note = "in clear" if context.identities_in_clear else "pseudonymised: the exporting role may not see them"
    return SectionOutput(
        data={"identities_in_clear": context.identities_in_clear, "sellers": data},
        summary=[("Sellers", str(len(sellers))), ("Identities", note)],
        table=DossierTable(["Seller", "Name", "Identifier", "Status"], rows),
    )


def _decisions_section(context: DossierContext) -> SectionOutput:
    items = list(
        CaseItem.objects.filter(case_id__in=context.case_ids)
        .select_related("listing")
        .prefetch_related(
            Prefetch("statements", queryset=StatementOfReasons.objects.order_by("created_at", "pk")),
            Prefetch("counter_notices", queryset=CounterNotice.objects.order_by("attempt")),
            Prefetch("appeals", queryset=Appeal.objects.order_by("filed_at", "pk")),
        )
        .order_by("pk")
    )
    data = [
        {
            "item": item.pk,
            "case": item.case_id,
            "listing": item.listing_id,
            "status": item.status,
            "submitted_at": _when(item.submitted_at),
            "decided_at": _when(item.decided_at),
            "rejection_code": item.rejection_code,
            "statements_of_reasons": [
                {
                    "created_at": _when(s.created_at),
                    "decision_visibility": list(s.decision_visibility),
                    "decision_ground": s.decision_ground,
                    "legal_ground": s.legal_ground,
                    "explanation": s.explanation,
                    "facts": s.facts,
                    "application_date": s.application_date.isoformat(),
                    "source_type": s.source_type,
                    "automated_detection": s.automated_detection,
                    "automated_decision": s.automated_decision,
                }
                for s in item.statements.all()
            ],
            "counter_notices": [
                {
                    "attempt": c.attempt,
                    "reason": c.reason,
                    "explanation": c.explanation,
                    "received_at": _when(c.received_at),
                    "answer": c.answer,
                    "answered_at": _when(c.answered_at),
                }
                for c in item.counter_notices.all()
            ],
            "appeals": [
                {
                    "appellant": a.appellant,
                    "contested_status": a.contested_status,
                    "status": a.status,
                    "filed_at": _when(a.filed_at),
                    "decided_at": _when(a.decided_at),
                }
                for a in item.appeals.all()
            ],
        }
        for item in items
    ]
    rows = [
        [
            str(item.pk),
            str(item.listing_id),
            item.get_status_display(),
            item.decided_at.strftime("%Y-%m-%d") if item.decided_at else "",
        ]
        for item in items
    ]
    return SectionOutput(
        data=data,
        summary=[("Reported listings (notices)", str(len(items)))],
        table=DossierTable(["Item", "Listing", "Status", "Decided"], rows),
    )


def _stored_sha256(document: StoredDocument) -> str:
    digest = hashlib.sha256()
    with document.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _documents(
    context: DossierContext, documents: list[StoredDocument], folder: str, **extra: Callable[[Any], Any]
) -> SectionOutput:
    """Stored documents as a section: each one's metadata with its hash at upload checked against the stored
    file now (the chain of custody of a file), and the file itself under `folder/` when the exporting role
    may see evidence."""
    data, files, rows = [], [], []
    for document in documents:
        current = _stored_sha256(document)
        path = f"{folder}/{document.pk}-{safe_name(document.original_name)}" if context.include_evidence else None
        data.append(
            {
                "id": document.pk,
                **{name: read(document) for name, read in extra.items()},
                "original_name": document.original_name,
                "content_type": document.content_type,
                "size": document.size,
                "sha256_at_upload": document.sha256,
                "sha256_at_export": current,
                "unchanged_since_upload": current == document.sha256,
                "uploaded_by": document.uploaded_by.get_username(),
                "uploaded_at": _when(document.uploaded_at),
                "file": path,
            }
        )
        if path:
            files.append(DossierFile(path, open=lambda d=document: d.file.open("rb"), size=document.size))
        unchanged = "yes" if current == document.sha256 else "NO"
        rows.append([str(document.pk), document.original_name, document.sha256[:16], unchanged])
    changed = sum(not entry["unchanged_since_upload"] for entry in data)
    return SectionOutput(
        data=data,
        files=files,
        summary=[
            ("Files", str(len(documents))),
            ("Changed since upload", str(changed)),
            *(
                []
                if context.include_evidence
                else [("Copies", "not included: the exporting role may not see evidence")]
            ),
        ],
        table=DossierTable(["File", "Name", "SHA-256 at upload", "Unchanged"], rows),
    )


def _evidence_section(context: DossierContext) -> SectionOutput:
    evidence = Evidence.objects.filter(case_id__in=context.case_ids).select_related("uploaded_by").order_by("pk")
    return _documents(
        context,
        list(evidence),
        "evidence",
        item=lambda d: d.item_id,
        kind=lambda d: d.kind,
        description=lambda d: d.description,
    )


def _rights_documents_section(context: DossierContext) -> SectionOutput:
    """The certificates and authorisations of the rights the case relies on."""
    documents = (
        IPRightDocument.objects.filter(right__cases__in=context.case_ids)
        .select_related("uploaded_by", "right")
        .distinct()
        .order_by("pk")
    )
    return _documents(context, list(documents), "rights", right=lambda d: str(d.right), kind=lambda d: d.kind)


def _custody_section(context: DossierContext) -> SectionOutput:
    case = context.case
    item_ids = list(CaseItem.objects.filter(case=case).values_list("pk", flat=True))
    timeline = case_timeline(brand=case.brand, case=case, item_ids=item_ids)
    events = sorted(
        [*timeline.case_events, *(e for events in timeline.item_events.values() for e in events)],
        key=lambda e: (e.occurred_at, e.pk),
    )
    data = [
        {
            "occurred_at": _when(event.occurred_at),
            "action": event.action,
            "target": f"{'case' if event in timeline.case_events else 'item'} #{event.target_id}",
            "from_state": event.from_state,
            "to_state": event.to_state,
            "actor": event.actor.get_username() if event.actor else "system",
            "automated": event.automated,
            "reason": event.reason,
        }
        for event in events
    ]
    rows = [[e["occurred_at"][:16].replace("T", " "), e["action"], e["target"], e["actor"]] for e in data]
    return SectionOutput(
        data=data,
        summary=[("Recorded events", str(len(data)))],
        table=DossierTable(["When (UTC)", "Action", "On", "By"], rows),
    )


def safe_name(name: str) -> str:
    """A file name safe in a ZIP on any system: letters, digits, dot, dash and underscore."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name).strip("._")
    return cleaned[:80] or "file"


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


for _section in (
    DossierSection("case", "The notice", 10, _case_section),
    DossierSection("listings", "Listings and their snapshots", 20, _listings_section),
    DossierSection("sellers", "Sellers and identifiers", 30, _sellers_section),
    DossierSection("decisions", "Notices, decisions, counter-notices and appeals", 40, _decisions_section),
    DossierSection("evidence", "Evidence", 50, _evidence_section),
    DossierSection("rights_documents", "Documents of the rights relied on", 55, _rights_documents_section),
    DossierSection("custody", "Chain of custody (audit trail)", 60, _custody_section),
):
    register_dossier_section(_section)
