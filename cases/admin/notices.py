"""What follows a decision, in the admin: the counter-notice queue (waiting for the brand's answer first)
and the appeal queue, with the page where a moderation lead decides an appeal through its service."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from cases import services
from cases.admin.console import DECIDE_APPEAL_PERMISSION, ConsoleAdminMixin
from cases.admin.forms import AppealDecisionForm
from cases.choices import AppealStatus, CounterNoticeAnswer
from cases.models import Appeal, CounterNotice
from cases.templatetags.cases_extras import time_left, time_left_text
from core.admin.mixins import PagePanelAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, ServiceAdminMixin


@admin.register(CounterNotice)
class CounterNoticeAdmin(ConsoleAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The counter-notice queue: those waiting for the brand's answer first, the nearest deadline first."""

    list_display = ("__str__", "item_link", "reason", "answer", "answer_due", "received_at", "answered_at")
    list_select_related = ("item",)
    list_filter = ("answer", "reason", "attempt")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = (
        models.Case(models.When(answer=CounterNoticeAnswer.PENDING, then=0), default=1).asc(),
        "answer_due_at",
        "pk",
    )
    sortable_by = ()
    raw_id_fields = ("item", "recorded_by", "answered_by")
    fieldsets = (
        (None, {"fields": ("item", "attempt", "reason", "explanation", "received_at", "recorded_by")}),
        ("Brand's answer", {"fields": ("answer", "answer_due_at", "answered_at", "answered_by", "answer_note")}),
    )

    @admin.display(description="item")
    def item_link(self, obj: CounterNotice) -> str:
        return self._item_link(obj.item)

    @admin.display(description="answer due")
    def answer_due(self, obj: CounterNotice) -> SafeString | str:
        return (
            time_left(obj.answer_due_at)
            if obj.answer == CounterNoticeAnswer.PENDING
            else self.get_empty_value_display()
        )


@admin.register(Appeal)
class AppealAdmin(
    ConsoleAdminMixin, ServiceAdminMixin, PagePanelAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin
):
    """The appeal queue (open appeals first, oldest first) and the page where a lead decides one."""

    list_display = (
        "__str__",
        "item_link",
        "appellant",
        "contested_status",
        "status",
        "waiting",
        "original_decider",
        "decided_by",
        "decided_at",
    )
    list_select_related = ("item", "original_decider", "decided_by")
    list_filter = ("status", "appellant", "contested_status")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = (models.Case(models.When(status=AppealStatus.OPEN, then=0), default=1).asc(), "filed_at", "pk")
    sortable_by = ()
    raw_id_fields = ("item", "filed_by", "original_decider", "decided_by")
    fieldsets = (
        (None, {"fields": ("item_link", "appellant", "contested_status", "grounds", "filed_at", "filed_by")}),
        ("Decision", {"fields": ("status", "original_decider", "decided_by", "decided_at", "decision_note")}),
    )
    readonly_fields = ("item_link",)
    change_form_template = "admin/cases/appeal/change_form.html"

    @admin.display(description="item")
    def item_link(self, obj: Appeal) -> str:
        return self._item_link(obj.item)

    @admin.display(description="waiting")
    def waiting(self, obj: Appeal) -> str:
        if obj.status != AppealStatus.OPEN:
            return self.get_empty_value_display()
        return f"filed {time_left_text(obj.filed_at, timezone.now())}"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Appeal]:
        return super().get_queryset(request).select_related("item", "filed_by", "original_decider", "decided_by")

    def page_context(self, request: HttpRequest, appeal: Appeal) -> dict[str, Any]:
        """The decision form, for a lead, while the appeal is open."""
        if appeal.status != AppealStatus.OPEN or not request.user.has_perm(DECIDE_APPEAL_PERMISSION):
            return {}
        return {
            "appeal_form": AppealDecisionForm(),
            "appeal_decide_url": self._url("decide", appeal.pk),
            "appeal_by_original_decider": appeal.original_decider_id == request.user.pk,
        }

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<int:object_id>/decide/", self.admin_site.admin_view(self.decide_view), name=self._url_name("decide")
        )
        return [decide, *super().get_urls()]

    @method_decorator(require_POST)
    def decide_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Uphold or overturn the contested decision through the service, which refuses an appeal decided
        meanwhile and the moderator who made the contested decision; its refusal is shown as it is worded."""
        if not request.user.has_perm(DECIDE_APPEAL_PERMISSION):
            raise PermissionDenied
        appeal = get_object_or_404(Appeal, pk=object_id)
        form = AppealDecisionForm(request.POST)
        if not form.is_valid():
            for name, errors in form.errors.items():
                self.message_user(request, f"{form.fields[name].label}: {' '.join(errors)}", messages.ERROR)
            return redirect(self._url("change", appeal.pk))
        overturn = form.cleaned_data["outcome"] == AppealDecisionForm.OVERTURN
        decided, _ = self.call_service(
            request,
            services.appeal_decide,
            appeal_id=appeal.pk,
            actor=request.user,
            overturn=overturn,
            note=form.cleaned_data["note"],
        )
        if decided:
            outcome = "overturned" if overturn else "upheld"
            self.message_user(request, f"{appeal}: the decision was {outcome}.", messages.SUCCESS)
        return redirect(self._url("change", appeal.pk))
