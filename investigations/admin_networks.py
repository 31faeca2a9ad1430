"""Seller networks in the moderation console (issue 19).

- The network page, `admin:investigations_seller_network` at `<admin>/investigations/networks/<seller id>/`,
  linked from every seller's admin page: the network around the seller drawn as an SVG rendered here (rings
  by distance from the seller, no script), the table of its sellers (marketplace, status, active strikes,
  live listings) and of its links (which kind of identifier, never its value; identical images;
  re-listings), and the search's caps. Moderators and leads (`investigations.view_networkaction`) see it.
- Its actions: suspend every account, or delist every live listing, through
  `investigations.services.networks` (one delisting job per network, whose page shows the progress). A large
  network's action waits for a second lead; pending actions show on the page with Approve and Decline for
  the other leads, and in the actions' list (`NetworkActionAdmin`).
- The seller's admin is re-registered with the link to its network (listings knows nothing of networks).
"""

import math
import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.generic import TemplateView

from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin, ServiceAdminMixin
from core.views import SERVICE_ERRORS, refusal_text
from investigations.models import NetworkAction, NetworkActionKind, NetworkActionStatus
from investigations.selectors_networks import IMAGE, RELISTING, Network, seller_network
from investigations.services import networks as services
from listings.admin import SellerAdmin
from listings.models import Seller

#: The drawing's size (its viewBox), the nodes' radius and how many letters of a name are drawn.
WIDTH, HEIGHT, NODE_RADIUS, NAME_LETTERS = 720, 520, 14, 18
STATUS_COLOURS = {
    "active": "#2e7d32",
    "warned": "#f9a825",
    "restricted": "#ef6c00",
    "suspended": "#c62828",
    "terminated": "#424242",
}
REASON_COLOURS = {IMAGE: "#6a1b9a", RELISTING: "#ad1457"}
IDENTIFIER_COLOUR = "#1565c0"


@dataclass
class DrawnNode:
    x: float
    y: float
    label_y: float
    colour: str
    name: str
    title: str
    root: bool


@dataclass
class DrawnEdge:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    width: float
    title: str


def network_drawing(network: Network) -> tuple[list[DrawnNode], list[DrawnEdge]]:
    """A layout by rings: the seller in the middle, sellers n links away on the n-th ring, evenly spaced."""
    rings: dict[int, list] = {}
    for node in network.nodes:
        rings.setdefault(node.depth, []).append(node)
    step = (min(WIDTH, HEIGHT) / 2 - 50) / max(len(rings) - 1, 1)
    at: dict[int, tuple[float, float]] = {}
    drawn = []
    for depth, nodes in sorted(rings.items()):
        for i, node in enumerate(nodes):
            angle = 2 * math.pi * i / len(nodes) + depth * 0.4 - math.pi / 2
            x, y = WIDTH / 2 + depth * step * math.cos(angle), HEIGHT / 2 + depth * step * math.sin(angle)
            at[node.seller.pk] = (x, y)
            seller = node.seller
            drawn.append(
                DrawnNode(
                    round(x, 1),
                    round(y, 1),
                    round(y + NODE_RADIUS + 14, 1),
                    STATUS_COLOURS.get(seller.status, "#757575"),
                    seller.name[:NAME_LETTERS] + ("…" if len(seller.name) > NAME_LETTERS else ""),
                    f"{seller.name} ({seller.marketplace.name}): {seller.get_status_display()}, "
                    f"{node.active_strikes} active strike(s), {node.live_listings} live listing(s)",
                    seller.pk == network.root_id,
                )
            )
    edges = []
    for edge in network.edges:
        (x1, y1), (x2, y2) = at[edge.a], at[edge.b]
        only = next(iter(edge.reasons)) if len(edge.reasons) == 1 else None
        colour = REASON_COLOURS.get(only, IDENTIFIER_COLOUR) if only else "#37474f"
        width = min(1.5 + sum(edge.reasons.values()), 6)
        edges.append(
            DrawnEdge(round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1), colour, width, ", ".join(edge.labels))
        )
    return drawn, edges


#: What the services refuse with: shown as the page's error message.
REFUSALS = (*SERVICE_ERRORS, PermissionDenied)


def _refusal(error: Exception) -> str:
    if isinstance(error, SERVICE_ERRORS):
        return refusal_text(error)
    return str(error) or "Not allowed."


class NetworkActionForm(forms.Form):
    kind = forms.ChoiceField(choices=NetworkActionKind.choices, widget=forms.RadioSelect, label="Action")
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with the action, on every account suspended and on every listing removed.",
    )
    token = forms.CharField(widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    action_id = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(max_length=2000, required=False)


class SellerNetworkView(TemplateView):
    """The network page of one seller, and its actions (POST)."""

    template_name = "admin/investigations/seller_network.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perms([services.VIEW_PERMISSION, "listings.view_seller"]):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, seller_id: int) -> HttpResponse:
        return self.render(request, get_object_or_404(Seller, pk=seller_id))

    def post(self, request: HttpRequest, seller_id: int) -> HttpResponse:
        seller = get_object_or_404(Seller, pk=seller_id)
        here = reverse("admin:investigations_seller_network", args=[seller.pk])
        if "decision" in request.POST:
            return self.decide(request, here)
        form = NetworkActionForm(request.POST)
        if not form.is_valid():
            return self.render(request, seller, form=form)
        try:
            action = services.network_action_request(
                seller_id=seller.pk,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                idempotency_key=f"network-{request.user.pk}-{form.cleaned_data['token']}",
            )
        except REFUSALS as error:
            messages.error(request, _refusal(error))
            return redirect(here)
        if action.status == NetworkActionStatus.PENDING:
            messages.warning(
                request,
                f"{action}: waits for a second moderation lead ({len(action.seller_ids)} sellers, "
                f"{action.live_listings} live listings).",
            )
            return redirect(here)
        messages.success(request, f"{action}: delisting job #{action.delist_job_id} started.")
        return redirect("admin:listings_delistjob_change", action.delist_job_id)

    def decide(self, request: HttpRequest, here: str) -> HttpResponse:
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose approve or decline.")
            return redirect(here)
        data = form.cleaned_data
        try:
            if data["decision"] == "approve":
                action = services.network_action_approve(action_id=data["action_id"], actor=request.user)
            else:
                action = services.network_action_decline(
                    action_id=data["action_id"], actor=request.user, reason=data["reason"] or ""
                )
        except (*REFUSALS, NetworkAction.DoesNotExist) as error:
            messages.error(request, _refusal(error))
            return redirect(here)
        if action.status == NetworkActionStatus.EXECUTED:
            messages.success(request, f"{action}: approved; delisting job #{action.delist_job_id} started.")
            return redirect("admin:listings_delistjob_change", action.delist_job_id)
        messages.success(request, f"{action}: declined.")
        return redirect(here)

    def render(self, request: HttpRequest, seller: Seller, form: NetworkActionForm | None = None) -> HttpResponse:
        network = seller_network(seller.pk)
        nodes, edges = network_drawing(network)
        min_sellers, min_listings = services.approval_thresholds()
        user = request.user
        pending = list(
            NetworkAction.objects.filter(status=NetworkActionStatus.PENDING, root_seller__in=network.seller_ids)
            .select_related("requested_by")
            .order_by("pk")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Network of {seller.name}",
            "seller": seller,
            "network": network,
            "drawn_nodes": nodes,
            "drawn_edges": edges,
            "width": WIDTH,
            "height": HEIGHT,
            "node_radius": NODE_RADIUS,
            "status_colours": STATUS_COLOURS,
            "legend": [
                ("Shared identifier", IDENTIFIER_COLOUR),
                ("Identical image", REASON_COLOURS[IMAGE]),
                ("Re-listing", REASON_COLOURS[RELISTING]),
                ("Several reasons", "#37474f"),
            ],
            "needs_second_approval": services.needs_second_approval(
                sellers=len(network), live_listings=network.live_listings, truncated=network.truncated
            ),
            "min_sellers": min_sellers,
            "min_listings": min_listings,
            "can_act": user.has_perm(services.REQUEST_PERMISSION),
            "can_approve": user.has_perm(services.APPROVE_PERMISSION),
            "can_decline": user.has_perm(services.DECLINE_PERMISSION),
            "pending": pending,
            "form": form or NetworkActionForm(initial={"token": secrets.token_urlsafe(16)}),
            "seller_url": reverse("admin:listings_seller_change", args=[seller.pk]),
        }
        return self.render_to_response(context)


admin.site.register_page(
    "investigations/networks/<int:seller_id>/", SellerNetworkView, name="investigations_seller_network"
)


@admin.register(NetworkAction)
class NetworkActionAdmin(ReadOnlyAdminMixin, ServiceAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Actions on whole networks: asked for on the network page, approved there or here by a second lead."""

    list_display = (
        "id",
        "kind",
        "root_seller",
        "seller_count",
        "live_listings",
        "status",
        "requested_by",
        "requested_at",
        "approved_by",
        "job_link",
    )
    list_filter = ("status", "kind")
    list_select_related = ("root_seller__marketplace", "requested_by", "approved_by")
    raw_id_fields = ("root_seller", "delist_job")
    ordering = ("-pk",)
    sortable_by = ("id",)
    actions = ("approve",)

    @admin.display(description="sellers")
    def seller_count(self, action: NetworkAction) -> int:
        return len(action.seller_ids)

    @admin.display(description="delisting job")
    def job_link(self, action: NetworkAction) -> str:
        if action.delist_job_id is None:
            return "—"
        url = reverse("admin:listings_delistjob_change", args=[action.delist_job_id])
        return format_html('<a href="{}">#{}</a>', url, action.delist_job_id)

    @admin.action(description="Approve the selected actions (as the second lead)", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: models.QuerySet[NetworkAction]) -> None:
        done = 0
        for action in queryset.order_by("pk"):
            ok, _ = self.call_service(
                request, services.network_action_approve, prefix=f"{action}: ", action_id=action.pk, actor=request.user
            )
            done += ok
        if done:
            self.message_user(request, f"{done} network action(s) approved and executed.", messages.SUCCESS)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(services.APPROVE_PERMISSION)


admin.site.unregister(Seller)


@admin.register(Seller)
class NetworkSellerAdmin(SellerAdmin):
    """The seller's admin with a link to its network."""

    @admin.display(description="see also")
    def related(self, obj: Seller) -> str:
        links = super().related(obj)
        if obj.pk is None:
            return links
        url = reverse("admin:investigations_seller_network", args=[obj.pk])
        return format_html('{} · <a href="{}">Seller network</a>', links, url)
