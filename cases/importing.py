"""Filing a case from a form: the listing rows (pasted or from a CSV), their dry-run preview, and the
server-side draft that carries the validated filing from the preview to the submit.

Three layers, each usable on its own:

1. Parsing (`parse_pasted`, `parse_csv`): pure functions from the user's text or bytes to numbered rows.
   A problem with the whole file (wrong encoding, no header, quoting that cannot be parsed, too many
   rows) raises a ValidationError naming the row; a problem with one row is recorded on that row.
   Cells are only ever read as text: one that starts like a formula (=, +, -, @) is kept verbatim and
   flagged, never evaluated.
2. Checking (`RowChecker`): the database checks of each row (bad URL, unknown marketplace, duplicate
   in the file, already reported in one of the brand's open cases), with a constant number of queries
   per call whatever the row count.
3. Drafts (`draft_create`, `draft_check`, `draft_submit`, `draft_file`): a `CaseDraft` row keeps the
   filing between preview and submit. Its payload is the form's `services.FilingRequest`; its row
   columns hold the listings, whose valid rows are added to the request when it is filed. A row in
   PostgreSQL rather than the session because the evidence files must be kept (in private storage)
   without a second upload, because a Celery worker must be able to read the rows and write its
   progress where the progress page can see it, and because a preview of a thousand rows does not
   belong in a signed cookie or a session blob rewritten on every request. Nothing of the case exists
   until `draft_file` calls `case_submit`, in one transaction.

Small filings are checked and filed inside the request; above `IMPORT_INLINE_MAX_ROWS` rows both steps
go to Celery (`cases.tasks`) with the progress kept on the draft row.
"""

import codecs
import csv
import io
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from brands.choices import Capability
from brands.models import Brand
from brands.selectors import membership_for
from cases import services
from cases.models import Case, CaseDraft, CaseItem
from core.csvexport import FORMULA_TRIGGERS
from core.errors import Conflict
from core.queue import send_on_commit
from listings.models import Listing, Marketplace
from listings.services import (
    NotAListingUrl,
    UnknownMarketplace,
    listing_external_id,
    listing_keys_query,
    marketplace_for_host,
    normalise_listing_url,
)

#: The CSV template's columns; `note` is optional and becomes the item's note for the moderator.
CSV_COLUMNS = ("url", "note")
NOTE_MAX_CHARS = 2000
URL_MAX_CHARS = Listing._meta.get_field("url").max_length
#: Rows a background check handles between two progress updates.
CHECK_CHUNK_ROWS = 250
#: A draft the sweep finds in CHECKING or FILING without progress for this long lost its task.
STALLED_AFTER = timedelta(minutes=2)
#: A draft with no progress at all this long after it was queued: its message never reached a worker (the
#: broker was down when it was sent, or lost it). Re-sent sooner than a stalled one, so a filing made during
#: a broker outage goes ahead about a minute after the broker is back.
UNSTARTED_AFTER = timedelta(minutes=1)


def _rules() -> dict:
    return settings.MARKETSAFE


def max_rows() -> int:
    return _rules()["MAX_ITEMS_PER_CASE"]


def inline_max_rows() -> int:
    """Above this many rows, checking and filing run in Celery rather than in the request."""
    return _rules().get("IMPORT_INLINE_MAX_ROWS", 200)


def draft_lifetime() -> timedelta:
    return _rules().get("CASE_DRAFT_LIFETIME", timedelta(hours=24))


# --- rows -----------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One input row: what the user gave, what it resolved to and what is wrong with it.

    Rows with warnings are filed; rows with errors are not.
    """

    number: int
    raw: str
    note: str = ""
    url: str = ""
    marketplace: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        return "warning" if self.warnings else "ok"

    @property
    def messages(self) -> list[str]:
        return [*self.errors, *self.warnings]


@dataclass
class Preview:
    """The dry run of a filing: every row with its problems, before anything is saved."""

    rows: list[PreviewRow]

    @classmethod
    def from_json(cls, rows: Sequence[dict[str, Any]]) -> "Preview":
        return cls(rows=[PreviewRow(**row) for row in rows])

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(row) for row in self.rows]

    @property
    def valid(self) -> list[PreviewRow]:
        return [row for row in self.rows if not row.errors]

    @property
    def problems(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.errors or row.warnings]

    @property
    def invalid_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def warning_count(self) -> int:
        return sum(1 for row in self.rows if row.warnings and not row.errors)


# --- parsing --------------------------------------------------------------------------------------


def _flag_formula(row: PreviewRow, value: str, what: str) -> None:
    if value.startswith(FORMULA_TRIGGERS):
        shown = {"\t": "a tab", "\r": "a carriage return"}.get(value[0], f"“{value[0]}”")
        row.warnings.append(f"The {what} starts with {shown}: it is kept as text and never evaluated as a formula.")


def _row(number: int, url: str, note: str = "") -> PreviewRow:
    row = PreviewRow(number=number, raw=url, note=note)
    _flag_formula(row, url, "URL")
    _flag_formula(row, note, "note")
    if not url:
        row.errors.append("No listing URL in this row.")
    if len(note) > NOTE_MAX_CHARS:
        row.errors.append(f"The note has {len(note):,} characters; the limit is {NOTE_MAX_CHARS:,}.")
    return row


def _too_many() -> ValidationError:
    return ValidationError(
        f"There are more than {max_rows():,} listings; a case holds at most {max_rows():,}. Split them over "
        "several cases.",
        code="too_many_rows",
    )


def parse_pasted(text: str) -> list[PreviewRow]:
    """One URL per line; blank lines are ignored but counted, so row numbers match the line numbers."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            rows.append(_row(number, line.strip()))
            if len(rows) > max_rows():
                raise _too_many()
    if not rows:
        raise ValidationError("Paste at least one listing URL.", code="empty")
    return rows


def _decode(data: bytes, *, name: str) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused with the row of the first bad byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationError(
            f"{name} is UTF-16 text, not UTF-8. In your spreadsheet choose “Save as… CSV UTF-8” and upload it again.",
            code="encoding",
        )
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = body[: exc.start].count(b"\n") + 1
        byte = len(data) - len(body) + exc.start + 1
        raise ValidationError(
            f"{name} is not UTF-8 (row {row}, byte {byte}). In your spreadsheet choose “Save as… CSV UTF-8” and "
            "upload it again.",
            code="encoding",
        ) from exc


def _printable(text: str) -> str:
    """`text` with control characters (a NUL byte from the file, ...) shown escaped, never raw."""
    return "".join(
        f"\\x{ord(char):02x}" if unicodedata.category(char) == "Cc" and char != "\t" else char for char in text
    )


def parse_csv(data: bytes, *, name: str) -> list[PreviewRow]:
    """The template's columns (`url`, optional `note`) under a required header row; other columns are ignored.

    `name` (the uploaded file's) starts the messages of problems with the whole file.

    Row numbers are the spreadsheet's: the header is row 1. Parsing stops as soon as the file has more
    rows than a case may hold, so an oversized upload costs no more than that.
    """
    reader = csv.reader(io.StringIO(_decode(data, name=name), newline=""), strict=True)
    rows: list[PreviewRow] = []
    header: list[str] | None = None
    number = 0
    blank: list[int] = []  # blank rows since the last listing: reported once a listing follows them
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                if header is not None:
                    blank.append(number)
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                if "url" not in header:
                    raise ValidationError(
                        f"Row {number} of {name} must be the header “url,note” (download the template); "
                        f"it reads “{_printable(','.join(cells)[:80])}”.",
                        code="header",
                    )
                continue
            # A blank row between listings is said to be skipped (trailing ones end the sheet silently).
            rows.extend(PreviewRow(number=n, raw="", errors=["Blank row: skipped."]) for n in blank)
            blank.clear()
            values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
            row = _row(number, values.get("url", ""), values.get("note", ""))
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
                row.errors.append(f"The row has {len(cells)} cells but the header {len(header)}; check its commas.")
            rows.append(row)
            if len(rows) > max_rows():
                raise _too_many()
    except csv.Error as exc:
        raise ValidationError(
            f"Row {number + 1} of {name} is not valid CSV ({exc}); check the quotes in that row.", code="malformed"
        ) from exc
    if not rows:
        raise ValidationError(f"{name} has no listing rows under its header.", code="empty")
    return rows


# --- checking -------------------------------------------------------------------------------------


class RowChecker:
    """Resolves and checks rows against the portal's marketplaces and the brand's open cases.

    Keeps the URLs it has seen, so a file checked in several chunks still finds its duplicates. Each
    `check` call costs one query (the brand's open items among the chunk's URLs), plus one for the
    marketplaces when the checker is built.
    """

    def __init__(self, *, brand: Brand) -> None:
        self.brand = brand
        self.marketplaces = list(Marketplace.objects.filter(is_active=True))
        self.seen: dict[str, int] = {}
        #: (marketplace id, listing id) → the row that first named that listing, whatever its URL's form.
        self.seen_listings: dict[tuple[int, str], int] = {}

    def check(self, rows: Sequence[PreviewRow]) -> None:
        """Fill in each row's normalised URL and marketplace, and record its problems (in place)."""
        fresh: list[tuple[PreviewRow, tuple[int, str] | None]] = []
        for row in rows:
            if row.errors:
                continue
            try:
                row.url = normalise_listing_url(row.raw)
            except ValueError:
                row.errors.append("Not a listing URL: it must start with http:// or https:// and name a host.")
                continue
            if len(row.url) > URL_MAX_CHARS:
                row.errors.append(f"The URL is longer than {URL_MAX_CHARS:,} characters.")
                continue
            host = urlsplit(row.url).hostname or ""
            try:
                marketplace = marketplace_for_host(host, self.marketplaces)
            except UnknownMarketplace as exc:
                row.errors.append(f"Unknown marketplace: no marketplace in the portal hosts {exc}.")
                continue
            row.marketplace = marketplace.name
            try:
                external_id = listing_external_id(marketplace, row.url)
            except NotAListingUrl as exc:
                row.errors.append(str(exc))
                continue
            if row.url in self.seen:
                row.errors.append(f"Duplicate of row {self.seen[row.url]}.")
                continue
            key = (marketplace.pk, external_id) if external_id is not None else None
            if key is not None and key in self.seen_listings:
                first = self.seen_listings[key]
                row.errors.append(f"Names the same listing as row {first} ({marketplace.name} listing {external_id}).")
                continue
            self.seen[row.url] = row.number
            if key is not None:
                self.seen_listings[key] = row.number
            fresh.append((row, key))
        keys = [key for _, key in fresh if key is not None]
        open_items = (
            CaseItem.objects.for_brand(self.brand)
            .open()
            .filter(Q(listing__url__in=[row.url for row, _ in fresh]) | listing_keys_query(keys, prefix="listing__"))
            .values_list("listing__url", "listing__marketplace_id", "listing__external_id", "case_id")
        )
        by_url: dict[str, int] = {}
        by_key: dict[tuple[int, str], int] = {}
        for url, marketplace_id, external_id, case_id in open_items:
            by_url[url] = case_id
            if external_id is not None:
                by_key[(marketplace_id, external_id)] = case_id
        for row, key in fresh:
            case_id = by_url.get(row.url) or (by_key.get(key) if key is not None else None)
            if case_id is not None:
                row.errors.append(f"Already reported in your open case #{case_id}.")


def preview_rows(*, brand: Brand, rows: Sequence[PreviewRow]) -> Preview:
    """The dry run of `rows` for `brand`, in two queries whatever the row count."""
    RowChecker(brand=brand).check(rows)
    return Preview(rows=list(rows))


# --- drafts ---------------------------------------------------------------------------------------


class StaleDraft(Conflict):
    """The form or draft can no longer be used (expired, already filed, nothing left to file)."""

    def __init__(self, message: str, *, case: Case | None = None) -> None:
        super().__init__(message)
        self.case = case


def draft_request(draft: CaseDraft) -> services.FilingRequest:
    """The filing request a draft holds (a draft stored before the request type included)."""
    return services.FilingRequest.from_payload(
        draft.payload, brand_id=draft.brand_id, actor_id=draft.created_by_id, idempotency_key=draft.idempotency_key
    )


def draft_create(
    *,
    request: services.FilingRequest,
    rows: Sequence[PreviewRow],
    pasted: str = "",
    replaces: CaseDraft | None = None,
    then: str | None = None,
) -> CaseDraft:
    """Keep a filing request and its listing rows as a draft and start the rows' check (inline when
    small, in Celery otherwise).

    The request's evidence is already stored (`services.evidence_staged(..., keep=True)`, which deletes
    it again if this raises); the draft deletes it once filed. `replaces` is the draft the user went
    back to fix: the new draft takes it over, keeping its evidence files when no new ones were uploaded.
    `pasted` is the textarea's text, kept to reopen the form. A request whose idempotency key already
    filed a case raises StaleDraft naming that case, so a resubmitted old form never files twice.
    `then` files the draft as soon as it is checked, with nobody to confirm the preview (the API's
    asynchronous import): "file_valid" files the valid rows, "file_if_all_valid" fails the draft when a
    row has errors.
    """
    filed = Case.objects.for_brand(request.brand_id).filter(idempotency_key=request.idempotency_key).first()
    if filed is not None:
        raise StaleDraft(f"This form was already filed as case #{filed.pk}.", case=filed)
    with transaction.atomic():
        if replaces is not None:
            old = CaseDraft.objects.select_for_update().filter(pk=replaces.pk).first()
            if old is not None and old.state in {CaseDraft.State.FILING, CaseDraft.State.FILED}:
                raise StaleDraft("This draft is already filed.", case=old.case)
            if old is not None:  # else the sweep deleted it (and its files) meanwhile
                kept = draft_request(old).evidence
                if not request.evidence:
                    request = replace(request, evidence=kept)
                elif kept:
                    transaction.on_commit(lambda: services.evidence_discard(kept))
                old.delete()
        draft = CaseDraft.objects.create(
            brand_id=request.brand_id,
            created_by_id=request.actor_id,
            idempotency_key=request.idempotency_key,
            payload={**request.to_payload(), "pasted": pasted, **({"then": then} if then else {})},
            input_rows=Preview(rows=list(rows)).to_json(),
            rows_total=len(rows),
            expires_at=timezone.now() + draft_lifetime(),
        )
        if len(rows) > inline_max_rows():
            from cases.tasks import preview_case_draft  # tasks import this module

            send_on_commit(preview_case_draft, str(draft.pk))
        else:
            draft_check(draft_id=draft.pk)
            draft.refresh_from_db()
    return draft


def _may_file(draft: CaseDraft) -> bool:
    """The draft's author is still an active member allowed to file for the draft's brand."""
    membership = membership_for(user=draft.created_by, brand=draft.brand)
    return membership is not None and membership.can(Capability.FILE)


def draft_check(*, draft_id: uuid.UUID | str) -> CaseDraft | None:
    """Compute the preview of a draft in CHECKING, in chunks whose progress the progress page shows.

    Safe to run twice or concurrently: the result is written only while the draft is still in
    CHECKING, and a draft replaced or deleted meanwhile is left alone.
    """
    draft = CaseDraft.objects.select_related("brand", "created_by").filter(pk=draft_id).first()
    if draft is None or draft.state != CaseDraft.State.CHECKING:
        return draft
    pending = CaseDraft.objects.filter(pk=draft.pk, state=CaseDraft.State.CHECKING)
    if not _may_file(draft):
        pending.update(state=CaseDraft.State.FAILED, errors=["You may no longer file cases for this brand."])
        return CaseDraft.objects.filter(pk=draft.pk).first()
    preview = Preview.from_json(draft.input_rows)
    checker = RowChecker(brand=draft.brand)
    for start in range(0, len(preview.rows), CHECK_CHUNK_ROWS):
        chunk = preview.rows[start : start + CHECK_CHUNK_ROWS]
        checker.check(chunk)
        if start + len(chunk) < len(preview.rows):
            pending.update(rows_done=start + len(chunk), updated_at=Now())
    pending.update(
        checked_rows=preview.to_json(), rows_done=len(preview.rows), state=CaseDraft.State.READY, updated_at=Now()
    )
    then = draft.payload.get("then")
    if then == "file_if_all_valid" and preview.invalid_count:
        CaseDraft.objects.filter(pk=draft.pk, state=CaseDraft.State.READY).update(
            state=CaseDraft.State.FAILED,
            errors=[
                f"{preview.invalid_count:,} rows have errors (see rows); nothing was filed. Fix them, or send "
                "skip_invalid to file the valid rows."
            ],
            updated_at=Now(),
        )
    elif then in {"file_valid", "file_if_all_valid"}:
        try:
            draft_submit(draft_id=draft.pk)
        except StaleDraft as exc:
            CaseDraft.objects.filter(pk=draft.pk, state=CaseDraft.State.READY).update(
                state=CaseDraft.State.FAILED, errors=[str(exc)], updated_at=Now()
            )
    return CaseDraft.objects.filter(pk=draft.pk).first()


def draft_preview(draft: CaseDraft) -> Preview:
    """The checked rows of a draft (its input rows while the check is still running)."""
    return Preview.from_json(draft.checked_rows if draft.checked_rows is not None else draft.input_rows)


def draft_is_expired(draft: CaseDraft) -> bool:
    return draft.expires_at <= timezone.now()


def _locked_drafts() -> QuerySet[CaseDraft]:
    # Lock the draft row only: its brand and author are read along but must stay free for everyone else.
    return CaseDraft.objects.select_for_update(of=("self",)).select_related("brand", "created_by")


def draft_submit(*, draft_id: uuid.UUID | str) -> CaseDraft:
    """The user confirmed the preview: file the valid rows now, or queue the filing when they are many.

    A second submit of the same draft (a double click, a reload) finds it filing or filed and returns it:
    the draft row lock serialises them, and `case_submit`'s idempotency key backs that up.
    """
    with transaction.atomic():
        draft = _locked_drafts().get(pk=draft_id)
        if draft.state in {CaseDraft.State.FILING, CaseDraft.State.FILED}:
            return draft
        if draft.state != CaseDraft.State.READY:
            raise StaleDraft("This preview cannot be filed; go back to the form and preview again.")
        if draft_is_expired(draft):
            raise StaleDraft("This preview has expired; fill in the form and preview again.")
        valid = len(draft_preview(draft).valid)
        if not valid:
            raise StaleDraft("No listing in this preview can be filed; go back to the form and fix the rows.")
        draft.state = CaseDraft.State.FILING
        draft.rows_done = 0
        draft.save(update_fields=["state", "rows_done", "updated_at"])
        if valid > inline_max_rows():
            from cases.tasks import file_case_draft  # tasks import this module

            send_on_commit(file_case_draft, str(draft.pk))
            return draft
        return _file_locked(draft)


def draft_file(*, draft_id: uuid.UUID | str) -> CaseDraft | None:
    """File a draft that is in FILING (the background half of `draft_submit`); a no-op otherwise."""
    with transaction.atomic():
        draft = _locked_drafts().filter(pk=draft_id).first()
        if draft is None or draft.state != CaseDraft.State.FILING:
            return draft
        return _file_locked(draft)


def _file_locked(draft: CaseDraft) -> CaseDraft:
    """File the request of a locked draft in FILING with its valid rows; record the case, or the reasons
    it was refused (the draft keeps its evidence files then, to be fixed and filed again)."""
    if not _may_file(draft):
        return _fail(draft, ["You may no longer file cases for this brand."])
    request = draft_request(draft).with_listings(draft_preview(draft).valid)
    try:
        case = services.case_submit(request=request)
    except ValidationError as exc:
        return _fail(draft, exc.messages)
    draft.state = CaseDraft.State.FILED
    draft.case = case
    draft.rows_done = draft.rows_total
    draft.errors = []
    draft.save(update_fields=["state", "case", "rows_done", "errors", "updated_at"])
    # The case holds its own copies of the evidence now.
    transaction.on_commit(lambda: services.evidence_discard(request.evidence))
    return draft


def _fail(draft: CaseDraft, errors: list[str]) -> CaseDraft:
    draft.state = CaseDraft.State.FAILED
    draft.errors = errors
    draft.save(update_fields=["state", "errors", "updated_at"])
    return draft


def draft_fail(*, draft_id: uuid.UUID | str, error: str) -> None:
    """Mark a draft whose background check or filing crashed as failed, so its page says so."""
    CaseDraft.objects.filter(pk=draft_id, state__in=[CaseDraft.State.CHECKING, CaseDraft.State.FILING]).update(
        state=CaseDraft.State.FAILED, errors=[error], updated_at=Now()
    )


def drafts_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired drafts (and their files), and re-queue drafts whose background task was lost.

    Lost: CHECKING or FILING with no progress for STALLED_AFTER (a worker killed, a Redis message
    dropped), or not started UNSTARTED_AFTER after it was queued (the message was never published because
    the broker was down, see `core.queue`). Re-running is safe because both tasks act only on a draft
    still in that state.
    """
    from cases.tasks import file_case_draft, preview_case_draft  # tasks import this module

    now = now or timezone.now()
    with transaction.atomic():
        # Locked, so a user reopening one of these drafts meanwhile waits and then finds it gone.
        expired = list(
            CaseDraft.objects.select_for_update(skip_locked=True)
            .filter(expires_at__lte=now)
            .exclude(state=CaseDraft.State.FILING)
        )
        CaseDraft.objects.filter(pk__in=[draft.pk for draft in expired]).delete()
        files = [entry for draft in expired for entry in draft_request(draft).evidence]
        transaction.on_commit(lambda: services.evidence_discard(files))
    stalled = (
        CaseDraft.objects.filter(state__in=[CaseDraft.State.CHECKING, CaseDraft.State.FILING])
        .filter(Q(updated_at__lt=now - STALLED_AFTER) | Q(rows_done=0, updated_at__lt=now - UNSTARTED_AFTER))
        .values_list("pk", "state")
    )
    requeued = 0
    for draft_id, state in stalled:
        task = preview_case_draft if state == CaseDraft.State.CHECKING else file_case_draft
        task.delay(str(draft_id))
        requeued += 1
    return {"deleted": len(expired), "requeued": requeued}
