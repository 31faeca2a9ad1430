"""Marketplace data, the repeat-infringer policy and delisting jobs in the admin.

State changes happen only through services (`listings.services`, `listings.delisting`): listing and
seller statuses and their timestamps are read-only, and strikes, penalties and delisting jobs (with
their targets and chunks), which only the policy and the delisting engine write, are view-only (leads
lift penalties through a changelist action that calls `listings.penalties.penalty_lift`). A
delisting job's page is also its console: a live progress panel, and buttons (plus changelist actions)
that pause, resume or cancel it through the engine's services. Listings and sellers are never deleted:
strikes, case items, delisting targets, audit events and stay-down detection refer to them.

Listings and sellers number in the millions: their foreign keys use raw-id widgets, lists are ordered by
primary key and sort by no other column, filters are choices, booleans and the small marketplace table.
"""

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Func
from django.forms import BaseInlineFormSet, Script
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from core.admin.mixins import (
    CachedValuesListFilter,
    NoDeleteAdminMixin,
    PagePanelAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    changelist_url,
    correlated_aggregate,
)
from core.audit.services import audit_record
from listings import delisting, penalties
from listings.choices import DELIST_JOB_FINISHED, DelistJobStatus, DelistOutcome, PenaltyAction
from listings.models import (
    DelistChunk,
    DelistJob,
    DelistTarget,
    Listing,
    Marketplace,
    PenaltyPolicy,
    PenaltyThreshold,
    Seller,
    SellerPenalty,
    Strike,
)


@admin.register(Marketplace)
class MarketplaceAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "host_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "hosts", "listing_id_pattern", "is_active", "created_at")
    readonly_fields = ("created_at",)

    @admin.display(description="hosts")
    def host_list(self, obj: Marketplace) -> str:
        return ", ".join(obj.hosts)


@admin.register(Seller)
class SellerAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "marketplace",
        "external_id",
        "account_type",
        "country",
        "status",
        "status_changed_at",
    )
    list_display_links = ("id", "name")
    list_select_related = ("marketplace",)
    list_filter = ("marketplace", "status", "account_type")
    search_fields = ("name", "external_id__exact")
    search_help_text = "Part of the seller's name, or the marketplace's exact seller id."
    ordering = ("-pk",)
    sortable_by = ("id",)
    fields = (
        "marketplace",
        "external_id",
        "name",
        "account_type",
        "country",
        "status",
        "status_changed_at",
        "created_at",
        "related",
    )
    readonly_fields = ("status", "status_changed_at", "created_at", "related")
    readonly_after_create = ("marketplace", "external_id")

    @admin.display(description="see also")
    def related(self, obj: Seller) -> str:
        if obj.pk is None:
            return ""
        links = (
            (changelist_url(Listing, seller__id__exact=obj.pk), "Listings"),
            (changelist_url(Strike, seller__id__exact=obj.pk), f"Strikes ({obj.strikes.active().count()} active)"),
            (changelist_url(SellerPenalty, seller__id__exact=obj.pk), "Penalties"),
        )
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


class SelectedDelistJobFilter(admin.SimpleListFilter):
    """Narrows a list to one delisting job's rows; reached through the links on the job's page.

    It offers the chosen job only (and "All"): a choice per job would cost a query on every page for a
    list nobody scrolls. A value that is no job id is refused rather than ignored, since the stock
    behaviour for an unknown value (drop the filter) would show every row of a huge table as if they
    were the job's.
    """

    title = "delisting job"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        value = self.value()
        return [] if value is None else [(value, f"#{value}")]

    def job_id(self) -> int | None:
        value = self.value()
        if value is None:
            return None
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= delisting.MAX_BIGINT):
            raise IncorrectLookupParameters(f"{value!r} is not a delisting job id.")
        return int(value)


class ListingRemovedByJobFilter(SelectedDelistJobFilter):
    """The listings a job removed (not those it skipped or failed on): the removed ids its chunks keep."""

    title = "removed by delisting job"
    parameter_name = "delist_job"

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Listing]) -> models.QuerySet[Listing]:
        job_id = self.job_id()
        if job_id is None:
            return queryset
        removed = DelistChunk.objects.filter(job_id=job_id).annotate(listing_id=Func("removed_ids", function="unnest"))
        return queryset.filter(id__in=removed.values("listing_id"))


class DelistTargetJobFilter(SelectedDelistJobFilter):
    """A job's unremoved targets. Keeps the `job__id__exact` parameter that links to this list have always used."""

    parameter_name = "job__id__exact"

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[DelistTarget]) -> models.QuerySet[DelistTarget]:
        job_id = self.job_id()
        return queryset if job_id is None else queryset.filter(job_id=job_id)


class DelistOutcomeFilter(admin.SimpleListFilter):
    """The outcomes, plus "any failure": one value for the job page's "Failures" link and the sidebar."""

    title = "outcome"
    parameter_name = "outcome"
    FAILED = "failed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(self.FAILED, "Any failure"), *DelistOutcome.choices]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[DelistTarget]) -> models.QuerySet[DelistTarget]:
        match self.value():
            case None:
                return queryset
            case self.FAILED:
                return queryset.filter(outcome__in=delisting.FAILED_OUTCOMES)
            case outcome if outcome in DelistOutcome.values:
                return queryset.filter(outcome=outcome)
        raise IncorrectLookupParameters(f"{self.value()!r} is no outcome.")


@admin.register(Listing)
class ListingAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "__str__", "marketplace", "seller", "status", "price", "currency", "status_changed_at")
    list_display_links = ("id", "__str__")
    # A seller's name shows its marketplace: select it too.
    list_select_related = ("marketplace", "seller__marketplace")
    list_filter = ("marketplace", "status", ListingRemovedByJobFilter)
    # Exact lookups keep the URL and id searches on their unique indexes; the title search uses the
    # trigram index on UPPER(title).
    search_fields = ("url__exact", "external_id__exact", "title")
    search_help_text = "The listing's exact URL or marketplace id, or part of its title."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller",)
    fields = (
        "marketplace",
        "url",
        "external_id",
        "seller",
        "title",
        ("price", "currency"),
        "status",
        "status_changed_at",
        "created_at",
        "snapshot",
    )
    readonly_fields = ("status", "status_changed_at", "created_at", "snapshot")
    readonly_after_create = ("marketplace", "url")


#: Who may edit the repeat-infringer policy, its thresholds included (moderation leads; superusers).
EDIT_POLICY_PERMISSION = "listings.change_penaltypolicy"
#: Who may lift penalties (moderation leads; superusers). Penalties are otherwise view-only.
LIFT_PENALTIES_PERMISSION = "listings.change_sellerpenalty"


class PenaltyThresholdForm(forms.ModelForm):
    def validate_constraints(self) -> None:
        """Check constraints only: uniqueness within the policy is the formset's to check, against the
        submitted ladder rather than the rows still in the database (moving "restrict" from 2 to 3 while
        "suspend" moves from 3 to 4 is fine, though 3 is taken until "suspend" is saved)."""
        exclude = self._get_validation_exclusions()
        for constraint in self.instance._meta.constraints:
            if isinstance(constraint, models.CheckConstraint):
                try:
                    constraint.validate(type(self.instance), self.instance, exclude=exclude)
                except ValidationError as exc:
                    self._update_errors(exc)


class PenaltyThresholdFormSet(BaseInlineFormSet):
    """The ladder must climb: a harsher action needs more strikes than a milder one.

    Saving first moves the changed and deleted rows out of the way (strikes + a large offset), so that
    the unique (policy, strikes) constraint holds after every single row's save whatever their order.
    """

    def save(self, commit: bool = True) -> list[PenaltyThreshold]:
        if commit:
            moving = [
                form.instance.pk
                for form in self.initial_forms
                if form.instance.pk and (form in self.deleted_forms or form.has_changed())
            ]
            PenaltyThreshold.objects.filter(pk__in=moving).update(strikes=models.F("strikes") + 1_000_000)
        return super().save(commit=commit)

    def clean(self) -> None:
        super().clean()
        rank = {action: n for n, action in enumerate(PenaltyAction)}
        rungs = sorted(
            (rank[form.cleaned_data["action"]], form.cleaned_data["strikes"], form.cleaned_data["action"])
            for form in self.forms
            if form.cleaned_data.get("action")
            and form.cleaned_data.get("strikes")
            and not form.cleaned_data.get("DELETE")
        )
        for (_, lower_strikes, lower), (_, higher_strikes, higher) in itertools.pairwise(rungs):
            if higher_strikes <= lower_strikes:
                raise ValidationError(
                    f"{PenaltyAction(higher).label} needs more strikes than {PenaltyAction(lower).label.lower()}."
                )


class PenaltyThresholdInline(admin.TabularInline):
    """Editable with the policy: whoever may change the policy may change its thresholds."""

    model = PenaltyThreshold
    form = PenaltyThresholdForm
    formset = PenaltyThresholdFormSet
    extra = 0
    ordering = ("strikes",)

    def _may_edit(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EDIT_POLICY_PERMISSION)

    def has_add_permission(self, request: HttpRequest, obj: PenaltyPolicy | None = None) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: PenaltyPolicy | None = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: PenaltyPolicy | None = None) -> bool:
        return self._may_edit(request)


@admin.register(PenaltyPolicy)
class PenaltyPolicyAdmin(ScaleAdminMixin, admin.ModelAdmin):
    """The strike lifetime and the ladder, edited by moderation leads; every save is audited."""

    list_display = ("name", "strike_lifetime_days", "is_active", "ladder", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("-is_active", "name")
    fields = ("name", "strike_lifetime_days", "is_active", "updated_at")
    readonly_fields = ("updated_at",)
    inlines = (PenaltyThresholdInline,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[PenaltyPolicy]:
        return super().get_queryset(request).prefetch_related("thresholds")

    @admin.display(description="ladder")
    def ladder(self, obj: PenaltyPolicy) -> str:
        return " → ".join(str(threshold) for threshold in obj.thresholds.all())

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        policy = form.instance
        audit_record(
            action="penalty_policy.change" if change else "penalty_policy.create",
            target=policy,
            actor=request.user,
            data={
                "strike_lifetime_days": policy.strike_lifetime_days,
                "is_active": policy.is_active,
                "thresholds": {t.action: t.strikes for t in policy.thresholds.all()},
            },
        )


class StrikeStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        match self.value():
            case "active":
                return queryset.active()
            case "expired":
                return queryset.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "seller", "reason_code", "issued_at", "expires_at", "revoked_at", "source_item_id")
    list_select_related = ("seller__marketplace",)
    list_filter = (StrikeStateFilter, ("reason_code", CachedValuesListFilter))
    # Local columns only: an OR across a join (say with the seller's external id) defeats every index.
    search_fields = ("seller__id__exact", "source_item_id__exact")
    search_help_text = "The seller's id (not the marketplace's), or the id of the case item that gave the strike."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller",)
    fields = ("seller", "source_item_id", "reason_code", "issued_at", "expires_at", "revoked_at", "revoke_reason")


@admin.register(SellerPenalty)
class SellerPenaltyAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "seller",
        "action",
        "active_strikes",
        "applied_at",
        "applied_by",
        "automated",
        "lifted_at",
        "delist_job",
    )
    list_select_related = ("seller__marketplace", "applied_by", "delist_job")
    list_filter = ("action", "automated", ("lifted_at", admin.EmptyFieldListFilter))
    search_fields = ("seller__id__exact", "reason")
    search_help_text = "The seller's id (not the marketplace's), or words of the reason."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller", "applied_by", "lifted_by", "delist_job")
    fieldsets = (
        (None, {"fields": ("seller", "action", "active_strikes", "reason", "delist_job")}),
        ("Applied", {"fields": ("applied_at", "applied_by", "automated")}),
        ("Lifted", {"fields": ("lifted_at", "lifted_by", "lift_reason")}),
    )
    actions = ("lift_penalties",)

    def has_lift_permission(self, request: HttpRequest) -> bool:
        """May lift penalties (the `lift` permission of the changelist action)."""
        return request.user.has_perm(LIFT_PENALTIES_PERMISSION)

    @admin.action(description="Lift selected penalties", permissions=["lift"])
    def lift_penalties(self, request: HttpRequest, queryset: models.QuerySet[SellerPenalty]) -> TemplateResponse | None:
        """Ask for a reason on an intermediate page, then lift each penalty still in force through
        `penalty_lift` (which audits it and recomputes the seller's status). Listings stay delisted."""
        in_force = list(queryset.filter(lifted_at__isnull=True).select_related("seller").order_by("pk"))
        if not in_force:
            self.message_user(request, "None of the selected penalties is in force.", messages.WARNING)
            return None
        form = LiftPenaltiesForm(request.POST if "post" in request.POST else None)
        if form.is_bound and form.is_valid():
            lifted, refused = [], []
            for penalty in in_force:
                try:
                    penalties.penalty_lift(
                        penalty_id=penalty.pk, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                except penalties.PenaltyLiftError:
                    refused.append(penalty.pk)
                else:
                    lifted.append(penalty.pk)
            if lifted:
                self.message_user(request, f"Lifted {len(lifted)} penalty(ies).", messages.SUCCESS)
            if refused:
                ids = ", ".join(f"#{pk}" for pk in refused)
                self.message_user(request, f"Already lifted, left unchanged: {ids}.", messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Lift penalties",
            "opts": self.opts,
            "penalties": in_force,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/listings/sellerpenalty/lift_penalties.html", context)


class LiftPenaltiesForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the penalties are lifted; kept in the audit trail.",
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

    `allowed_from` only decides whether the button is offered; the service re-checks the status under
    the job's row lock and refuses a stale request (a test holds the two together).
    """

    name: str
    label: str
    past: str
    allowed_from: frozenset[str]
    service: Callable[..., DelistJob]
    confirm: str = ""


PAUSE = JobOperation(
    name="pause",
    label="Pause",
    past="paused",
    allowed_from=frozenset({DelistJobStatus.RUNNING}),
    service=delisting.delist_job_pause,
)
RESUME = JobOperation(
    name="resume",
    label="Resume",
    past="resumed",
    allowed_from=frozenset({DelistJobStatus.PAUSED}),
    service=delisting.delist_job_resume,
)
CANCEL = JobOperation(
    name="cancel",
    label="Cancel job",
    past="cancelled",
    allowed_from=frozenset({DelistJobStatus.PLANNING, DelistJobStatus.RUNNING, DelistJobStatus.PAUSED}),
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
    if progress["seconds_left"] is None:
        return "Not known until the first chunk is done"
    return _duration(progress["seconds_left"])


def _jobs(n: int) -> str:
    return f"{n} job" if n == 1 else f"{n} jobs"


@admin.register(DelistJob)
class DelistJobAdmin(PagePanelAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
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
        (None, {"fields": ("selection_kind", "selection", "selection_file", "reason", "idempotency_key")}),
        ("Targets", {"fields": ("targets", "outcomes")}),
        ("Run", {"fields": ("actor", "automated", "created_at", "started_at", "finished_at")}),
    )
    readonly_fields = ("targets", "outcomes")
    inlines = (DelistChunkInline,)
    actions = ("pause_jobs", "resume_jobs", "cancel_jobs")
    progress_template = "admin/listings/delistjob/progress.html"

    class Media:
        # Deferred: it looks for the panel, which comes after the <head> the admin puts media in.
        js = (Script("js/delist-progress.js", defer=True),)

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
            status=DelistJobStatus(progress["status"]).label,
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
        try:
            operation.service(job_id=job.pk, actor=request.user)
        except delisting.DelistJobStateError as exc:  # its status changed since the page was drawn
            self.message_user(request, str(exc), messages.ERROR)
        else:
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
            except delisting.DelistJobStateError as exc:
                refused[str(exc)].append(job_id)
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
