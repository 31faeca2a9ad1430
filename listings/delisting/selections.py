"""What a delisting job selects: the selection frozen in the job row, the SQL that lists its listing ids,
and the reading of an uploaded selection file.

Kinds of selection. The engine understands three by itself (`DelistSelectionKind`): a seller's live
listings (expanded at planning), a list of listing ids, and an uploaded file of URLs or ids. Anything
else is a kind a higher app registers (`listings.choices.register_delist_selection`) with a resolver that
turns its selection into listing ids: cases registers "given case items" and "a whole case". This app
knows nothing of cases, yet a job still says what it was about, under its own label, in the admin.

A registered kind is resolved once, when the job is created (in the caller's transaction, as when the
caller passed the ids itself), and its ids are frozen in the job like a list of ids; the resolver is not
needed again, so jobs planned or run later do not depend on it. Registered kinds keep the values jobs
were stored with before (`case_items`, `case`): no row needed converting, so there is no data migration,
only the field's choices became a callable of the registered kinds.
"""

from collections.abc import Iterable, Iterator

from django.core.files import File

from core.errors import DomainError
from listings.choices import DelistSelectionKind, registered_delist_selection
from listings.delisting.common import MAX_BIGINT
from listings.models import DelistJob
from listings.services import normalise_listing_url


class SelectionUnreadable(DomainError):
    """The job's selection file cannot be read: no retry would bring it back."""


def frozen_selection(
    kind: str, selection: dict, listing_ids: Iterable[int] | None, file: File | None
) -> tuple[str, dict]:
    """(the kind, the selection to store) for a new job; refuses inputs that do not fit the kind."""
    frozen = dict(selection)
    if (kind == DelistSelectionKind.FILE) != (file is not None):
        raise ValueError("an uploaded file goes with a file selection, and a file selection needs one")
    registered = registered_delist_selection(kind)
    if registered is not None:
        if listing_ids is not None:
            raise ValueError(f"a selection of {registered.label.lower()} is resolved by its app: no listing_ids")
        listing_ids = registered.resolve(selection)
    else:
        kind = DelistSelectionKind(kind)
        if kind == DelistSelectionKind.LISTING_IDS and listing_ids is None:
            raise ValueError(f"a selection of {kind.label.lower()} needs listing_ids")
        if kind != DelistSelectionKind.LISTING_IDS and listing_ids is not None:
            raise ValueError("listing_ids go only with a list of ids")
        if kind == DelistSelectionKind.SELLER and not isinstance(selection.get("seller_id"), int):
            raise ValueError("a seller selection needs selection['seller_id']")
    if listing_ids is not None:
        # Frozen in the job row; planning expands the list inside PostgreSQL.
        frozen["listing_ids"] = sorted({int(pk) for pk in listing_ids})
    return kind, frozen


# Listing ids of every kind of selection, cut into chunks by `planning._cut_chunks`. Each is one SELECT
# with a single column `id` (a listing id) and the parameters named in it.

#: A seller's live listings: %(seller)s, %(live)s.
SELLER_LISTINGS = """
    -- status = ANY(live) implies the predicate of listing_seller_live_idx, which serves this scan.
    SELECT listing.id FROM listings_listing AS listing
    WHERE listing.seller_id = %(seller)s AND listing.status = ANY(%(live)s)
"""
#: The ids frozen in the job row: %(job)s.
PICKED_IDS = """
    SELECT picked.id::bigint AS id
    FROM listings_delistjob AS job
    CROSS JOIN LATERAL jsonb_array_elements_text(job.selection -> 'listing_ids') AS picked(id)
    WHERE job.id = %(job)s
"""


def file_lines(job: DelistJob) -> Iterator[str]:
    """The file's non-blank lines, stripped; read in chunks, never whole."""
    try:
        with job.selection_file.open("rb") as file:
            for raw in file:
                line = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
                if line:
                    yield line
    except OSError as exc:  # only the file's own errors: a lost database connection is no reason to fail
        raise SelectionUnreadable(str(exc)) from exc


def read_line(line: str) -> tuple[int | None, str | None, str]:
    """(listing id, normalised URL, what to say if neither names a listing) for one input line."""
    if line.isascii() and line.isdigit():
        number = int(line)
        return (number, None, "No listing has this id.") if number <= MAX_BIGINT else (None, None, "Id out of range.")
    try:
        return None, normalise_listing_url(line), "No listing has this URL."
    except ValueError:
        return None, None, "Neither a listing id nor a listing URL."
