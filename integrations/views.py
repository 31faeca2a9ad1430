"""A brand's webhook pages: register endpoints, see each delivery, send a test event, delete.

Owners only (they manage the brand's integrations; the signing secret is shown on the endpoint's page).
Endpoints are looked up through `WebhookEndpoint.objects.for_user(user, brand=...)`: another brand's
endpoint (or a marketplace's) answers 404.
"""

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from brands.access import BrandAccessMixin
from brands.choices import Capability
from brands.views import ServiceFormView
from core.pagination import CappedPaginator
from integrations import selectors, services
from integrations.filtersets import WebhookDeliveryFilterSet
from integrations.forms import WebhookEndpointForm
from integrations.models import WebhookEndpoint

#: Endpoints a brand may register: enough for staging and production of a few systems.
MAX_ENDPOINTS_PER_BRAND = 10


class EndpointAccessMixin(BrandAccessMixin):
    model = WebhookEndpoint
    capability = Capability.MANAGE

    def endpoints(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.for_user(self.request.user, brand=self.brand)

    def get_endpoint(self) -> WebhookEndpoint:
        return get_object_or_404(self.endpoints(), pk=self.kwargs["pk"])


class WebhookEndpointListView(EndpointAccessMixin, ListView):
    template_name = "integrations/webhook_list.html"
    context_object_name = "endpoints"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return self.endpoints().order_by("-created_at", "-id")


class WebhookEndpointCreateView(EndpointAccessMixin, ServiceFormView):
    template_name = "integrations/webhook_form.html"
    form_class = WebhookEndpointForm

    def get_form_kwargs(self) -> dict[str, Any]:
        # The owner is set before validation: the model's one-owner constraint is checked with the form.
        return {**super().get_form_kwargs(), "instance": WebhookEndpoint(brand=self.brand)}

    def perform(self, form: WebhookEndpointForm) -> HttpResponse:
        if self.endpoints().count() >= MAX_ENDPOINTS_PER_BRAND:
            form.add_error(None, f"A brand has at most {MAX_ENDPOINTS_PER_BRAND} endpoints; delete one first.")
            return self.form_invalid(form)
        endpoint = services.webhook_endpoint_create(
            brand=self.brand,
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            actor=self.request.user,
        )
        messages.success(
            self.request, "Endpoint added. Copy its signing secret into your receiver, then send a test event."
        )
        return redirect("integrations:webhook_detail", brand_slug=self.brand.slug, pk=endpoint.pk)


class WebhookEndpointDetailView(EndpointAccessMixin, DetailView):
    template_name = "integrations/webhook_detail.html"
    context_object_name = "endpoint"
    paginate_by = 25

    def get_object(self, queryset: Any = None) -> WebhookEndpoint:
        return self.get_endpoint()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filterset = WebhookDeliveryFilterSet(
            self.request.GET, queryset=selectors.endpoint_deliveries(self.object.pk).prefetch_related("log")
        )
        paginator = CappedPaginator(filterset.qs, self.paginate_by)
        page = paginator.get_page(self.request.GET.get("page"))
        context.update(
            filterset=filterset,
            filtered=bool(self.request.GET.get("state")),
            deliveries=page.object_list,
            page_obj=page,
            paginator=paginator,
            is_paginated=paginator.num_pages > 1,
        )
        return context


class WebhookEndpointTestView(EndpointAccessMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        endpoint = self.get_endpoint()
        services.webhook_send_test(endpoint_id=endpoint.pk, actor=request.user)
        messages.success(request, "Test event queued: its delivery appears below within seconds.")
        return redirect("integrations:webhook_detail", brand_slug=self.brand.slug, pk=endpoint.pk)


class WebhookEndpointDeleteView(EndpointAccessMixin, TemplateView):
    template_name = "integrations/webhook_delete.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(endpoint=self.get_endpoint(), **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        endpoint = self.get_endpoint()
        services.webhook_endpoint_delete(endpoint_id=endpoint.pk, actor=request.user)
        messages.success(request, f"Endpoint {endpoint.url} deleted: it receives no more events.")
        return redirect("integrations:webhook_list", brand_slug=self.brand.slug)
