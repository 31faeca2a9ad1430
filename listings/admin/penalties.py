"""The repeat-infringer policy in the admin: the policy and its ladder, strikes, and penalties.

The policy's form and its thresholds' formset only check what was typed; `penalty_policy_save` (in
`listings.penalties`) saves the policy with its ladder and audits it, and the ladder's rule (a harsher
action needs more strikes) is that module's `penalty_ladder_check`, which the formset asks early so the
refusal lands on the form. Strikes and penalties, which only the policy writes, are view-only; leads lift
penalties through a changelist action that calls `penalty_lift`.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from core.admin.mixins import (
    CachedValuesListFilter,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
)
from listings import penalties
from listings.models import (
    PenaltyPolicy,
    PenaltyThreshold,
    SellerPenalty,
    Strike,
)

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
    """The ladder as typed; it never writes: `PenaltyPolicyAdmin.save_related` hands `ladder()` to
    `penalty_policy_save`, and `clean` asks the service's rule early, so a refusal lands on the form."""

    def ladder(self) -> dict[str, int]:
        """Action → strikes of the forms that are filled in and not deleted."""
        return {
            form.cleaned_data["action"]: form.cleaned_data["strikes"]
            for form in self.forms
            if form.cleaned_data.get("action")
            and form.cleaned_data.get("strikes")
            and not form.cleaned_data.get("DELETE")
        }

    def clean(self) -> None:
        super().clean()
        penalties.penalty_ladder_check(self.ladder())


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

    def save_model(self, request: HttpRequest, obj: PenaltyPolicy, form, change: bool) -> None:
        """Nothing yet: `save_related` saves the policy together with its ladder, through the service."""

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        for formset in formsets:
            formset.save(commit=False)  # writes nothing; lists what changed, for the admin's history
        thresholds = next((f for f in formsets if isinstance(f, PenaltyThresholdFormSet)), None)
        ladder = thresholds.ladder() if thresholds is not None and thresholds.has_changed() else None
        penalties.penalty_policy_save(policy=form.instance, ladder=ladder, actor=request.user)
        form.save_m2m()


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
        "applied_by_display",
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
        ("Applied", {"fields": ("applied_at", "applied_by_display", "automated")}),
        ("Lifted", {"fields": ("lifted_at", "lifted_by", "lift_reason")}),
    )
    actions = ("lift_penalties",)

    @admin.display(description="applied by")
    def applied_by_display(self, obj: SellerPenalty) -> str:
        """The policy for an automatic penalty (its reason names the policy and the event that set it off)."""
        if obj.automated:
            return "Repeat-infringer policy (automated)"
        return str(obj.applied_by) if obj.applied_by_id else "-"

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
