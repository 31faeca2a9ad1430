"""A case with all its items (a page at a time), their decisions, deadlines and audit timelines, and the
brand's actions on each item: withdraw, amend and resubmit, answer a counter-notice, appeal.

Actions are POST-only views that need the FILE capability (owners and reporters). Each looks the item up
through the tenant scope, validates its form, calls the service and redirects back to the item with a
message; the service's refusal (`core.views.SERVICE_ERRORS`) becomes an error message.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView

from brands.access import BrandAccessMixin
from brands.choices import Capability
from brands.views import DocumentDownloadView
from cases import selectors, services
from cases.action_forms import ACTIONS, ItemAction, available_actions
from cases.choices import AppellantSide
from cases.models import Case, CaseItem, Evidence
from core.audit.models import AuditEvent
from core.errors import DomainError
from core.kept_forms import keep_typed, typed_data
from core.views import SERVICE_ERRORS, refusal_text

#: Items shown per page of a case (a case holds up to MAX_ITEMS_PER_CASE).
ITEMS_PER_PAGE = 50


@dataclass(frozen=True)
class BoundAction:
    action: ItemAction
    url: str
    form: Form
    #: The form comes back with what the user typed (and its errors) after a refusal: shown open.
    kept: bool = False


def _kept_key(item: CaseItem, action: ItemAction) -> str:
    return f"case-item:{item.pk}:{action.name}"


@dataclass(frozen=True)
class ItemRow:
    item: CaseItem
    events: list[AuditEvent]
    actions: list[BoundAction] = field(default_factory=list)


class CaseDetailView(BrandAccessMixin, DetailView):
    model = Case
    template_name = "cases/detail/case_detail.html"
    context_object_name = "case"

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_detail(user=self.request.user, brand=self.brand)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user, case = self.request.user, self.object
        page = Paginator(selectors.case_items(user=user, brand=self.brand, case=case), ITEMS_PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        items = list(page.object_list)
        timeline = selectors.case_timeline(brand=self.brand, case=case, item_ids=[item.pk for item in items])
        can_act = self.membership.can(Capability.FILE)
        now = timezone.now()
        context.update(
            page_obj=page,
            rows=[
                ItemRow(
                    item=item,
                    events=timeline.item_events.get(item.pk, []),
                    actions=self._bound_actions(item, now=now) if can_act else [],
                )
                for item in items
            ],
            case_events=timeline.case_events,
            status_counts=selectors.case_item_status_counts(user=user, brand=self.brand, case=case),
        )
        return context

    def _bound_actions(self, item: CaseItem, *, now: datetime) -> list[BoundAction]:
        bound = []
        for action in available_actions(item, now=now):
            # Ids unique per item and action: the page holds one form per action of every item.
            auto_id = f"item{item.pk}-{action.name}-%s"
            typed = typed_data(self.request, _kept_key(item, action))
            form = action.form_class(typed, auto_id=auto_id)
            if typed is not None:
                form.is_valid()  # what was typed comes back with its errors next to the fields
            url = reverse(action.url_name, kwargs={"brand_slug": self.brand.slug, "pk": item.pk})
            bound.append(BoundAction(action=action, url=url, form=form, kept=typed is not None))
        return bound


class ItemActionView(BrandAccessMixin, View):
    """POST an action's form for one item, call its service, and go back to the item on its case page."""

    model = CaseItem
    capability = Capability.FILE
    http_method_names = ["post"]
    action: ItemAction
    success_message: str

    def perform(self, item: CaseItem, form: Any) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = get_object_or_404(
            CaseItem.objects.for_user(request.user, brand=self.brand).only("id", "case_id"), pk=kwargs["pk"]
        )
        form = self.action.form_class(request.POST, request.FILES)
        if not form.is_valid():
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                messages.error(request, f"Item #{item.pk}: {f'{label}: ' if label else ''}{' '.join(errors)}")
            keep_typed(request, _kept_key(item, self.action), form)
        else:
            try:
                self.perform(item, form)
            except SERVICE_ERRORS as error:
                # A refusal names its item; invalid input does not, so it is prefixed like the form's errors.
                text = refusal_text(error)
                messages.error(request, text if isinstance(error, DomainError) else f"Item #{item.pk}: {text}")
                keep_typed(request, _kept_key(item, self.action), form)
            else:
                messages.success(request, self.success_message.format(pk=item.pk))
        return redirect(self._item_url(item))

    def _item_url(self, item: CaseItem) -> str:
        """The item on its page of the case (items are listed by id, ITEMS_PER_PAGE a page)."""
        before = CaseItem.objects.for_brand(self.brand).filter(case_id=item.case_id, pk__lt=item.pk).count()
        url = reverse("cases:case_detail", kwargs={"brand_slug": self.brand.slug, "pk": item.case_id})
        page = before // ITEMS_PER_PAGE + 1
        return f"{url}?page={page}#item-{item.pk}" if page > 1 else f"{url}#item-{item.pk}"


class ItemWithdrawView(ItemActionView):
    action = ACTIONS["withdraw"]
    success_message = "Item #{pk} withdrawn; a listing removed because of it is reinstated."

    def perform(self, item: CaseItem, form: Any) -> None:
        services.item_withdraw(item_id=item.pk, actor=self.request.user, reason=form.cleaned_data["reason"])


class ItemResubmitView(ItemActionView):
    action = ACTIONS["resubmit"]
    success_message = "Item #{pk} amended and sent back for review."

    def perform(self, item: CaseItem, form: Any) -> None:
        services.item_resubmit(item_id=item.pk, actor=self.request.user, note=form.cleaned_data["note"])


class ItemAnswerView(ItemActionView):
    action = ACTIONS["answer"]
    success_message = "Your answer to the counter-notice on item #{pk} is recorded."

    def perform(self, item: CaseItem, form: Any) -> None:
        services.item_brand_answer(
            item_id=item.pk,
            actor=self.request.user,
            accept=form.cleaned_data["answer"] == form.ACCEPT,
            note=form.cleaned_data["note"],
            evidence=form.evidence_inputs(),
        )


class ItemAppealView(ItemActionView):
    action = ACTIONS["appeal"]
    success_message = "Your appeal on item #{pk} is filed; a different moderator will decide it."

    def perform(self, item: CaseItem, form: Any) -> None:
        grounds = form.cleaned_data["grounds"]
        services.item_appeal(item_id=item.pk, appellant=AppellantSide.BRAND, grounds=grounds, actor=self.request.user)


class EvidenceDownloadView(DocumentDownloadView):
    model = Evidence


urlpatterns = [
    path("cases/<int:pk>/", CaseDetailView.as_view(), name="case_detail"),
    path("evidence/<int:pk>/download/", EvidenceDownloadView.as_view(), name="evidence_download"),
    path("items/<int:pk>/withdraw/", ItemWithdrawView.as_view(), name="item_withdraw"),
    path("items/<int:pk>/resubmit/", ItemResubmitView.as_view(), name="item_resubmit"),
    path("items/<int:pk>/answer/", ItemAnswerView.as_view(), name="item_answer"),
    path("items/<int:pk>/appeal/", ItemAppealView.as_view(), name="item_appeal"),
]
