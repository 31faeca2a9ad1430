"""Filing a case through the API with exactly the web form's validation.

The request's fields are run through `cases.forms.CaseFilingForm` (rights usable by the brand, reason,
explanation, evidence files checked by content and required per lane and reason, the three
declarations, the typed signature, the CSV file), its listing rows through `cases.importing`'s parsing
and `RowChecker` (bad URL, unknown marketplace, duplicate, already reported in an open case), and the
form's `FilingRequest`, with the valid rows, is carried out by `cases.services.case_submit` (the service
the pages' drafts are filed by) in one transaction. Problems come back per field and, for listings, per
item (by position in `listings`/`listing_urls`, by spreadsheet row for `listing_file`).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.datastructures import MultiValueDict
from rest_framework import serializers

from brands.models import Brand, IPRight
from brands.selectors import brand_lane
from cases import importing, services
from cases.choices import Channel
from cases.forms import DECLARATION_FIELDS, CaseFilingForm
from cases.models import Case, CaseDraft
from core.api.exceptions import form_validation_error


@dataclass
class Filing:
    """A validated filing: the web form that validated it and every listing row, checked."""

    form: CaseFilingForm
    preview: importing.Preview
    channel: str
    #: The request field the rows came from, which their errors are reported under.
    rows_field: str


def _rows_from_listings(listings: list[dict[str, str]]) -> list[importing.PreviewRow]:
    # Numbered from 0: the row number is the item's index in the request, as its errors are keyed.
    return [importing._row(i, entry["url"].strip(), entry.get("note", "").strip()) for i, entry in enumerate(listings)]


def validate_filing(
    *, brand: Brand, user: Any, attrs: dict[str, Any], require_file: bool = False, check_rows: bool = True
) -> Filing:
    """Run `attrs` (a serializer's validated fields) through the web form and the row checks (only the
    parsing when not `check_rows`: the rows of a large import are checked in the background)."""
    listings = attrs.get("listings")
    if listings is None and attrs.get("listing_urls"):
        listings = [{"url": url} for url in attrs["listing_urls"]]
    upload = attrs.get("listing_file")
    sources = [name for name in ("listings", "listing_urls", "listing_file") if attrs.get(name)]
    if len(sources) > 1:
        raise serializers.ValidationError({sources[1]: [f"Give the listings once: {' or '.join(sources)}, not both."]})
    if require_file and upload is None:
        raise serializers.ValidationError({"listing_file": ["Upload the CSV file (columns url and note)."]})
    rows_field = "listing_file" if upload is not None else ("listings" if attrs.get("listings") else "listing_urls")
    data = {
        "idempotency_key": str(uuid.uuid4()),  # the form's double-submit guard; the API's is the header
        "rights": attrs.get("rights", []),
        "reason_code": attrs.get("reason_code", ""),
        "explanation": attrs.get("explanation", ""),
        "evidence_kind": attrs.get("evidence_kind", ""),
        "signed_name": attrs.get("signed_name", ""),
        # The form's own checks of the list as a whole (none given, too many); the rows are rebuilt below
        # with their notes.
        "listing_urls": "\n".join(entry["url"].replace("\n", " ") or "-" for entry in listings or []),
        **{name: attrs.get(name, False) for name in DECLARATION_FIELDS},
    }
    files = MultiValueDict({"evidence": list(attrs.get("evidence") or [])})
    if upload is not None:
        files["listing_file"] = upload
    lane = brand_lane(brand)
    form = CaseFilingForm(
        data,
        files,
        rights=IPRight.objects.for_user(user, brand=brand).usable(),
        lane=lane,
        brand_name=brand.name,
    )
    if not form.is_valid():
        error = form_validation_error(form)
        if "listing_urls" in error.detail:
            error.detail[rows_field] = error.detail.pop("listing_urls")
        raise error
    rows = form.cleaned_data["rows"] if upload is not None else _rows_from_listings(listings or [])
    preview = importing.preview_rows(brand=brand, rows=rows) if check_rows else importing.Preview(rows=list(rows))
    return Filing(form=form, preview=preview, channel=Channel.CSV if upload else Channel.API, rows_field=rows_field)


def row_errors(filing: Filing) -> dict[str, dict[str, list[str]]]:
    """{rows field: {row: messages}} of the rows that cannot be filed."""
    bad = {str(row.number): row.errors for row in filing.preview.rows if row.errors}
    return {filing.rows_field: bad} if bad else {}


def _request(filing: Filing, *, brand: Brand, user: Any, ip_address: str | None, **fields: Any) -> Any:
    """The web form's `FilingRequest` of `filing`, with the API's channel (`fields`: evidence, key)."""
    return filing.form.filing_request(
        brand_id=brand.pk, actor_id=user.pk, ip_address=ip_address, channel=filing.channel, **fields
    )


def submit(*, filing: Filing, brand: Brand, user: Any, ip_address: str | None, idempotency_key: str) -> Case:
    """File the filing's valid rows: the web form's `FilingRequest` carried out by `case_submit` (all or
    nothing), with the API's channel and Idempotency-Key."""
    with services.evidence_staged(filing.form.cleaned_data["evidence"]) as evidence:
        request = _request(
            filing, brand=brand, user=user, ip_address=ip_address, evidence=evidence, idempotency_key=idempotency_key
        )
        return services.case_submit(request=request.with_listings(filing.preview.valid))


def filed_with_key(*, brand: Brand, idempotency_key: str) -> Case | None:
    """The case an earlier request with this Idempotency-Key filed, if any."""
    if not idempotency_key:
        return None
    return Case.objects.for_brand(brand).filter(idempotency_key=idempotency_key).first()


def import_started_with_key(*, brand: Brand, idempotency_key: str) -> CaseDraft | None:
    """The background import an earlier request with this Idempotency-Key started (checking, filing,
    filed or failed), if any: only the API's imports (`then` set), not the web form's drafts."""
    if not idempotency_key:
        return None
    drafts = CaseDraft.objects.filter(brand=brand, idempotency_key=idempotency_key, payload__has_key="then")
    return drafts.order_by("created_at").first()


def start_import(
    *,
    filing: Filing,
    brand: Brand,
    user: Any,
    ip_address: str | None,
    idempotency_key: str,
    dry_run: bool,
    skip_invalid: bool,
) -> CaseDraft:
    """Hand a large CSV import to the background, as the web form's drafts are: its rows are checked in
    Celery, then (unless `dry_run`) filed, refused as a whole when a row has errors and not `skip_invalid`.
    The draft is the import's status (`GET case-imports/<id>/`).

    A repeated Idempotency-Key returns the draft the first request started, never a second one: the
    key's lock (`filing_key_lock`, also held by the filing itself) makes a concurrent repeat wait until
    the first draft is committed, then find it."""
    with transaction.atomic():
        if idempotency_key:
            services.filing_key_lock(brand_id=brand.pk, idempotency_key=idempotency_key)
            earlier = import_started_with_key(brand=brand, idempotency_key=idempotency_key)
            if earlier is not None:
                return earlier
        with services.evidence_staged(filing.form.cleaned_data["evidence"], keep=True) as evidence:
            key = idempotency_key or str(uuid.uuid4())
            request = _request(
                filing, brand=brand, user=user, ip_address=ip_address, evidence=evidence, idempotency_key=key
            )
            return importing.draft_create(
                request=request,
                rows=filing.preview.rows,
                then=None if dry_run else ("file_valid" if skip_invalid else "file_if_all_valid"),
            )
