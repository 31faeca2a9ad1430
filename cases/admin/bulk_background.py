"""Decisions on many queue items applied in the background, with a progress page (issue 13 point 6).

Above `services.background_decision_min()` items, the queue's confirmation page hands its decision to
`services.bulk_decision_start` (a row, and a Celery task once the request commits) and sends the moderator
to `/admin/cases/caseitem/bulk/<id>/`: done and total, then each refused item with its reason, and the
items decided. The page reloads itself every second while the decision runs (no script: the admin's CSP
stays as it is). Only the moderator who took the decision, or a superuser, sees it.
"""

from collections.abc import Sequence
from uuid import UUID

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from cases import services
from cases.admin.console import DECIDE_PERMISSION
from cases.admin.forms import AcceptForm, Decision, DecisionForm
from cases.models import BulkDecision
from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin
from core.queue import broker_reachable

URL_NAME = "cases_caseitem_bulk"


def start_in_background(
    model_admin: ModelAdmin, request: HttpRequest, decision: Decision, form: DecisionForm, item_ids: Sequence[int]
) -> HttpResponse:
    """Record the (valid) decision for the items, to run in the background, and open its progress page."""
    data = form.cleaned_data
    bulk = services.bulk_decision_start(
        actor=request.user,
        decision=decision.name,
        item_ids=item_ids,
        message=data.get("message", ""),
        code=data.get("code", ""),
        statement=form.statement() if isinstance(form, AcceptForm) else None,
        take_over=data.get("take_over", False),
    )
    return redirect(reverse(f"{model_admin.admin_site.name}:{URL_NAME}", args=[bulk.pk]))


class BulkDecisionViews:
    """The progress page, plugged into the queue's admin by `urls()`."""

    def __init__(self, model_admin: ModelAdmin) -> None:
        self.model_admin = model_admin

    def urls(self) -> list[URLPattern]:
        return [path("bulk/<uuid:bulk_id>/", self.model_admin.admin_site.admin_view(self.progress_view), name=URL_NAME)]

    def progress_view(self, request: HttpRequest, bulk_id: UUID) -> HttpResponse:
        if not request.user.has_perm(DECIDE_PERMISSION):
            raise PermissionDenied
        bulk = get_object_or_404(BulkDecision.objects.select_related("actor"), pk=bulk_id)
        if bulk.actor_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        total = len(bulk.item_ids)
        admin = self.model_admin
        return TemplateResponse(
            request,
            "admin/cases/caseitem/bulk_progress.html",
            {
                **admin.admin_site.each_context(request),
                "opts": admin.opts,
                "title": f"{bulk.decision.capitalize()}: {total} items",
                "bulk": bulk,
                "total": total,
                "percent": round(100 * bulk.items_done / total) if total else 100,
                "running": bulk.state in (BulkDecision.State.QUEUED, BulkDecision.State.RUNNING),
                "queue_unreachable": bulk.state == BulkDecision.State.QUEUED and not broker_reachable(),
                "refused": sorted(bulk.refused.items(), key=lambda pair: int(pair[0])),
                "done_count": len(bulk.done_ids),
                "queue_url": reverse(f"{admin.admin_site.name}:cases_caseitem_changelist"),
            },
        )


@admin.register(BulkDecision)
class BulkDecisionAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Background decisions, visible for support (who may view them: superusers), never edited."""

    list_display = ("id", "decision", "actor", "state", "items_done", "created_at", "updated_at")
    list_select_related = ("actor",)
    list_filter = ("state", "decision")
    ordering = ("-created_at",)
    raw_id_fields = ("actor",)
