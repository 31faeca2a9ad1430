"""The brand's "possible re-listings" list: listings that look like an earlier removal, each filed in one
click (a new case on the earlier case's rights and evidence) or dismissed; and the brand's stay-down policy.

Candidates are read through `ReListingCandidate.objects.for_user(user, brand=...)`: another brand's
candidate answers 404. Reading needs the VIEW capability; filing and dismissing need FILE; the policy is
the owners' (MANAGE), like the brand's other settings."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from brands.access import BrandAccessMixin
from brands.choices import Capability, Lane
from brands.selectors import brand_lane
from brands.views import ServiceFormView
from core.errors import DomainError
from core.pagination import CappedPaginator
from detection import selectors
from detection.choices import CandidateStatus
from detection.forms import StayDownPolicyForm
from detection.models import ReListingCandidate, StayDownPolicy
from detection.services.candidates import candidate_dismiss, candidate_file
from detection.services.policy import policy_update


class CandidateListView(BrandAccessMixin, TemplateView):
    model = ReListingCandidate
    template_name = "detection/candidate_list.html"
    paginate_by = 25

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", CandidateStatus.OPEN)
        if status not in CandidateStatus.values:
            status = CandidateStatus.OPEN
        paginator = CappedPaginator(
            selectors.brand_candidates(user=self.request.user, brand=self.brand, status=status), self.paginate_by
        )
        page = paginator.get_page(self.request.GET.get("page"))
        context.update(
            status=status,
            statuses=CandidateStatus.choices,
            candidates=page.object_list,
            page_obj=page,
            paginator=paginator,
            is_paginated=paginator.num_pages > 1,
            can_file=self.membership.can(Capability.FILE),
            can_manage=self.membership.can(Capability.MANAGE),
        )
        return context


class CandidateActionView(BrandAccessMixin, View):
    model = ReListingCandidate
    capability = Capability.FILE
    http_method_names = ["post"]

    def candidate(self) -> ReListingCandidate:
        return get_object_or_404(
            ReListingCandidate.objects.for_user(self.request.user, brand=self.brand), pk=self.kwargs["pk"]
        )

    def back(self) -> HttpResponse:
        return redirect("detection:candidate_list", brand_slug=self.brand.slug)


class CandidateFileView(CandidateActionView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        candidate = self.candidate()
        try:
            case = candidate_file(candidate_id=candidate.pk, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "Not filed: " + " ".join(exc.messages))
            return self.back()
        except DomainError as exc:
            messages.error(request, exc.message)
            return self.back()
        messages.success(request, f"Filed as case #{case.pk}, with the earlier case's rights and evidence.")
        return redirect("cases:case_detail", brand_slug=self.brand.slug, pk=case.pk)


class CandidateDismissView(CandidateActionView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            candidate_dismiss(candidate=self.candidate(), actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return self.back()
        messages.success(request, "Dismissed: it stays out of your list.")
        return self.back()


class PolicyView(ServiceFormView):
    """The brand's stay-down policy: what its strong and weaker matches become (owners only)."""

    model = StayDownPolicy
    capability = Capability.MANAGE
    template_name = "detection/policy_form.html"
    form_class = StayDownPolicyForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": selectors.brand_policy(brand_id=self.brand.pk)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"expedited": brand_lane(self.brand) == Lane.EXPEDITED}

    def perform(self, form: StayDownPolicyForm) -> HttpResponse:
        policy_update(brand_id=self.brand.pk, actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, "Stay-down policy saved.")
        return redirect("detection:policy", brand_slug=self.brand.slug)
