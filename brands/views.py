"""Brand pages: the home that lists a user's brands, a brand's overview, its team and document downloads.

Every brand view declares `model`, the brand-owned model it exposes; the tenancy meta-test uses it to
require a tenancy test for each such view.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from brands.access import BrandAccessMixin
from brands.choices import Capability, IPRightStatus
from brands.models import Brand, BrandMembership, IPRightDocument
from brands.selectors import brand_lane


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


class TeamView(BrandAccessMixin, ListView):
    """The brand's members and their roles (owners only: they manage the team)."""

    model = BrandMembership
    capability = Capability.MANAGE
    template_name = "brands/team.html"
    context_object_name = "members"

    def get_queryset(self):
        return BrandMembership.objects.for_user(self.request.user, brand=self.brand).select_related("user")


class IPRightDocumentDownloadView(BrandAccessMixin, View):
    """Serves a right's document only inside the tenant scope, always as an attachment."""

    model = IPRightDocument

    def get(self, request: HttpRequest, brand_slug: str, pk: int) -> FileResponse:
        document = get_object_or_404(IPRightDocument.objects.for_user(request.user, brand=self.brand), pk=pk)
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type or "application/octet-stream",
        )
