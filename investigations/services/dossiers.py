"""Exporting a referral dossier (issue 19 point 3): the sections of `investigations.dossiers` assembled into a
ZIP with a PDF, a manifest of SHA-256 hashes, a record (`DossierExport`) and an audit event.

The ZIP holds:

- `dossier.pdf`: the sections' summaries and tables, for a reader (fpdf2);
- `case.json`: every section's data, for a machine;
- the sections' files: `listings/<id>.json` (each listing with its snapshot), `evidence/<id>-<name>`;
- `manifest.json`: the subject, the export's time and author, and each file's path, size and SHA-256;
- `MANIFEST.sha256`: `sha256sum` lines for every other file (manifest.json included), so that after
  unzipping, `sha256sum -c MANIFEST.sha256` checks that nothing changed. Its own hash is recorded in the
  `DossierExport` row and the audit event: the receiver can ask the portal to confirm it.

The export is synchronous, under a cap: at most `DOSSIER_MAX_BYTES` (100 MB) of files, which a case's
1,000 snapshots and its evidence stay far below unless the evidence is large; a bigger dossier is refused
with a message (ask for a smaller case or split the evidence) rather than holding a web worker for
minutes. The ZIP is written to a temporary file, never held in memory, and streamed to the lead.
"""

import hashlib
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from fpdf import FPDF

from cases.models import Case, CaseItem
from core.audit.services import audit_record
from core.errors import DomainError
from investigations.dossiers import (
    PDF_TABLE_ROWS,
    SEE_EVIDENCE_PERMISSION,
    SEE_IDENTITIES_PERMISSION,
    DossierContext,
    DossierFile,
    DossierSection,
    SectionOutput,
    dossier_sections,
    json_bytes,
)
from investigations.models import DossierExport, DossierSubject

#: Who may export a dossier (the Moderation leads group, migration 0002_dossiers).
EXPORT_PERMISSION = "investigations.export_dossier"
#: The largest dossier exported from a page: the files' total size, before compression.
DOSSIER_MAX_BYTES = 100 * 1024 * 1024
_CHUNK = 1 << 20


@dataclass
class DossierResult:
    export: DossierExport
    #: The ZIP, positioned at its start; the caller closes it.
    file: IO[bytes]
    filename: str


def _file_bytes(entry: DossierFile) -> Any:
    if entry.content is not None:
        yield entry.content
        return
    with entry.open() as handle:
        yield from iter(lambda: handle.read(_CHUNK), b"")


def _write(archive: zipfile.ZipFile, path: str, chunks: Any) -> tuple[str, int]:
    """Write one file into the ZIP, hashing it on the way: (sha256, size)."""
    digest, size = hashlib.sha256(), 0
    with archive.open(path, "w", force_zip64=True) as target:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return digest.hexdigest(), size


# --- the PDF ----------------------------------------------------------------------------------------

#: Dashes, ellipsis, curly quotes and arrows, which Latin-1 lacks, as their ASCII look-alikes.
_PDF_REPLACEMENTS = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2026": "...",
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u2192": "->",
    }
)


def _latin1(text: Any) -> str:
    """The PDF's core fonts cover Latin-1: other characters are approximated or shown as "?"."""
    text = unicodedata.normalize("NFKC", str(text)).translate(_PDF_REPLACEMENTS)
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(*, title: str, context: DossierContext, parts: list[tuple[DossierSection, SectionOutput]]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(title))
    pdf.set_creator("MarketSafe")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        _latin1(
            f"Exported {context.now:%Y-%m-%d %H:%M} UTC by {context.actor.get_username()}. "
            "Every file of the ZIP is listed with its SHA-256 in manifest.json and MANIFEST.sha256 "
            "(check with: sha256sum -c MANIFEST.sha256). "
            + ("Identities are in clear." if context.identities_in_clear else "Sellers' identities are pseudonymised.")
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for section, output in parts:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin1(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for label, value in output.summary:
            pdf.multi_cell(0, 5, _latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
        table = output.table
        if table and table.rows:
            shown = table.rows[:PDF_TABLE_ROWS]
            pdf.ln(1)
            with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True) as grid:
                for values in [table.headers, *shown]:
                    row = grid.row()
                    for value in values:
                        row.cell(_latin1(value)[:120])
            if len(table.rows) > len(shown):
                pdf.multi_cell(
                    0,
                    5,
                    f"... and {len(table.rows) - len(shown)} more rows in case.json.",
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
    return bytes(pdf.output())


# --- the export -------------------------------------------------------------------------------------


def case_context(*, case: Case, actor: Any, now: datetime) -> DossierContext:
    listing_ids = sorted(set(CaseItem.objects.filter(case=case).values_list("listing_id", flat=True)))
    return DossierContext(
        subject_kind=DossierSubject.CASE,
        subject_id=case.pk,
        case=case,
        case_ids=[case.pk],
        listing_ids=listing_ids,
        actor=actor,
        identities_in_clear=actor.has_perm(SEE_IDENTITIES_PERMISSION),
        include_evidence=actor.has_perm(SEE_EVIDENCE_PERMISSION),
        now=now,
    )


def dossier_export(*, case_id: int, actor: Any) -> DossierResult:
    """Export the dossier of case `case_id` for `actor` (a moderation lead): the ZIP, its record and its
    audit event. Refused without `investigations.export_dossier`, or over `DOSSIER_MAX_BYTES`."""
    if not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Only moderation leads export referral dossiers.")
    case = Case.objects.select_related("brand").get(pk=case_id)
    now = timezone.now()
    context = case_context(case=case, actor=actor, now=now)
    parts = [(section, section.build(context)) for section in dossier_sections(context.subject_kind)]
    files = [entry for _, output in parts for entry in output.files]
    total = sum(entry.length for entry in files)
    if total > DOSSIER_MAX_BYTES:
        raise DomainError(
            f"The dossier of {case} would hold {total / 2**20:.0f} MB of files; exports from this page stop at "
            f"{DOSSIER_MAX_BYTES // 2**20} MB."
        )
    title = f"Referral dossier: {case} ({case.brand.legal_name or case.brand.name})"
    document = {
        "subject": {"kind": context.subject_kind, "id": context.subject_id},
        "exported_at": now.isoformat(),
        "sections": {section.key: output.data for section, output in parts},
    }
    generated = [
        DossierFile("dossier.pdf", content=render_pdf(title=title, context=context, parts=parts)),
        DossierFile(f"{context.subject_kind}.json", content=json_bytes(document)),
    ]
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, whose response closes it
    try:
        return _export(
            case=case,
            actor=actor,
            context=context,
            parts=parts,
            title=title,
            spool=spool,
            files=[*generated, *files],
            document=document,
        )
    except BaseException:
        spool.close()
        raise


def _export(
    *,
    case: Case,
    actor: Any,
    context: DossierContext,
    parts: list[tuple[DossierSection, SectionOutput]],
    title: str,
    spool: IO[bytes],
    files: list[DossierFile],
    document: dict[str, Any],
) -> DossierResult:
    now = context.now
    listed: list[dict[str, Any]] = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in files:
            sha256, size = _write(archive, entry.path, _file_bytes(entry))
            listed.append({"path": entry.path, "size": size, "sha256": sha256})
        manifest = {
            "subject": document["subject"],
            "title": title,
            "exported_at": now.isoformat(),
            "exported_by": actor.get_username(),
            "identities_in_clear": context.identities_in_clear,
            "sections": [section.key for section, _ in parts],
            "algorithm": "sha256",
            "files": listed,
        }
        manifest_sha, _ = _write(archive, "manifest.json", [json_bytes(manifest)])
        lines = "".join(
            f"{f['sha256']}  {f['path']}\n" for f in [*listed, {"sha256": manifest_sha, "path": "manifest.json"}]
        )
        sums_sha, _ = _write(archive, "MANIFEST.sha256", [lines.encode()])
    spool.seek(0)
    zip_digest = hashlib.sha256()
    for chunk in iter(lambda: spool.read(_CHUNK), b""):
        zip_digest.update(chunk)
    size = spool.tell()
    spool.seek(0)
    with transaction.atomic():
        export = DossierExport.objects.create(
            subject_kind=context.subject_kind,
            case=case,
            exported_by=actor,
            identities_in_clear=context.identities_in_clear,
            sections=manifest["sections"],
            files=len(listed) + 2,
            size=size,
            manifest_sha256=sums_sha,
            zip_sha256=zip_digest.hexdigest(),
        )
        audit_record(
            action="dossier.export",
            target=case,
            actor=actor,
            # No brand: the export is the staff's own act, kept off the brand's timeline of the case.
            reason=f"Referral dossier {export.pk} exported.",
            data={
                "export": export.pk,
                "manifest_sha256": sums_sha,
                "zip_sha256": export.zip_sha256,
                "files": export.files,
                "identities_in_clear": context.identities_in_clear,
            },
        )
    return DossierResult(export=export, file=spool, filename=f"dossier-case-{case.pk}-{now:%Y%m%d-%H%M%S}.zip")
