"""The brand watch pages, under /b/<brand_slug>/watch/: the saved searches (list, create, edit, delete, the
digest opt-in) and their matches (filters by state and search, pages, bulk seen / dismiss, one-click filing).

Searches and matches are read through `for_user(user, brand=...)`: another brand's answers 404. Reading and
the digest opt-in need VIEW; saving searches, deciding and filing matches need FILE (owners, reporters)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from brands.access import BrandAccessMixin
from brands.choices import Capability
from core.errors import DomainError
from core.pagination import capped_page_context
from core.views import ServiceFormMixin, refusal_text
from detection.choices import WatchMatchState
from detection.forms_watch import BULK_ACTIONS, WatchSearchForm
from detection.models import WatchMatch, WatchSearch
from detection.services import watch as services


class WatchSearchMixin(BrandAccessMixin):
    model = WatchSearch

    def search(self) -> WatchSearch:
        return get_object_or_404(
            WatchSearch.objects.for_user(self.request.user, brand=self.brand).select_related("seller"),
            pk=self.kwargs["pk"],
        )

    def back(self) -> HttpResponse:
        return redirect("detection:watch_list", brand_slug=self.brand.slug)


class WatchSearchListView(WatchSearchMixin, TemplateView):
    template_name = "detection/watch/search_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        searches = (
            WatchSearch.objects.for_user(self.request.user, brand=self.brand)
            .select_related("marketplace", "seller")
            .annotate(
                new_matches=Count("matches", filter=Q(matches__state=WatchMatchState.NEW)),
                # A subquery, not a second join: joining subscribers too would multiply the match count.
                digest=Exists(
                    WatchSearch.subscribers.through.objects.filter(
                        watchsearch_id=OuterRef("pk"), user_id=self.request.user.pk
                    )
                ),
            )
            .order_by("-id")
        )
        context.update(searches=searches, can_file=self.membership.can(Capability.FILE), cap=services.MATCH_CAP)
        return context


class WatchSearchFormView(WatchSearchMixin, ServiceFormMixin, FormView):
    template_name = "detection/watch/search_form.html"
    form_class = WatchSearchForm
    capability = Capability.FILE
    editing: WatchSearch | None = None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(search=self.editing, cap=services.MATCH_CAP, **kwargs)


class WatchSearchCreateView(WatchSearchFormView):
    def perform(self, form: WatchSearchForm) -> HttpResponse:
        search = services.watch_search_create(
            brand=self.brand, actor=self.request.user, criteria=form.criteria(), digest=form.cleaned_data["digest"]
        )
        messages.success(self.request, f"Saved “{search.name}”: listings that appear from now on are matched.")
        return self.back()


class WatchSearchUpdateView(WatchSearchFormView):
    def get_form(self, form_class: Any = None) -> WatchSearchForm:
        self.editing = self.search()  # before the initial values are read from it
        return super().get_form(form_class)

    def get_initial(self) -> dict[str, Any]:
        search = self.editing
        return WatchSearchForm.initial_of(search, digest=search.subscribers.filter(pk=self.request.user.pk).exists())

    def perform(self, form: WatchSearchForm) -> HttpResponse:
        search = services.watch_search_update(
            search=self.editing, actor=self.request.user, criteria=form.criteria(), digest=form.cleaned_data["digest"]
        )
        messages.success(self.request, f"Saved “{search.name}”.")
        return self.back()


class WatchSearchDeleteView(WatchSearchMixin, TemplateView):
    template_name = "detection/watch/search_delete.html"
    capability = Capability.FILE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        search = self.search()
        return super().get_context_data(search=search, matches=search.matches.count(), **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        search = self.search()
        services.watch_search_delete(search=search, actor=request.user)
        messages.success(request, f"Deleted “{search.name}” and its matches.")
        return self.back()


class WatchDigestView(WatchSearchMixin, View):
    """Any member (viewers too) starts or stops getting a search's daily digest."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        search = self.search()
        digest = request.POST.get("digest") == "on"
        services.watch_digest_subscribe(search=search, actor=request.user, digest=digest)
        if digest:
            messages.success(request, f"You will get a daily e-mail of new matches of “{search.name}”.")
        else:
            messages.success(request, f"No more digest e-mails of “{search.name}” for you.")
        return self.back()


class WatchMatchListView(BrandAccessMixin, TemplateView):
    model = WatchMatch
    template_name = "detection/watch/match_list.html"
    paginate_by = 25

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = self.request.GET.get("state", WatchMatchState.NEW)
        if state not in WatchMatchState.values:
            state = WatchMatchState.NEW
        searches = list(
            WatchSearch.objects.for_user(self.request.user, brand=self.brand).order_by("name").values_list("pk", "name")
        )
        search_id = self.request.GET.get("search", "")
        search_id = int(search_id) if search_id.isdigit() and int(search_id) in dict(searches) else None
        matches = (
            WatchMatch.objects.for_user(self.request.user, brand=self.brand)
            .filter(state=state)
            .select_related("listing__marketplace", "listing__seller", "search", "filed_case")
            .order_by("-id")
        )
        if search_id is not None:
            matches = matches.filter(search_id=search_id)
        context.update(
            capped_page_context(matches, self.request.GET.get("page"), self.paginate_by),
            state=state,
            states=WatchMatchState.choices,
            searches=searches,
            search_id=search_id,
            can_file=self.membership.can(Capability.FILE),
        )
        return context


class WatchMatchActionView(BrandAccessMixin, View):
    model = WatchMatch
    capability = Capability.FILE
    http_method_names = ["post"]

    def back(self) -> HttpResponse:
        # Back to the list as it was filtered (the form carries its query string).
        query = self.request.POST.get("next", "")
        base = reverse("detection:watch_match_list", kwargs={"brand_slug": self.brand.slug})
        return redirect(base + (query if query.startswith("?") else ""))


class WatchMatchBulkView(WatchMatchActionView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        state = BULK_ACTIONS.get(request.POST.get("action", ""))
        # Not "matches": a form control of that name would shadow the form element's matches() method.
        ids = [int(value) for value in request.POST.getlist("selected") if value.isdigit()]
        if state is None or not ids:
            messages.error(request, "Tick some matches, then choose what to do with them.")
            return self.back()
        changed = services.watch_matches_set_state(brand=self.brand, match_ids=ids, state=state, actor=request.user)
        label = WatchMatchState(state).label.lower()
        messages.success(request, f"{changed} match{'es' if changed != 1 else ''} marked {label}.")
        return self.back()


class WatchMatchFileView(WatchMatchActionView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        match = get_object_or_404(WatchMatch.objects.for_user(request.user, brand=self.brand), pk=self.kwargs["pk"])
        try:
            case = services.watch_match_file(
                match_id=match.pk, actor=request.user, ip_address=request.META.get("REMOTE_ADDR")
            )
        except (ValidationError, DomainError) as exc:
            messages.error(request, "Not filed: " + refusal_text(exc))
            return self.back()
        messages.success(request, f"Filed as case #{case.pk}.")
        return redirect("cases:case_detail", brand_slug=self.brand.slug, pk=case.pk)
