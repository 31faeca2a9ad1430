"""Delisting jobs in the admin: a job's page is also its console, with its targets and chunks.

The page shows a live progress panel and buttons (plus changelist actions) that pause, resume or cancel
the job through the engine's services (`listings.delisting`); a refusal (`DelistJobStateError`, a
`core.errors.DomainError`) becomes an error message through `ServiceAdminMixin.call_service` or
`refusal_text`. Which buttons are offered follows the engine's `JOB_MOVES`, so the buttons and the
services cannot disagree. Jobs, targets and chunks are otherwise view-only.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms import Script
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from core.admin.mixins import (
    PagePanelAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    ServiceAdminMixin,
    changelist_url,
    correlated_aggregate,
)
from core.queue import broker_reachable
from core.views import SERVICE_ERRORS, refusal_text
from listings import delisting
from listings.admin.delisting_start import DelistStartViews
from listings.admin.filters import DelistOutcomeFilter, DelistTargetJobFilter
from listings.choices import (
    DELIST_JOB_FINISHED,
    DelistChunkState,
    DelistJobStatus,
    DelistOutcome,
    DelistSelectionKind,
    delist_selection_choices,
)
from listings.models import (
    DelistChunk,
    DelistJob,
    DelistTarget,
    Listing,
    Seller,
)


class DeferChunkIdsMixin:
    """A chunk row holds thousands of listing ids: pages that list chunks never load them."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[DelistChunk]:
        return super().get_queryset(request).defer("listing_ids", "removed_ids")


class DelistChunkInline(DeferChunkIdsMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = DelistChunk
    extra = 0
    ordering = ("seq",)
    fields = (
        "seq",
        "size",
        "first_listing_id",
        "last_listing_id",
        "state",
        "attempts",
        "removed",
        "skipped",
        "failed",
        "lease_until",
        "finished_at",
        "last_error",
    )


#: Who may pause, resume and cancel jobs. The admin is otherwise view-only for jobs (`ReadOnlyAdminMixin`
#: denies every change permission), so the permission is checked by name; moderation leads get it
#: through their group.
MANAGE_JOBS_PERMISSION = "listings.change_delistjob"


@dataclass(frozen=True)
class JobOperation:
    """A status change a person may ask of a job: a button on its page and a changelist action.

    `name` is the action of the engine's `JOB_MOVES`, whose statuses decide whether the button is
    offered (`allowed_from`); the service re-checks the status under the job's row lock and refuses a
    stale request.
    """

    name: str
    label: str
    past: str
    service: Callable[..., DelistJob]
    confirm: str = ""

    @property
    def allowed_from(self) -> Collection[str]:
        return delisting.JOB_MOVES.allowed_from[self.name]


PAUSE = JobOperation(
    name="pause",
    label="Pause",
    past="paused",
    service=delisting.delist_job_pause,
)
RESUME = JobOperation(
    name="resume",
    label="Resume",
    past="resumed",
    service=delisting.delist_job_resume,
)
CANCEL = JobOperation(
    name="cancel",
    label="Cancel job",
    past="cancelled",
    service=delisting.delist_job_cancel,
    confirm="Cancel this job? Listings it has not reached yet stay up, and a cancelled job cannot be resumed.",
)
#: In the order the buttons are shown: the one that cannot be undone last.
JOB_OPERATIONS = {operation.name: operation for operation in (PAUSE, RESUME, CANCEL)}


@dataclass(frozen=True)
class JobButton:
    """A POST form of the panel; `confirm` is asked by the page's script before an irreversible one."""

    label: str
    url: str
    confirm: str


@dataclass(frozen=True)
class JobProgressPanel:
    """What the progress panel shows, with the figures already formatted for people."""

    status: str
    finished: bool
    planning: bool
    bar_value: int
    bar_max: int
    percent: int
    processed: str
    total: str
    chunks_done: str
    chunks: str
    removed: str
    skipped: str
    failed: str
    rate: str
    time_left: str
    chunk_states: str
    warnings: tuple[str, ...]
    started_at: str
    finished_at: str
    removed_listings_url: str
    failures_url: str
    buttons: tuple[JobButton, ...]


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _time_left(progress: dict[str, Any]) -> str:
    if progress["status"] in DELIST_JOB_FINISHED:
        return "None: the job is finished"
    if progress["status"] == DelistJobStatus.PAUSED:
        return "None while paused"  # the rate since the start keeps falling while nothing runs
    if progress["stalled_since"]:
        return "Not known while the job is stalled"
    if progress["seconds_left"] is None:
        return "Not known until the first chunk is done"
    return _duration(progress["seconds_left"])


def _chunks(n: int) -> str:
    return f"{n:,} chunk" if n == 1 else f"{n:,} chunks"


def _when(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


def _status(job: DelistJob, progress: dict[str, Any]) -> str:
    """The status as people should read it: a paused job whose claimed chunks still run is pausing."""
    if job.status == DelistJobStatus.PAUSED and progress["chunks_running"]:
        return f"Pausing: waiting for {_chunks(progress['chunks_running'])} in flight to finish"
    return DelistJobStatus(progress["status"]).label


def _chunk_states(progress: dict[str, Any]) -> str:
    parts = [f"{progress['chunks_running']:,} running", f"{progress['chunks_waiting']:,} waiting for a worker"]
    if progress["chunks_retrying"]:
        parts.append(f"{progress['chunks_retrying']:,} of them retrying after an error")
    return ", ".join(parts)


def _warnings(job: DelistJob, progress: dict[str, Any]) -> tuple[str, ...]:
    """What is wrong right now, said plainly (each costs a query only when there is something to check)."""
    warnings = []
    if progress["stalled_since"]:
        since = progress["stalled_since"]
        quiet = _duration(int((timezone.now() - since).total_seconds()))
        warnings.append(
            f"Stalled since {_when(since)} ({quiet} without a finished chunk): no worker is taking its chunks "
            "(workers stopped, or the queue unreachable). The reaper re-sends them every few seconds."
        )
    # Planning also needs a worker; a paused job's waiting chunks wait for the resume, not the queue.
    needs_workers = job.status in (DelistJobStatus.PLANNING, DelistJobStatus.RUNNING)
    if needs_workers and not broker_reachable():
        warnings.append(
            "The queue (the Celery broker) is unreachable: waiting chunks cannot reach a worker, and running "
            "ones finish but their next messages wait. Nothing is lost: the reaper sends them once it is back."
        )
    running = job.status not in DELIST_JOB_FINISHED and progress["chunks_running"]
    if running and (dead := len(delisting.job_dead_claims(job.pk))):
        warnings.append(
            f"{_chunks(dead)} lost {'its' if dead == 1 else 'their'} worker; another worker takes "
            f"{'it' if dead == 1 else 'them'} over within seconds."
        )
    if progress["chunks_retrying"]:
        error = (
            job.chunks.filter(state=DelistChunkState.PENDING)
            .exclude(last_error="")
            .order_by("-pk")
            .values_list("last_error", flat=True)
            .first()
        )
        warnings.append(f"{_chunks(progress['chunks_retrying'])} retrying after an error: {error}")
    return tuple(warnings)


def _jobs(n: int) -> str:
    return f"{n} job" if n == 1 else f"{n} jobs"


@admin.register(DelistJob)
class DelistJobAdmin(ServiceAdminMixin, PagePanelAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "selection_kind",
        "status",
        "progress",
        "targets",
        "removed",
        "skipped",
        "failed",
        "actor",
        "automated",
        "created_at",
        "finished_at",
    )
    list_select_related = ("actor",)
    list_filter = ("status", "selection_kind", "automated")
    search_fields = ("idempotency_key__exact", "reason")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    raw_id_fields = ("actor",)
    # The progress panel above the fields shows the status and counters live; the fieldsets keep what does
    # not change while the page is open (a status here would contradict the panel once the job moves on).
    fieldsets = (
        (None, {"fields": ("selection_sentence", "selection_file", "reason", "idempotency_key")}),
        ("Targets", {"fields": ("targets", "outcomes")}),
        ("Run", {"fields": ("actor", "automated", "created_at", "started_at", "finished_at")}),
    )
    readonly_fields = ("selection_sentence", "targets", "outcomes")
    inlines = (DelistChunkInline,)
    actions = ("pause_jobs", "resume_jobs", "cancel_jobs")
    progress_template = "admin/listings/delistjob/progress.html"

    class Media:
        # Deferred: it looks for the panel, which comes after the <head> the admin puts media in.
        js = (Script("js/delist-progress.js", defer=True),)
        css = {"all": ("css/admin-console.css",)}  # the progress bar's width

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[DelistJob]:
        # The chunks keep the running totals: a few rows per job, where the targets are millions.
        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    counter: correlated_aggregate(DelistChunk.objects.all(), fk="job", aggregate=models.Sum(counter))
                    for counter in ("removed", "skipped", "failed")
                }
            )
        )

    def has_manage_permission(self, request: HttpRequest, obj: DelistJob | None = None) -> bool:
        """May pause, resume and cancel jobs (the `manage` permission of the changelist actions)."""
        return request.user.has_perm(MANAGE_JOBS_PERMISSION)

    # --- columns and fields ---

    @admin.display(description="progress")
    def progress(self, obj: DelistJob) -> str:
        return f"{obj.removed + obj.skipped + obj.failed:,} / {obj.total:,}"

    @admin.display(description="selection")
    def selection_sentence(self, obj: DelistJob) -> str:
        """What the job removes, in words ("All live listings of seller ShopNow #7 on ShopNow") rather than
        the selection's JSON; an unknown shape falls back to the kind's label and the JSON."""
        selection, kind = obj.selection or {}, obj.selection_kind
        if kind == DelistSelectionKind.SELLER and "seller_id" in selection:
            seller = Seller.objects.select_related("marketplace").filter(pk=selection["seller_id"]).first()
            if seller is None:
                return f"All live listings of seller #{selection['seller_id']} (no longer in the portal)"
            return f"All live listings of seller {seller.name} #{seller.external_id} on {seller.marketplace.name}"
        if kind == DelistSelectionKind.LISTING_IDS:
            return f"{obj.total:,} listings given by their ids"
        if kind == DelistSelectionKind.FILE:
            name = obj.selection_file.name.rsplit("/", 1)[-1] if obj.selection_file else "an uploaded file"
            return f"{obj.total:,} listings named in the file {name}"
        if "item_ids" in selection:
            ids = selection["item_ids"]
            shown = ", ".join(f"#{pk}" for pk in ids[:10]) + (f" and {len(ids) - 10:,} more" if len(ids) > 10 else "")
            return f"The listings of {len(ids):,} reported item{'s' if len(ids) != 1 else ''}: {shown}"
        if "case_id" in selection:
            return f"The listings of case #{selection['case_id']}"
        label = dict(delist_selection_choices()).get(kind, kind)
        return f"{label}: {selection}" if selection else label

    @admin.display(description="selected")
    def targets(self, obj: DelistJob) -> int:
        # No link: target rows exist only for listings the job left up ("targets by outcome" links to those).
        return obj.total

    @admin.display(description="removed")
    def removed(self, obj: DelistJob) -> int:
        return obj.removed

    @admin.display(description="skipped")
    def skipped(self, obj: DelistJob) -> int:
        return obj.skipped

    @admin.display(description="failed")
    def failed(self, obj: DelistJob) -> int:
        return obj.failed

    @admin.display(description="not removed, by outcome")
    def outcomes(self, obj: DelistJob) -> str:
        # One grouped query on the (job, outcome) index, on the detail page only.
        counts = sorted(obj.targets.order_by().values_list("outcome").annotate(n=models.Count("pk")))
        links = (
            (changelist_url(DelistTarget, job__id__exact=obj.pk, outcome=outcome), DelistOutcome(outcome).label, n)
            for outcome, n in counts
        )
        return format_html_join(" · ", '<a href="{}">{}: {}</a>', links)

    # --- the progress panel ---

    def progress_panel(self, request: HttpRequest, job: DelistJob) -> JobProgressPanel:
        """The panel's content, from `delist_job_progress` (one aggregate over the job's chunks)."""
        progress = delisting.delist_job_progress(job)
        total, processed = progress["total"], progress["processed"]
        finished = job.status in DELIST_JOB_FINISHED
        buttons: tuple[JobButton, ...] = ()
        if self.has_manage_permission(request, job):
            buttons = tuple(
                JobButton(operation.label, self._url(operation.name, job.pk), operation.confirm)
                for operation in JOB_OPERATIONS.values()
                if job.status in operation.allowed_from
            )
        return JobProgressPanel(
            status=_status(job, progress),
            finished=finished,
            planning=job.status == DelistJobStatus.PLANNING,
            bar_value=processed,
            bar_max=total or 1,  # a <progress> max must be positive; 0 of 0 shows an empty bar
            percent=processed * 100 // total if total else 0,  # floored: 100% only once all are processed
            processed=f"{processed:,}",
            total=f"{total:,}",
            chunks_done=f"{progress['chunks_done']:,}",
            chunks=f"{progress['chunks']:,}",
            removed=f"{progress['removed']:,}",
            skipped=f"{progress['skipped']:,}",
            failed=f"{progress['failed']:,}",
            rate=f"{progress['rate']:,.1f} targets/s",
            time_left=_time_left(progress),
            chunk_states=_chunk_states(progress),
            warnings=_warnings(job, progress),
            started_at=_when(job.started_at),
            finished_at=_when(job.finished_at),
            removed_listings_url=changelist_url(Listing, delist_job=job.pk),
            failures_url=changelist_url(DelistTarget, job__id__exact=job.pk, outcome=DelistOutcomeFilter.FAILED),
            buttons=buttons,
        )

    def page_context(self, request: HttpRequest, obj: DelistJob) -> dict[str, Any]:
        return {
            "delist_progress": self.progress_panel(request, obj),
            "delist_progress_url": self._url("progress", obj.pk),
        }

    # --- views ---

    def get_urls(self) -> list[URLPattern]:
        # Ahead of the stock URLs, whose "<path:object_id>/" pattern would swallow these.
        wrap = self.admin_site.admin_view
        return [
            *DelistStartViews(self).urls(),
            path("<int:object_id>/progress/", wrap(self.progress_view), name=self._url_name("progress")),
            *(
                path(
                    f"<int:object_id>/{name}/",
                    wrap(self.operation_view),
                    {"operation_name": name},
                    name=self._url_name(name),
                )
                for name in JOB_OPERATIONS
            ),
            *super().get_urls(),
        ]

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _url(self, view: str, job_id: int) -> str:
        return reverse(f"{self.admin_site.name}:{self._url_name(view)}", args=[job_id])

    def _job_or_404(self, request: HttpRequest, object_id: int) -> DelistJob:
        job = self.get_object(request, str(object_id))
        if job is None:
            raise Http404(f"No delisting job #{object_id}.")
        return job

    def progress_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The progress panel alone, polled by js/delist-progress.js while the job's page is open."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self._job_or_404(request, object_id)
        return TemplateResponse(request, self.progress_template, {"panel": self.progress_panel(request, job)})

    @method_decorator(require_POST)
    def operation_view(self, request: HttpRequest, object_id: int, operation_name: str) -> HttpResponse:
        """Pause, resume or cancel one job through its service, then back to the job's page."""
        if not self.has_manage_permission(request):
            raise PermissionDenied
        job = self._job_or_404(request, object_id)
        operation = JOB_OPERATIONS[operation_name]
        # A refusal (its status changed since the page was drawn) becomes the page's error message.
        done, _ = self.call_service(request, operation.service, job_id=job.pk, actor=request.user)
        if done:
            self.message_user(request, f"{job} was {operation.past}.", messages.SUCCESS)
        return redirect(self._url("change", job.pk))

    # --- changelist actions ---

    def _job_links(self, job_ids: Iterable[int]) -> SafeString:
        return format_html_join(", ", '<a href="{}">#{}</a>', ((self._url("change", pk), pk) for pk in job_ids))

    def _operate(self, request: HttpRequest, queryset: models.QuerySet[DelistJob], operation: JobOperation) -> None:
        """Apply `operation` to each selected job (jobs are few), each in its own transaction, and report.

        A job whose status does not allow it is reported with the service's reason, grouped by reason.
        """
        done: list[int] = []
        refused: dict[str, list[int]] = defaultdict(list)
        for job_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                operation.service(job_id=job_id, actor=request.user)
            except SERVICE_ERRORS as error:
                refused[refusal_text(error)].append(job_id)
            else:
                done.append(job_id)
        if done:
            message = format_html("{} {}: {}.", operation.past.capitalize(), _jobs(len(done)), self._job_links(done))
            self.message_user(request, message, messages.SUCCESS)
        for reason, job_ids in refused.items():
            message = format_html("Not {}: {} ({})", operation.past, self._job_links(job_ids), reason)
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Pause selected delisting jobs", permissions=["manage"])
    def pause_jobs(self, request: HttpRequest, queryset: models.QuerySet[DelistJob]) -> None:
        self._operate(request, queryset, PAUSE)

    @admin.action(description="Resume selected delisting jobs", permissions=["manage"])
    def resume_jobs(self, request: HttpRequest, queryset: models.QuerySet[DelistJob]) -> None:
        self._operate(request, queryset, RESUME)

    @admin.action(description="Cancel selected delisting jobs", permissions=["manage"])
    def cancel_jobs(self, request: HttpRequest, queryset: models.QuerySet[DelistJob]) -> None:
        self._operate(request, queryset, CANCEL)


@admin.register(DelistTarget)
class DelistTargetAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "job", "listing", "reference", "outcome", "detail", "processed_at")
    list_select_related = ("job", "listing")
    list_filter = (DelistTargetJobFilter, DelistOutcomeFilter)
    search_fields = ("listing__url__exact",)
    search_help_text = "The exact URL of the listing."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("job", "listing")
    fields = ("job", "listing", "reference", "outcome", "detail", "processed_at")


@admin.register(DelistChunk)
class DelistChunkAdmin(DeferChunkIdsMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "job",
        "seq",
        "size",
        "state",
        "attempts",
        "removed",
        "skipped",
        "failed",
        "lease_until",
        "finished_at",
    )
    list_select_related = ("job",)
    list_filter = ("state",)
    search_fields = ("job__id__exact",)
    search_help_text = "The id of the delisting job."
    ordering = ("-pk",)
    raw_id_fields = ("job",)
    fields = (
        "job",
        "seq",
        "size",
        ("first_listing_id", "last_listing_id"),
        "state",
        "attempts",
        "lease_until",
        "enqueued_at",
        "finished_at",
        ("removed", "skipped", "failed"),
        "last_error",
    )
