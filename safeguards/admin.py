"""The risk rules in the moderator console: leads write rules (each save a new version) and backtest them,
moderators read them and their hits; held decisions are requested and approved by two different leads.

The review queue and the item page are the cases' (`CaseItemAdmin`), re-registered with the risk rules'
reason as a queue column and a panel on the item page, as the integrations app re-registers the cases'
admins with its exports."""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.generic import TemplateView

from cases.admin.queue import CaseItemAdmin
from cases.choices import RejectionCode
from cases.models import CaseItem
from core.admin.mixins import NoDeleteAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, ServiceAdminMixin
from core.csvexport import csv_response
from core.errors import DomainError
from safeguards.choices import ITEM_DECISIONS, AuditState, AuditVerdict, RuleAction, RuleMode
from safeguards.expressions import ExpressionError, compile_expression, fields_help
from safeguards.models import AuditItem, AuditRound, Backtest, Rule, RuleHit, RuleVersion, SecondApproval
from safeguards.services import approvals, audits, backtests, rules

#: The live actions that keep an item for a person: the queue shows their reason.
BLOCKING_ACTIONS = (RuleAction.FORCE_HUMAN_REVIEW, RuleAction.HOLD_SECOND_APPROVER)
#: The live actions the queue's risk column names: those that keep an item for a person, and the lowered priority
#: that explains why an item sits further down the queue.
SHOWN_ACTIONS = (*BLOCKING_ACTIONS, RuleAction.LOWER_PRIORITY)
RULE_FIELDS = ("name", "expression", "action", "mode", "enabled", "reason")


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = RULE_FIELDS
        widgets = {"expression": forms.Textarea(attrs={"rows": 3, "cols": 100})}
        help_texts = {"expression": fields_help()}

    def clean_expression(self) -> str:
        text = self.cleaned_data["expression"]
        try:
            compile_expression(text)
        except ExpressionError as exc:
            raise forms.ValidationError(str(exc)) from None
        return text


class RuleVersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RuleVersion
    fields = ("number", "expression", "action", "mode", "enabled", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    ordering = ("-number",)


@admin.register(Rule)
class RuleAdmin(ScaleAdminMixin, ServiceAdminMixin, NoDeleteAdminMixin, admin.ModelAdmin):
    form = RuleForm
    list_display = ("name", "action", "mode", "enabled", "current_version", "updated_at")
    list_filter = ("mode", "action", "enabled")
    list_select_related = ("current_version",)
    inlines = (RuleVersionInline,)
    actions = ("backtest",)

    def save_model(self, request: HttpRequest, obj: Rule, form: forms.ModelForm, change: bool) -> None:
        # The form checked the expression; the service checks it again, stores the version and audits.
        saved = rules.rule_save(
            actor=request.user, rule_id=obj.pk if change else None, **{f: form.cleaned_data[f] for f in RULE_FIELDS}
        )
        obj.pk, obj.current_version_id = saved.pk, saved.current_version_id

    @admin.action(description="Backtest the selected rules over past decided items", permissions=["change"])
    def backtest(self, request: HttpRequest, queryset: models.QuerySet[Rule]) -> None:
        for rule in queryset.exclude(current_version=None):
            start = backtests.backtest_start
            ok, run = self.call_service(
                request, start, prefix=f"{rule}: ", version_id=rule.current_version_id, actor=request.user
            )
            if ok:
                url = reverse("admin:safeguards_backtest_change", args=[run.pk])
                started = format_html('Backtest of {} started: <a href="{}">follow it</a>.', rule, url)
                self.message_user(request, started)


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "number", "action", "mode", "enabled", "created_by", "created_at")
    list_filter = ("mode", "action")
    list_select_related = ("created_by",)


@admin.register(RuleHit)
class RuleHitAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "item", "version", "action", "mode", "trigger", "values", "created_at")
    list_filter = ("mode", "action", "trigger")
    list_select_related = ("version",)
    raw_id_fields = ("item", "version")
    ordering = ("-pk",)


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "version",
        "state",
        "progress",
        "matched",
        "matched_accepted",
        "matched_rejected",
        "matched_reinstated",
    )
    list_select_related = ("version",)
    fields = (
        "version",
        "state",
        "progress",
        "items_total",
        "items_done",
        "matched",
        "matched_accepted",
        "matched_rejected",
        "matched_reinstated",
        "errors",
        "error",
        "started_by",
        "created_at",
        "finished_at",
    )
    readonly_fields = ("progress",)

    @admin.display(description="Progress")
    def progress(self, obj: Backtest) -> str:
        return format_html(
            '<progress value="{}" max="100" aria-label="Backtest progress">{}%</progress> {}% ({} of {} items)',
            obj.percent,
            obj.percent,
            obj.percent,
            obj.items_done,
            obj.items_total,
        )


class ApprovalForm(forms.ModelForm):
    """The request of a held decision, checked by the service's own rules before it is saved."""

    decision = forms.ChoiceField(choices=[(d.value, d.label) for d in ITEM_DECISIONS])
    rejection_code = forms.ChoiceField(choices=[("", "---------"), *RejectionCode.choices], required=False)
    actor: Any = None  # set by SecondApprovalAdmin.get_form

    class Meta:
        model = SecondApproval
        fields = ("item", "decision", "rejection_code", "message")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A lead requests an item's decision here; a seller's held penalty is recorded by the penalty gate.
        self.fields["item"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            approvals.approval_check(
                item_id=data["item"].pk,
                decision=data["decision"],
                rejection_code=data.get("rejection_code", ""),
                actor=self.actor,
            )
        except (DomainError, PermissionDenied) as exc:
            raise forms.ValidationError(str(getattr(exc, "message", exc))) from None
        return data


@admin.register(SecondApproval)
class SecondApprovalAdmin(ScaleAdminMixin, ServiceAdminMixin, NoDeleteAdminMixin, admin.ModelAdmin):
    """The held decisions: a lead requests an item's (the add page), the penalty gate records a seller's
    suspension held by default; a different lead approves either (the action)."""

    form = ApprovalForm
    list_display = (
        "id",
        "item",
        "seller",
        "decision",
        "state",
        "message",
        "requested_by",
        "requested_at",
        "approved_by",
    )
    list_filter = ("state", "decision")
    list_select_related = ("seller", "requested_by", "approved_by")
    raw_id_fields = ("item", "seller")
    actions = ("approve",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def has_change_permission(self, request: HttpRequest, obj: SecondApproval | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: SecondApproval, form: forms.ModelForm, change: bool) -> None:
        saved = approvals.approval_request(
            item_id=obj.item_id,
            decision=obj.decision,
            rejection_code=obj.rejection_code,
            message=obj.message,
            actor=request.user,
        )
        obj.pk = saved.pk

    @admin.action(description="Approve the selected decisions (as the second lead)", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: models.QuerySet[SecondApproval]) -> None:
        done = 0
        for approval in queryset.order_by("pk"):
            ok, _ = self.call_service(
                request, approvals.approval_approve, prefix=f"{approval}: ", approval_id=approval.pk, actor=request.user
            )
            done += ok
        if done:
            self.message_user(request, f"{done} held decision(s) approved and applied.", messages.SUCCESS)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(approvals.APPROVE_PERMISSION)


admin.site.unregister(CaseItem)


@admin.register(CaseItem)
class RiskCaseItemAdmin(CaseItemAdmin):
    """The review queue with the reason a live risk rule keeps an item for a person."""

    list_display = (*CaseItemAdmin.list_display, "risk_column")
    change_form_template = "admin/safeguards/caseitem_change_form.html"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[CaseItem]:
        # Every hit of the item in the item's own row (one array subquery on the hits' item index): the queue
        # column and the item page read it without a query of their own.
        hits = (
            RuleHit.objects.filter(item_id=OuterRef("pk"))
            .order_by("pk")
            .values(
                json=JSONObject(
                    action="action",
                    mode="mode",
                    name="version__name",
                    number="version__number",
                    reason="version__reason",
                )
            )
        )
        return super().get_queryset(request).annotate(risk_hits=ArraySubquery(hits))

    @staticmethod
    def _effects(item: CaseItem) -> list[dict[str, Any]]:
        return [h for h in item.risk_hits if h["mode"] == RuleMode.LIVE and h["action"] in SHOWN_ACTIONS]

    @admin.display(description="Risk")
    def risk_column(self, item: CaseItem) -> str:
        effects = self._effects(item)
        if not effects:
            return ""
        label = RuleAction(effects[0]["action"]).label
        return format_html('<span class="risk-badge">{}: {}</span>', label, effects[0]["reason"])

    def page_context(self, request: HttpRequest, item: CaseItem) -> dict[str, Any]:
        hits = [h | {"label": RuleAction(h["action"]).label} for h in item.risk_hits]
        return super().page_context(request, item) | {
            "risk_hits": hits,
            "held": any(h["action"] == RuleAction.HOLD_SECOND_APPROVER for h in self._effects(item)),
            "approvals_url": reverse("admin:safeguards_secondapproval_changelist"),
        }


# --- quality audits ------------------------------------------------------------------------------------


@admin.register(AuditRound)
class AuditRoundAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("week", "seed", "per_stratum", "created_at")


class AuditVerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=AuditVerdict.choices, widget=forms.RadioSelect)


@admin.register(AuditItem)
class AuditItemAdmin(ReadOnlyAdminMixin, ServiceAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The audit queue. Auditors see each sampled item blind: its notice and listing, never the first
    decision, its moderator or the item's status; leads see both sides of a disagreement and resolve it."""

    list_display = ("id", "round", "stratum", "state", "listing_column")
    list_filter = ("state", "round")
    list_select_related = ("round", "item__listing")
    change_form_template = "admin/safeguards/audititem_change_form.html"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[AuditItem]:
        queryset = super().get_queryset(request)
        if request.user.has_perm(audits.RESOLVE_PERMISSION):
            return queryset
        # An auditor's queue never holds their own decisions.
        return queryset.exclude(first_moderator=request.user)

    def get_fields(self, request: HttpRequest, obj: AuditItem | None = None) -> Sequence[str]:
        blind = ("round", "stratum", "state")
        if request.user.has_perm(audits.RESOLVE_PERMISSION):
            return (*blind, "first_verdict", "first_moderator", "auditor", "audit_verdict", "resolved_verdict")
        return blind

    @admin.display(description="Listing")
    def listing_column(self, audit: AuditItem) -> str:
        return audit.item.listing.url

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> Any:
        audit = self.get_object(request, object_id)
        if audit is not None and request.method == "POST" and "verdict" in request.POST:
            form = AuditVerdictForm(request.POST)
            if form.is_valid():
                verdict = form.cleaned_data["verdict"]
                if request.POST.get("resolve"):
                    service, kwargs = audits.audit_item_resolve, {"lead": request.user}
                else:
                    service, kwargs = audits.audit_item_decide, {"auditor": request.user}
                ok, _ = self.call_service(request, service, audit_id=audit.pk, verdict=verdict, **kwargs)
                if ok:
                    self.message_user(request, "Verdict recorded.", messages.SUCCESS)
            return redirect(request.path)
        item = audit.item if audit else None
        context = {
            **(extra_context or {}),
            "audited": item,
            "can_audit": audit is not None
            and audit.state == AuditState.PENDING
            and request.user.has_perm(audits.AUDIT_PERMISSION),
            "can_resolve": audit is not None
            and audit.state == AuditState.DISAGREED
            and request.user.has_perm(audits.RESOLVE_PERMISSION),
            "verdict_form": AuditVerdictForm(),
        }
        return super().change_view(request, object_id, form_url, context)


class AuditReportView(TemplateView):
    """Audited accuracy per moderator and per program member with Wilson 95% intervals, and Cohen's kappa;
    `?format=csv` downloads the same figures."""

    template_name = "admin/safeguards/audit_report.html"
    admin_site: admin.AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("safeguards.view_audititem"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = audits.audit_report()
        if request.GET.get("format") == "csv":
            return csv_response("audit-report.csv", audits.CSV_HEADER, audits.audit_report_rows(report))
        context = {
            **self.get_context_data(**kwargs),
            **self.admin_site.each_context(request),
            "title": "Quality audits",
            "report": report,
        }
        return self.render_to_response(context)


admin.site.register_page("safeguards/audit-report/", AuditReportView, name="audit_report")
