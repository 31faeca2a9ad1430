"""A moderation lead starts a delisting job from pasted listing ids or URLs, or an uploaded text file.

Two steps, both at `/admin/listings/delistjob/start/`: the form (the reason, and the lines pasted or a file
of one listing id or URL per line) and its preview (how many lines name a listing, how many of those are
live and would be removed, and the lines that name none, with why); then the confirmation creates the job
through the engine (`listings.delisting.delist_job_create`, a list of ids) and opens the job's page.

Between the two steps the resolved ids wait in the cache under a random token bound to the lead (at most
`PREVIEW_SECONDS`), so the confirmation neither re-sends the list nor trusts ids posted back by the
browser; the token is also the job's idempotency key, so a double click starts one job. Who may start
jobs this way: `listings.add_delistjob` and `listings.change_delistjob` (moderation leads; superusers).
Kept apart from the job's own admin (`delisting`), which only plugs these URLs in.
"""

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

from listings import delisting
from listings.choices import LISTING_LIVE_STATUSES, DelistSelectionKind
from listings.delisting.selections import read_line
from listings.models import Listing

#: Who may start a job from a list (both: starting one, and managing jobs as the leads do).
START_PERMISSIONS = ("listings.add_delistjob", "listings.change_delistjob")
#: Lines one form takes; a longer selection is split into several jobs.
MAX_LINES = 100_000
#: Size of an uploaded selection file.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: How long a preview can be confirmed.
PREVIEW_SECONDS = 30 * 60
#: Lines naming no listing shown on the preview.
SHOWN_UNMATCHED = 20
#: Lines resolved per query.
BATCH = 5000


class DelistStartForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with the job and on every listing it removes.",
    )
    lines = forms.CharField(
        label="Listing ids or URLs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "123456\nhttps://shopnow.example/item/X1"}),
        help_text="One per line.",
    )
    file = forms.FileField(
        label="Or a file", required=False, help_text="A text or CSV file of one listing id or URL per line (UTF-8)."
    )

    def clean_file(self) -> list[str] | None:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; at most {MAX_FILE_BYTES // 1024 // 1024} MB."
            )
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(
                f"The file is not UTF-8 text (byte {error.start + 1} is not); save it as UTF-8 text or CSV."
            ) from error
        if "\x00" in text:
            raise forms.ValidationError("The file is not a text file.")
        return _lines(text)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pasted = _lines(cleaned.get("lines") or "")
        uploaded = cleaned.get("file")
        if "file" in self.errors:
            return cleaned
        if pasted and uploaded:
            raise forms.ValidationError("Paste the listings or upload a file, not both.")
        chosen = pasted or uploaded or []
        if not chosen:
            self.add_error("lines", "Paste at least one listing id or URL, or upload a file.")
        elif len(chosen) > MAX_LINES:
            self.add_error("file" if uploaded else "lines", f"{len(chosen):,} lines; at most {MAX_LINES:,} per job.")
        cleaned["selection"] = chosen
        return cleaned


def _lines(text: str) -> list[str]:
    """Non-blank lines, stripped; a CSV row counts by its first cell."""
    return [line.split(",", 1)[0].strip().strip('"') for line in text.splitlines() if line.strip()]


@dataclass
class Preview:
    lines: int = 0
    listing_ids: set[int] = field(default_factory=set)
    live: int = 0
    unmatched: list[tuple[int, str, str]] = field(default_factory=list)
    unmatched_count: int = 0

    @property
    def matched(self) -> int:
        return len(self.listing_ids)


def preview_selection(lines: list[str]) -> Preview:
    """What the lines name: listings found (by id or URL), how many are live, and the lines naming none."""
    preview = Preview(lines=len(lines))
    live_ids: set[int] = set()
    for offset, batch in enumerate(itertools.batched(lines, BATCH)):
        read = [read_line(line) for line in batch]
        ids = {pk for pk, _, _ in read if pk is not None}
        urls = {url for _, url, _ in read if url is not None}
        by_id = dict(Listing.objects.filter(pk__in=ids).values_list("pk", "status"))
        by_url = {
            url: (pk, status)
            for url, pk, status in Listing.objects.filter(url__in=urls).values_list("url", "pk", "status")
        }
        for n, (line, (pk, url, detail)) in enumerate(zip(batch, read, strict=True), start=offset * BATCH + 1):
            found = (pk, by_id[pk]) if pk in by_id else by_url.get(url) if url else None
            if found is None:
                preview.unmatched_count += 1
                if len(preview.unmatched) < SHOWN_UNMATCHED:
                    preview.unmatched.append((n, line[:200], detail))
                continue
            preview.listing_ids.add(found[0])
            if found[1] in LISTING_LIVE_STATUSES:
                live_ids.add(found[0])
    preview.live = len(live_ids)
    return preview


def _cache_key(token: str, user_id: int) -> str:
    return f"delist-start:{user_id}:{token}"


class DelistStartViews:
    """The two steps' views, plugged into the job's admin by `urls(model_admin)`."""

    def __init__(self, model_admin: ModelAdmin) -> None:
        self.model_admin = model_admin

    def urls(self) -> list[URLPattern]:
        wrap = self.model_admin.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name="listings_delistjob_start"),
            path("start/confirm/", wrap(self.confirm_view), name="listings_delistjob_start_confirm"),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not request.user.has_perms(START_PERMISSIONS):
            raise PermissionDenied

    def _render(self, request: HttpRequest, **context: Any) -> TemplateResponse:
        admin = self.model_admin
        return TemplateResponse(
            request,
            "admin/listings/delistjob/start.html",
            {
                **admin.admin_site.each_context(request),
                "opts": admin.opts,
                "title": "Start a delisting job from a list or a file",
                "confirm_url": reverse(f"{admin.admin_site.name}:listings_delistjob_start_confirm"),
                "max_lines": MAX_LINES,
                **context,
            },
        )

    @method_decorator(require_http_methods(["GET", "POST"]))
    def start_view(self, request: HttpRequest) -> HttpResponse:
        """The form; posted, its preview (nothing is created yet)."""
        self._check(request)
        if request.method == "GET":
            return self._render(request, form=DelistStartForm())
        form = DelistStartForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form=form)
        preview = preview_selection(form.cleaned_data["selection"])
        token = ""
        if preview.matched:
            token = secrets.token_urlsafe(16)
            cache.set(
                _cache_key(token, request.user.pk),
                {"ids": sorted(preview.listing_ids), "reason": form.cleaned_data["reason"].strip()},
                PREVIEW_SECONDS,
            )
        return self._render(request, form=form, preview=preview, token=token)

    @method_decorator(require_http_methods(["POST"]))
    def confirm_view(self, request: HttpRequest) -> HttpResponse:
        """Create the job the preview showed, then open its page."""
        self._check(request)
        token = request.POST.get("token", "")
        staged = cache.get(_cache_key(token, request.user.pk)) if token else None
        admin = self.model_admin
        if staged is None:
            messages.error(request, "This preview has expired or was already used: paste or upload the list again.")
            return redirect(f"{admin.admin_site.name}:listings_delistjob_start")
        with transaction.atomic():
            job = delisting.delist_job_create(
                selection_kind=DelistSelectionKind.LISTING_IDS,
                selection={},
                listing_ids=staged["ids"],
                actor=request.user,
                reason=staged["reason"],
                idempotency_key=f"staff-list-{request.user.pk}-{token}",
            )
        messages.success(request, f"Delisting job #{job.pk} started for {len(staged['ids']):,} listing(s).")
        return redirect(f"{admin.admin_site.name}:listings_delistjob_change", job.pk)
