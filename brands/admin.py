"""Brands, their teams, their IP rights and the MarketSafe program in the admin.

State changes happen only through services (`brands.services`), so every status and every timestamp or
actor a service sets (verification, submission, decision, suspension) is read-only here. Program
applications and memberships are view-only rows with decision forms on their pages, each applied by a
review service (ProgramActionsAdminMixin); IP rights keep their descriptive fields editable but
are never deleted (filed notices rely on them); documents are only ever added by the upload service.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from brands.choices import MEMBERSHIP_CURRENT_STATUSES, IPRightStatus, Lane
from brands.models import (
    ApplicationDocument,
    Brand,
    BrandMembership,
    InformationRequest,
    Invitation,
    IPRight,
    IPRightDocument,
    ProgramApplication,
    ProgramMembership,
)
from brands.selectors import program_standing, program_thresholds, track_records
from brands.services import applications, program, verification
from brands.views import right_standing
from core.admin.mixins import (
    NoDeleteAdminMixin,
    PagePanelAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    ServiceAdminMixin,
    StoredDocumentInline,
    correlated_aggregate,
)


class BrandMembershipInline(admin.TabularInline):
    model = BrandMembership
    extra = 0
    fields = ("user", "role", "is_active", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[BrandMembership]:
        return super().get_queryset(request).select_related("user")


@admin.register(Brand)
class BrandAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "legal_name", "country", "member_count", "created_at")
    list_filter = ("country",)
    search_fields = ("name", "slug", "legal_name")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "legal_name", "country", "website", "created_at")
    readonly_fields = ("created_at",)
    inlines = (BrandMembershipInline,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Brand]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=correlated_aggregate(
                    BrandMembership.objects.active(), fk="brand", aggregate=models.Count("pk")
                )
            )
        )

    @admin.display(description="active members", ordering="member_count")
    def member_count(self, obj: Brand) -> int:
        return obj.member_count


@admin.register(BrandMembership)
class BrandMembershipAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("user", "brand", "role", "is_active", "created_at")
    list_select_related = ("user", "brand")
    list_filter = ("role", "is_active")
    search_fields = ("brand__name", "user__username", "user__email", "user__display_name")
    ordering = ("brand__name", "user__username")
    autocomplete_fields = ("brand", "user")
    fields = ("brand", "user", "role", "is_active", "created_at")
    readonly_fields = ("created_at",)
    readonly_after_create = ("brand", "user")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """View only: owners invite, invitees accept and owners revoke through `brands.services.invitations`.

    The token's hash is not shown: it is useless to a reader, and the raw token is never stored.
    """

    list_display = ("email", "brand", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_select_related = ("brand", "invited_by")
    list_filter = ("role", ("accepted_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "brand__name")
    ordering = ("-created_at",)
    fields = (
        "brand",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )


class IPRightDocumentInline(StoredDocumentInline):
    model = IPRightDocument
    document_fields = ("kind",)


# --- the association's review -----------------------------------------------------------------------


class StartReviewForm(forms.Form):
    def apply(self, *, obj_id: int, actor: Any) -> str:
        applications.application_start_review(application_id=obj_id, actor=actor)
        return "The application is under review."


class RequestInfoForm(forms.Form):
    message = forms.CharField(
        label="What should the brand add or explain?", widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )

    def apply(self, *, obj_id: int, actor: Any) -> str:
        applications.application_request_info(application_id=obj_id, actor=actor, message=self.cleaned_data["message"])
        return "The brand was asked for information by e-mail; the application waits for its answer."


class ApproveForm(forms.Form):
    renews_on = forms.DateField(
        label="Renewal date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The membership lapses on this date unless renewed. Empty: one membership term from today.",
    )
    reason = forms.CharField(
        label="Note to the brand (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def apply(self, *, obj_id: int, actor: Any) -> str:
        membership = applications.application_approve(
            application_id=obj_id,
            actor=actor,
            renews_on=self.cleaned_data["renews_on"],
            reason=self.cleaned_data["reason"],
        )
        return f"Approved: {membership.brand} is a member until {membership.renews_on:%d %B %Y}."


class RejectForm(forms.Form):
    reason = forms.CharField(label="Reason, sent to the brand", widget=forms.Textarea(attrs={"rows": 3}))

    def apply(self, *, obj_id: int, actor: Any) -> str:
        applications.application_reject(application_id=obj_id, actor=actor, reason=self.cleaned_data["reason"])
        return "Rejected; the brand was told the reason by e-mail."


class SuspendForm(forms.Form):
    reason = forms.CharField(label="Reason, sent to the brand", widget=forms.Textarea(attrs={"rows": 3}))

    def apply(self, *, obj_id: int, actor: Any) -> str:
        program.membership_suspend(membership_id=obj_id, actor=actor, reason=self.cleaned_data["reason"])
        return "Suspended: the brand's new notices take the standard lane."


class ReinstateForm(forms.Form):
    reason = forms.CharField(
        label="Note to the brand (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def apply(self, *, obj_id: int, actor: Any) -> str:
        program.membership_reinstate(membership_id=obj_id, actor=actor, reason=self.cleaned_data["reason"])
        return "Reinstated: the brand's new notices take the expedited lane again."


@dataclass(frozen=True)
class ProgramAction:
    name: str
    label: str
    form_class: type[forms.Form]
    #: The statuses the service's action may start from (`program.APPLICATIONS` / `program.MEMBERSHIPS`).
    allowed_from: tuple[str, ...]


class ProgramActionsAdminMixin(ServiceAdminMixin, PagePanelAdminMixin):
    """Decision forms on a program row's page, each posted to its own URL and applied by one service.

    Needs the model's change permission (the association reviewers have it); the row's own fields stay
    read-only (ReadOnlyAdminMixin), so nothing bypasses the services. A refusal (a transition the status
    does not allow, a missing reason) comes back as an error message after the action's label
    (`ServiceAdminMixin.call_service`).
    """

    actions_on_page: tuple[ProgramAction, ...] = ()

    def has_act_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/act/<str:action>/", wrap(self.act_view), name=self._url_name("act")),
            *super().get_urls(),
        ]

    def page_context(self, request: HttpRequest, obj: models.Model) -> dict[str, Any]:
        """What the row's page shows above its record (the template's panel)."""
        return {"action_forms": self.action_forms(request, obj)}

    def action_forms(self, request: HttpRequest, obj: models.Model) -> list[tuple[ProgramAction, forms.Form, str]]:
        if not self.has_act_permission(request):
            return []
        return [
            (
                action,
                action.form_class(prefix=action.name),
                reverse(f"{self.admin_site.name}:{self._url_name('act')}", args=[obj.pk, action.name]),
            )
            for action in self.actions_on_page
            if obj.status in action.allowed_from
        ]

    @method_decorator(require_POST)
    def act_view(self, request: HttpRequest, object_id: int, action: str) -> HttpResponse:
        if not self.has_act_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(self.model.objects.only("pk"), pk=object_id)
        chosen = next((a for a in self.actions_on_page if a.name == action), None)
        if chosen is None:
            raise Http404(f"No action {action!r}.")
        form = chosen.form_class(request.POST, prefix=chosen.name)
        if not form.is_valid():
            errors = "; ".join(
                f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
                for f, e in form.errors.items()
            )
            self.message_user(request, f"{chosen.label}: {errors}", messages.ERROR)
        else:
            done, outcome = self.call_service(
                request, form.apply, prefix=f"{chosen.label}: ", obj_id=obj.pk, actor=request.user
            )
            if done:
                self.message_user(request, outcome, messages.SUCCESS)
        return redirect(reverse(f"{self.admin_site.name}:{self._url_name('change')}", args=[obj.pk]))


APPLICATION_ACTIONS = (
    ProgramAction(
        "start_review", "Start the review", StartReviewForm, program.APPLICATION_ALLOWED_FROM["start_review"]
    ),
    ProgramAction("approve", "Approve", ApproveForm, program.APPLICATION_ALLOWED_FROM["approve"]),
    ProgramAction(
        "request_info", "Request information", RequestInfoForm, program.APPLICATION_ALLOWED_FROM["request_info"]
    ),
    ProgramAction("reject", "Reject", RejectForm, program.APPLICATION_ALLOWED_FROM["reject"]),
)
MEMBERSHIP_ACTIONS = (
    ProgramAction("suspend", "Suspend", SuspendForm, program.MEMBERSHIP_ALLOWED_FROM["suspend"]),
    ProgramAction("reinstate", "Reinstate", ReinstateForm, program.MEMBERSHIP_ALLOWED_FROM["reinstate"]),
)


class VerifyRightForm(forms.Form):
    note = forms.CharField(
        label="Note for the record (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def apply(self, *, obj_id: int, actor: Any) -> str:
        right = verification.ip_right_verify(right_id=obj_id, actor=actor, note=self.cleaned_data["note"])
        return f"Verified: {right} can be cited in new notices; the brand's owners were told by e-mail."


class RefuseRightForm(forms.Form):
    reason = forms.CharField(
        label="Reason, shown to the brand", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )

    def apply(self, *, obj_id: int, actor: Any) -> str:
        right = verification.ip_right_refuse(right_id=obj_id, actor=actor, reason=self.cleaned_data["reason"])
        return f"Refused: {right} cannot be cited; the brand's owners were told the reason by e-mail."


#: Who may verify or refuse a right (the moderation leads, by migration `cases.0005`; superusers).
VERIFY_RIGHTS_PERMISSION = "brands.verify_ipright"


@admin.register(IPRight)
class IPRightAdmin(ProgramActionsAdminMixin, NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The registry, and the verification queue: pending rights, oldest first, each with its documents a click
    away; a right's page offers verify and refuse (ProgramActionsAdminMixin) to who holds
    VERIFY_RIGHTS_PERMISSION. The status, and who verified, are set by `brands.services.verification` only."""

    list_display = (
        "name",
        "brand",
        "kind",
        "office",
        "registration_number",
        "status",
        "valid_until",
        "documents_links",
        "created_at",
        "verified_at",
        "retired_at",
    )
    list_select_related = ("brand",)
    list_filter = ("status", "kind", "office", ("retired_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "registration_number", "owner_name", "brand__name")
    ordering = ("brand__name", "name")
    autocomplete_fields = ("brand",)
    raw_id_fields = ("verified_by",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "brand",
                    "kind",
                    "name",
                    "registration_number",
                    "office",
                    "classes",
                    "owner_name",
                    ("valid_from", "valid_until"),
                )
            },
        ),
        (
            "Verification",
            {"fields": ("status", "decision_reason", "verified_at", "verified_by", "retired_at", "created_at")},
        ),
    )
    readonly_fields = ("status", "decision_reason", "verified_at", "verified_by", "retired_at", "created_at")
    readonly_after_create = ("brand",)
    inlines = (IPRightDocumentInline,)
    actions_on_page = (
        ProgramAction("verify", "Verify", VerifyRightForm, verification.RIGHT_ALLOWED_FROM["verify"]),
        ProgramAction("refuse", "Refuse", RefuseRightForm, verification.RIGHT_ALLOWED_FROM["refuse"]),
    )

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VERIFY_RIGHTS_PERMISSION)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[IPRight]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(models.Prefetch("documents", queryset=IPRightDocument.objects.order_by("pk")))
        )

    def get_ordering(self, request: HttpRequest) -> tuple[Any, ...]:
        # The verification queue (pending rights): the oldest submission first.
        if request.GET.get("status__exact") == IPRightStatus.PENDING:
            return ("created_at", "pk")
        return super().get_ordering(request)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name=self._url_name("queue")),
            path(
                "<int:object_id>/documents/<int:document_id>/",
                wrap(self.document_view),
                name=self._url_name("document"),
            ),
            *super().get_urls(),
        ]

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        """The verification queue: the changelist of pending, unretired rights, oldest first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        url = reverse(f"{self.admin_site.name}:{self._url_name('changelist')}")
        return redirect(f"{url}?status__exact={IPRightStatus.PENDING}&retired_at__isempty=1")

    def document_view(self, request: HttpRequest, object_id: int, document_id: int) -> FileResponse:
        """A right's document, as a download, for staff who may view rights' documents."""
        if not request.user.has_perm("brands.view_iprightdocument"):
            raise PermissionDenied
        return get_object_or_404(IPRightDocument, pk=document_id, right_id=object_id).as_attachment()

    @admin.display(description="documents")
    def documents_links(self, obj: IPRight) -> str:
        links = [
            (reverse(f"{self.admin_site.name}:{self._url_name('document')}", args=[obj.pk, d.pk]), d.original_name)
            for d in obj.documents.all()
        ]
        if not links:
            return "none"
        return format_html_join(", ", '<a href="{}">{}</a>', links)

    def page_context(self, request: HttpRequest, obj: IPRight) -> dict[str, Any]:
        return {
            "action_forms": self.action_forms(request, obj),
            "standing": right_standing(obj, timezone.localdate()),
            "documents": list(obj.documents.order_by("pk")),
            "document_url_prefix": reverse(
                f"{self.admin_site.name}:{self._url_name('document')}", args=[obj.pk, 0]
            ).removesuffix("0/"),
        }


class InformationRequestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InformationRequest
    extra = 0
    fields = ("message", "requested_by", "requested_at", "response", "responded_by", "responded_at")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[InformationRequest]:
        # application__brand: each row is titled with the request's __str__, which names them.
        return super().get_queryset(request).select_related("requested_by", "responded_by", "application__brand")


class ApplicationDocumentInline(ReadOnlyAdminMixin, StoredDocumentInline):
    model = ApplicationDocument


@admin.register(ProgramApplication)
class ProgramApplicationAdmin(ProgramActionsAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The reviewers' queue and an application's page: the brand's track record and rights, the documents,
    the requests for information, and the decisions (see ProgramActionsAdminMixin)."""

    list_display = ("brand", "company_name", "status", "submitted_at", "decided_at", "decided_by", "created_at")
    list_select_related = ("brand", "decided_by")
    list_filter = ("status",)
    search_fields = ("company_name", "brand__name", "association_member_number", "contact_email")
    date_hierarchy = "created_at"
    # Oldest submissions first: the review queue. Drafts (never submitted) sort last.
    ordering = (models.F("submitted_at").asc(nulls_last=True), "-created_at")
    actions_on_page = APPLICATION_ACTIONS
    raw_id_fields = ("attested_by", "created_by", "decided_by")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "brand",
                    "status",
                    "company_name",
                    "association_member_number",
                    ("contact_name", "contact_email"),
                    "enforcement_statement",
                    "rights",
                )
            },
        ),
        ("Attestation", {"fields": ("created_by", "created_at", "attested_by", "attested_at", "submitted_at")}),
        ("Decision", {"fields": ("decided_by", "decided_at", "decision_reason")}),
    )
    inlines = (InformationRequestInline, ApplicationDocumentInline)

    def get_urls(self) -> list[URLPattern]:
        document = path(
            "<int:object_id>/documents/<int:document_id>/",
            self.admin_site.admin_view(self.document_view),
            name=self._url_name("document"),
        )
        return [document, *super().get_urls()]

    def document_view(self, request: HttpRequest, object_id: int, document_id: int) -> FileResponse:
        """An application's document or a covered right's document, as a download, for who may view them."""
        if request.GET.get("right") and request.user.has_perm("brands.view_iprightdocument"):
            document = get_object_or_404(IPRightDocument, pk=document_id, right__program_applications__id=object_id)
        elif request.user.has_perm("brands.view_applicationdocument") and not request.GET.get("right"):
            document = get_object_or_404(ApplicationDocument, pk=document_id, application_id=object_id)
        else:
            raise PermissionDenied
        return document.as_attachment()

    def page_context(self, request: HttpRequest, application: ProgramApplication) -> dict[str, Any]:
        rights = list(
            application.rights.prefetch_related(
                models.Prefetch("documents", queryset=IPRightDocument.objects.order_by("pk"))
            ).order_by("name", "pk")
        )
        today = timezone.localdate()
        document_url = reverse(f"{self.admin_site.name}:{self._url_name('document')}", args=[application.pk, 0])
        return {
            "track_record": track_records(brand_ids=[application.brand_id], lane=Lane.STANDARD)[application.brand_id],
            "thresholds": program_thresholds(),
            "rights": [(right, right_standing(right, today)) for right in rights],
            "documents": list(application.documents.order_by("pk")),
            "document_url_prefix": document_url.removesuffix("0/"),
            "current_membership": ProgramMembership.objects.filter(
                brand_id=application.brand_id, status__in=MEMBERSHIP_CURRENT_STATUSES
            ).first(),
            "action_forms": self.action_forms(request, application),
        }


@admin.register(ProgramMembership)
class ProgramMembershipAdmin(ProgramActionsAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Members, their standing and renewal date; a membership's page shows its current accuracy (all lanes)
    and lets a reviewer suspend or reinstate it."""

    list_display = ("brand", "status", "started_at", "renews_on", "warned_at", "suspended_at", "checked_on")
    list_select_related = ("brand",)
    list_filter = ("status",)
    search_fields = ("brand__name",)
    ordering = ("-started_at",)
    raw_id_fields = ("application",)
    fields = (
        "brand",
        "application",
        "status",
        "started_at",
        "renews_on",
        "warned_at",
        "suspended_at",
        "ended_at",
        "checked_on",
        "below_thresholds_since",
        "accuracy_note",
        "renewal_reminder_days",
    )
    actions_on_page = MEMBERSHIP_ACTIONS

    def page_context(self, request: HttpRequest, membership: ProgramMembership) -> dict[str, Any]:
        record = track_records(brand_ids=[membership.brand_id])[membership.brand_id]
        return {
            "track_record": record,
            "standing": program_standing(record),
            "thresholds": program_thresholds(),
            "action_forms": self.action_forms(request, membership),
        }
