"""Brand pages: the home that lists a user's brands, a brand's overview, its team, its IP rights registry,
document downloads, and the page where an invitee accepts an invitation.

Every brand view declares `model`, the brand-owned model it exposes; the tenancy meta-test uses it to
require a tenancy test for each such view. Objects are looked up through `for_user(user, brand=...)`, so
another brand's id answers 404. Views stay thin: forms validate, services in `brands.services` write; a
service's refusal (`ValidationError` or `core.errors.DomainError`) is shown on the form or as a message.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.timesince import timesince, timeuntil
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, FormView, ListView, TemplateView

from brands.access import BrandAccessMixin
from brands.choices import APPLICATION_OPEN_STATUSES, ApplicationStatus, Capability, IPRightStatus
from brands.filtersets import IPRightFilterSet
from brands.forms import (
    InvitationForm,
    InvitationSignupForm,
    IPRightCreateForm,
    IPRightDocumentForm,
    IPRightForm,
    IPRightRetireForm,
    MembershipRoleForm,
    ProgramApplicationForm,
)
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
from brands.selectors import brand_lane
from brands.services import applications, invitations, rights, team
from brands.services.program import APPLICATION_ALLOWED_FROM
from core.audit.models import AuditEvent
from core.audit.selectors import audit_timeline
from core.files import StoredDocument
from core.pagination import CappedPaginator
from core.views import SERVICE_ERRORS, ServiceFormMixin, add_service_error, refusal_text


class HomeView(LoginRequiredMixin, TemplateView):
    """Where a user lands after logging in: straight into their brand, or a choice between several."""

    template_name = "brands/home.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        brands = list(Brand.objects.for_user(request.user))
        if len(brands) == 1:
            return redirect("brands:overview", brand_slug=brands[0].slug)
        return self.render_to_response(self.get_context_data(brands=brands))


class BrandOverviewView(BrandAccessMixin, DetailView):
    model = Brand
    template_name = "brands/overview.html"
    context_object_name = "brand"

    def get_object(self, queryset: Any = None) -> Brand:
        return self.brand

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["lane"] = brand_lane(self.brand)
        context["rights"] = self.brand.ip_rights.aggregate(
            total=Count("pk", filter=Q(retired_at__isnull=True)),
            verified=Count("pk", filter=Q(status=IPRightStatus.VERIFIED, retired_at__isnull=True)),
        )
        return context


class ServiceFormView(BrandAccessMixin, ServiceFormMixin, FormView):
    """A brand page whose valid form is handed to one service; a refusal of the service lands on the form."""


# --- team -----------------------------------------------------------------------------------------


class TeamView(BrandAccessMixin, ListView):
    """The brand's members, their roles and the open invitations (owners only: they manage the team)."""

    model = BrandMembership
    capability = Capability.MANAGE
    template_name = "brands/team.html"
    context_object_name = "members"

    def get_queryset(self) -> QuerySet[BrandMembership]:
        return (
            BrandMembership.objects.for_user(self.request.user, brand=self.brand)
            .select_related("user")
            .order_by("-is_active", "user__username")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["invitations"] = (
            Invitation.objects.for_user(self.request.user, brand=self.brand).open().select_related("invited_by")
        )
        return context


class TeamInviteView(ServiceFormView):
    model = Invitation
    capability = Capability.MANAGE
    template_name = "brands/team_invite.html"
    form_class = InvitationForm

    def perform(self, form: InvitationForm) -> HttpResponse:
        invitation = invitations.invitation_create(
            brand=self.brand,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=self.request.user,
            site_url=self.request.build_absolute_uri("/"),
        )
        messages.success(
            self.request,
            f"Invitation sent to {invitation.email} as {invitation.get_role_display().lower()}."
            f" The link works once, until {date_format(timezone.localtime(invitation.expires_at), 'j F Y')}.",
        )
        return redirect("brands:team", brand_slug=self.brand.slug)


class InvitationRevokeView(BrandAccessMixin, View):
    model = Invitation
    capability = Capability.MANAGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, brand_slug: str, pk: int) -> HttpResponse:
        invitation = get_object_or_404(Invitation.objects.for_user(request.user, brand=self.brand), pk=pk)
        try:
            invitations.invitation_revoke(invitation=invitation, actor=request.user)
        except SERVICE_ERRORS as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, f"The invitation of {invitation.email} was revoked; its link no longer works.")
        return redirect("brands:team", brand_slug=self.brand.slug)


class MemberMixin:
    """Views about one active member of the brand in the URL."""

    model = BrandMembership
    capability = Capability.MANAGE

    def get_member(self) -> BrandMembership:
        if not hasattr(self, "member"):
            self.member = get_object_or_404(
                BrandMembership.objects.for_user(self.request.user, brand=self.brand).active().select_related("user"),
                pk=self.kwargs["pk"],
            )
        return self.member

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(member=self.get_member(), **kwargs)

    def after_change(self, member: BrandMembership) -> HttpResponseRedirect:
        """Back to the team page; owners who stepped down go where they still may go."""
        if member.user_id == self.request.user.pk and not member.is_active:
            return redirect("home")
        if member.user_id == self.request.user.pk and not member.can(Capability.MANAGE):
            return redirect("brands:overview", brand_slug=self.brand.slug)
        return redirect("brands:team", brand_slug=self.brand.slug)


class MemberUpdateView(MemberMixin, ServiceFormView):
    template_name = "brands/member_update.html"
    form_class = MembershipRoleForm

    def get_initial(self) -> dict[str, Any]:
        return {"role": self.get_member().role}

    def perform(self, form: MembershipRoleForm) -> HttpResponse:
        member = team.membership_change_role(
            membership=self.get_member(), role=form.cleaned_data["role"], actor=self.request.user
        )
        messages.success(self.request, f"{member.user} is now {member.get_role_display().lower()} of {self.brand}.")
        return self.after_change(member)


class MemberRemoveView(MemberMixin, BrandAccessMixin, TemplateView):
    template_name = "brands/member_remove.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = self.get_member()
        try:
            member = team.membership_remove(membership=member, actor=request.user)
        except SERVICE_ERRORS as error:
            return self.render_to_response(self.get_context_data(errors=[refusal_text(error)]), status=400)
        messages.success(request, f"{member.user} was removed from {self.brand}.")
        return self.after_change(member)


# --- invitations (the invitee's side) -------------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class InvitationAcceptView(TemplateView):
    """The page an invitation link opens. Not under /b/<brand>/: the invitee is not a member yet.

    GET only shows what the link offers (mail scanners open links); a POST accepts it, for the logged-in
    user, or for a new account created from the form on the page. A visitor with an account logs in first
    and comes back here.
    """

    template_name = "brands/invitation_accept.html"
    unusable_template_name = "brands/invitation_unusable.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            self.invitation = invitations.invitation_from_token(token=kwargs["token"])
        except invitations.InvitationNotUsable as error:
            return self.unusable(error)
        return super().dispatch(request, *args, **kwargs)

    def unusable(self, error: invitations.InvitationNotUsable) -> HttpResponse:
        return self.response_class(
            request=self.request,
            template=[self.unusable_template_name],
            context={"status": error.invitation_status, "invitation": error.invitation},
            status=error.status,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["invitation"] = self.invitation
        context["role_description"] = invitations.role_description(self.invitation.role)
        if not self.request.user.is_authenticated and "signup_form" not in context:
            context["signup_form"] = InvitationSignupForm(email=self.invitation.email)
        return context

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            if not request.user.is_authenticated:
                return self.sign_up(token)
            membership = invitations.invitation_accept(token=token, user=request.user)
        except invitations.InvitationNotUsable as error:
            return self.unusable(error)
        except SERVICE_ERRORS as error:
            return self.render_to_response(self.get_context_data(errors=[refusal_text(error)]), status=400)
        return self.joined(membership)

    def sign_up(self, token: str) -> HttpResponse:
        """A new account from the form on the page, logged in and added to the brand in one step."""
        form = InvitationSignupForm(self.request.POST, email=self.invitation.email)
        if form.is_valid():
            try:
                user = invitations.invitation_signup(
                    token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
                )
            except SERVICE_ERRORS as error:
                add_service_error(form, error)
            else:
                login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
                return self.joined(user.brand_memberships.select_related("brand").get(brand=self.invitation.brand))
        return self.render_to_response(self.get_context_data(signup_form=form), status=400)

    def joined(self, membership: BrandMembership) -> HttpResponse:
        messages.success(
            self.request,
            f"Welcome to {membership.brand}: you are {membership.get_role_display().lower()} of this brand.",
        )
        return redirect("brands:overview", brand_slug=membership.brand.slug)


# --- IP rights ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RightStanding:
    """How a right stands today: whether a new case may rely on it, and how long its validity has left.

    Mirrors `IPRightQuerySet.usable()`, the rule the filing form applies (a test keeps them in step).
    """

    usable: bool
    blocker: str
    time_left: str
    expiring_soon: bool
    expired: bool


#: A right this close to the end of its validity is flagged, so its renewal is not missed.
EXPIRING_SOON_DAYS = 90


def _time_left(valid_until: date | None, today: date) -> str:
    if valid_until is None:
        return "no expiry date"
    days = (valid_until - today).days
    if days == 0:
        return "expires today"
    if days == 1:
        return "expires tomorrow"
    if days == -1:
        return "expired yesterday"
    if 1 < days <= 60:
        return f"expires in {days} days"
    if -60 <= days < -1:
        return f"expired {-days} days ago"
    if days > 0:
        return f"expires in {timeuntil(valid_until, today, depth=1)}"
    return f"expired {timesince(valid_until, today, depth=1)} ago"


def right_standing(right: IPRight, today: date) -> RightStanding:
    if right.retired_at is not None:
        blocker = "retired"
    elif right.status != IPRightStatus.VERIFIED:
        blocker = str(right.get_status_display()).lower()
    elif right.valid_until is not None and right.valid_until < today:
        blocker = "expired"
    elif right.valid_from is not None and right.valid_from > today:
        blocker = "not valid yet"
    else:
        blocker = ""
    days_left = (right.valid_until - today).days if right.valid_until else None
    return RightStanding(
        usable=not blocker,
        blocker=blocker,
        time_left=_time_left(right.valid_until, today),
        expiring_soon=days_left is not None and 0 <= days_left <= EXPIRING_SOON_DAYS,
        expired=days_left is not None and days_left < 0,
    )


@dataclass(frozen=True)
class SortColumn:
    label: str
    param: str
    next: str
    aria_sort: str


class IPRightListView(BrandAccessMixin, ListView):
    """The registry: filter, search, sort and page through the brand's rights."""

    model = IPRight
    template_name = "brands/right_list.html"
    paginate_by = 25
    paginator_class = CappedPaginator
    columns = (
        ("name", "Name"),
        ("kind", "Kind"),
        ("office", "Office"),
        ("registration_number", "Registration number"),
        ("status", "Status"),
        ("valid_until", "Valid until"),
    )

    def get_queryset(self) -> QuerySet[IPRight]:
        registry = IPRight.objects.for_user(self.request.user, brand=self.brand)
        self.filterset = IPRightFilterSet(self.request.GET, queryset=registry)
        return self.filterset.qs.annotate(document_count=Count("documents"))

    def sort_columns(self) -> list[SortColumn]:
        current = (self.request.GET.get("sort") or "name").split(",")[0]
        columns = []
        for param, label in self.columns:
            if current == param:
                columns.append(SortColumn(label, param, f"-{param}", "ascending"))
            elif current == f"-{param}":
                columns.append(SortColumn(label, param, param, "descending"))
            else:
                columns.append(SortColumn(label, param, param, ""))
        return columns

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        context.update(
            filterset=self.filterset,
            filtered=any(value for key, value in self.request.GET.items() if key not in {"page", "sort"}),
            sort_columns=self.sort_columns(),
            rows=[(right, right_standing(right, today)) for right in context["object_list"]],
            can_manage=self.membership.can(Capability.MANAGE),
        )
        return context


class RightMixin:
    """Views about one right of the brand in the URL."""

    model = IPRight

    def get_right(self) -> IPRight:
        if not hasattr(self, "right"):
            self.right = get_object_or_404(
                IPRight.objects.for_user(self.request.user, brand=self.brand), pk=self.kwargs["pk"]
            )
        return self.right

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        right = self.get_right()
        return super().get_context_data(right=right, standing=right_standing(right, timezone.localdate()), **kwargs)

    def refuse_if_retired(self) -> HttpResponse | None:
        """Retired rights are read-only: their edit and upload pages send the owner back with a message."""
        right = self.get_right()
        if right.retired_at is None:
            return None
        messages.error(self.request, f"{right.name} is retired: it is kept for the record and no longer changed.")
        return redirect("brands:right_detail", brand_slug=self.brand.slug, pk=right.pk)


#: How the right's history reads; an action not listed shows its code.
HISTORY_VERBS = {
    "ip_right.create": "added the right",
    "ip_right.update": "changed",
    "ip_right.retire": "retired it",
    "ip_right.add_document": "added a document",
    "ip_right.verify": "verified it",
    "ip_right.refuse": "refused to verify it",
    "ip_right.resubmit": "sent it for verification again",
}


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    verb: str
    detail: str


def history_entry(event: AuditEvent) -> HistoryEntry:
    if event.action == "ip_right.update":
        detail = ", ".join(str(IPRightForm.Meta.labels.get(name, name)).lower() for name in event.data)
    elif event.action == "ip_right.add_document":
        detail = event.data.get("name", "")
    else:
        detail = event.reason
    return HistoryEntry(event=event, verb=HISTORY_VERBS.get(event.action, event.action), detail=detail)


class IPRightDetailView(RightMixin, BrandAccessMixin, TemplateView):
    template_name = "brands/right_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        right = self.get_right()
        return super().get_context_data(
            documents=right.documents.select_related("uploaded_by").order_by("-uploaded_at"),
            history=[history_entry(event) for event in audit_timeline(right)],
            can_manage=self.membership.can(Capability.MANAGE),
            document_form=IPRightDocumentForm(),
            **kwargs,
        )


class IPRightCreateView(ServiceFormView):
    model = IPRight
    capability = Capability.MANAGE
    template_name = "brands/right_form.html"
    form_class = IPRightCreateForm

    def perform(self, form: IPRightCreateForm) -> HttpResponse:
        right = rights.ip_right_create(
            brand=self.brand,
            actor=self.request.user,
            document=form.cleaned_data["document"],
            **form.registration_data(),
        )
        messages.success(
            self.request,
            f"{right.name} was added. It is pending verification by marketplace staff and can be used in new"
            " cases once verified.",
        )
        return redirect("brands:right_detail", brand_slug=self.brand.slug, pk=right.pk)


class IPRightUpdateView(RightMixin, ServiceFormView):
    capability = Capability.MANAGE
    template_name = "brands/right_form.html"
    form_class = IPRightForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_retired() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_retired() or super().post(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.get_right()}

    def perform(self, form: IPRightForm) -> HttpResponse:
        before = self.get_right().status
        right = rights.ip_right_update(right=self.get_right(), actor=self.request.user, data=form.registration_data())
        if before != right.status:
            messages.success(
                self.request,
                f"Saved. {right.name} was {IPRightStatus(before).label.lower()}; its registration details changed,"
                " so it is pending verification again and cannot be used in new cases until it is verified.",
            )
        else:
            messages.success(self.request, f"{right.name} was saved.")
        return redirect("brands:right_detail", brand_slug=self.brand.slug, pk=right.pk)


class IPRightRetireView(RightMixin, ServiceFormView):
    capability = Capability.MANAGE
    template_name = "brands/right_retire.html"
    form_class = IPRightRetireForm

    def perform(self, form: IPRightRetireForm) -> HttpResponse:
        right = rights.ip_right_retire(
            right=self.get_right(), actor=self.request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(self.request, f"{right.name} was retired: new cases can no longer cite it.")
        return redirect("brands:right_detail", brand_slug=self.brand.slug, pk=right.pk)


class IPRightDocumentCreateView(RightMixin, ServiceFormView):
    model = IPRightDocument
    capability = Capability.MANAGE
    template_name = "brands/right_document_form.html"
    form_class = IPRightDocumentForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_retired() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_retired() or super().post(request, *args, **kwargs)

    def perform(self, form: IPRightDocumentForm) -> HttpResponse:
        document = rights.ip_right_add_document(
            right=self.get_right(),
            actor=self.request.user,
            upload=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
        messages.success(self.request, f"{document.original_name} was added to {self.get_right().name}.")
        return redirect("brands:right_detail", brand_slug=self.brand.slug, pk=self.get_right().pk)


class DocumentDownloadView(BrandAccessMixin, View):
    """Serves a stored document (a `StoredDocument` model with a brand scope) only inside the tenant scope,
    always as an attachment, with the type detected at upload and nosniff (Django's default)."""

    model: type[StoredDocument]

    def get(self, request: HttpRequest, brand_slug: str, pk: int) -> FileResponse:
        return get_object_or_404(self.model.objects.for_user(request.user, brand=self.brand), pk=pk).as_attachment()


class IPRightDocumentDownloadView(DocumentDownloadView):
    model = IPRightDocument


# --- the MarketSafe program -----------------------------------------------------------------------


class ProgramMixin:
    """The brand's place in the program: its current membership and its open (or latest) application."""

    def program_state(self) -> dict[str, Any]:
        brand_applications = ProgramApplication.objects.for_user(self.request.user, brand=self.brand)
        open_application = brand_applications.filter(status__in=APPLICATION_OPEN_STATUSES).first()
        membership = (
            ProgramMembership.objects.for_user(self.request.user, brand=self.brand)
            .order_by("-started_at", "-pk")
            .first()
        )
        return {
            "open_application": open_application,
            "program_membership": membership,
            "applications": brand_applications,
        }


class ProgramView(ProgramMixin, BrandAccessMixin, TemplateView):
    """Where the brand stands in the MarketSafe program, the requests for information, and its applications."""

    model = ProgramApplication
    template_name = "brands/program.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        state = self.program_state()
        shown = state["open_application"] or state["applications"].first()
        return super().get_context_data(
            **state,
            application=shown,
            information_requests=shown.information_requests.select_related("requested_by", "responded_by")
            if shown
            else [],
            documents=shown.documents.select_related("uploaded_by").order_by("pk") if shown else [],
            covered_rights=shown.rights.order_by("name", "pk") if shown else [],
            past_applications=state["applications"].exclude(pk=shown.pk)[:20] if shown else [],
            can_manage=self.membership.can(Capability.MANAGE),
            editable=shown is not None and shown.status in APPLICATION_ALLOWED_FROM["edit"],
            lane=brand_lane(self.brand),
            **kwargs,
        )


class ProgramApplyView(ProgramMixin, ServiceFormView):
    """The application form: a new application, or the open one while it is a draft or awaits an answer."""

    model = ProgramApplication
    capability = Capability.MANAGE
    template_name = "brands/program_form.html"
    form_class = ProgramApplicationForm

    def get_application(self) -> ProgramApplication | None:
        if not hasattr(self, "application"):
            self.application = self.program_state()["open_application"]
        return self.application

    def refuse_if_locked(self) -> HttpResponse | None:
        application = self.get_application()
        if application is None or application.status in APPLICATION_ALLOWED_FROM["edit"]:
            return None
        messages.error(
            self.request,
            f"Your application is {application.get_status_display().lower()}: it cannot be changed while the"
            " association reviews it.",
        )
        return redirect("brands:program", brand_slug=self.brand.slug)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_locked() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_locked() or super().post(request, *args, **kwargs)

    def open_request(self) -> InformationRequest | None:
        application = self.get_application()
        if application is None or application.status != ApplicationStatus.INFO_REQUESTED:
            return None
        return application.information_requests.filter(responded_at__isnull=True).order_by("pk").last()

    def get_initial(self) -> dict[str, Any]:
        if self.get_application() is not None:
            return {}
        previous = self.program_state()["applications"].first()
        if previous is not None:
            # A renewal or a new attempt starts from the last application's details.
            return {
                **{name: getattr(previous, name) for name in applications.APPLICATION_FIELDS},
                "rights": list(previous.rights.values_list("pk", flat=True)),
            }
        return {
            "company_name": self.brand.legal_name or self.brand.name,
            "contact_name": self.request.user.get_full_name(),
            "contact_email": self.request.user.email,
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs.update(brand=self.brand, open_request=self.open_request())
        if self.get_application() is not None:
            kwargs["instance"] = self.get_application()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        application = self.get_application()
        return super().get_context_data(
            application=application,
            documents=application.documents.order_by("pk") if application else [],
            **kwargs,
        )

    def perform(self, form: ProgramApplicationForm) -> HttpResponse:
        submit = "submit" in self.request.POST
        document = form.cleaned_data["document"]
        application = applications.application_save(
            brand=self.brand,
            actor=self.request.user,
            data=form.application_data(),
            rights=list(form.cleaned_data["rights"]),
            documents=[document] if document else [],
            response=form.cleaned_data.get("response", ""),
            submit=submit,
            attest=form.cleaned_data["attest"],
        )
        if submit:
            messages.success(
                self.request,
                "Your application was submitted. The association reviews it and answers by e-mail and on this page.",
            )
            return redirect("brands:program", brand_slug=self.brand.slug)
        messages.success(self.request, "Your draft was saved. Submit it when it is complete.")
        return redirect("brands:program_apply", brand_slug=application.brand.slug)


class ApplicationDocumentDownloadView(DocumentDownloadView):
    model = ApplicationDocument
