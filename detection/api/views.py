"""The brand's candidates feed: list (newest first, keyset pages, by status), read, file, dismiss; and the brand
watch: saved searches (CRUD) and their matches (list by state and search, set the state, file).

Reads through `ReListingCandidate.objects.for_user` (another brand's id: 404); writes through
`detection.services.candidates`, whose refusals the API's one error handler answers (409 `conflict`)."""

from dataclasses import replace
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, parsers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from brands.api.viewsets import BrandScopedGenericViewSet
from core.errors import TransitionNotAllowed
from detection.api.serializers import (
    ReListingCandidateSerializer,
    WatchMatchSerializer,
    WatchMatchStateSerializer,
    WatchSearchSerializer,
)
from detection.choices import CandidateStatus, WatchMatchState
from detection.models import ReListingCandidate, WatchMatch, WatchSearch
from detection.services import watch
from detection.services.candidates import candidate_dismiss, candidate_file
from detection.services.watch import WatchCriteria


class CandidateFilterSet(django_filters.FilterSet):
    """A status the API does not know answers 400 naming it (django-filter's form), as the schema says."""

    status = django_filters.ChoiceFilter(choices=CandidateStatus.choices, help_text="Only candidates in this status.")

    class Meta:
        model = ReListingCandidate
        fields = ["status"]


@extend_schema(tags=["re-listings"])
class ReListingCandidateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedGenericViewSet):
    model = ReListingCandidate
    serializer_class = ReListingCandidateSerializer
    filterset_class = CandidateFilterSet

    def brand_queryset(self) -> QuerySet[ReListingCandidate]:
        rows = self.scoped().select_related("listing__marketplace", "listing__seller", "fingerprint__listing")
        return rows.order_by("-id")

    def _done(self, pk: int) -> Response:
        candidate = self.get_queryset().get(pk=pk)
        return Response(self.get_serializer(candidate).data)

    @extend_schema(request=None, summary="File the candidate as a new case (the earlier case's rights and evidence)")
    @action(detail=True, methods=["post"])
    def file(self, request: Request, pk: int) -> Response:
        candidate = self.get_object()
        candidate_file(candidate_id=candidate.pk, actor=request.user)
        return self._done(candidate.pk)

    @extend_schema(request=None, summary="Dismiss the candidate")
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: int) -> Response:
        candidate_dismiss(candidate=self.get_object(), actor=request.user)
        return self._done(pk)


# --- brand watch ----------------------------------------------------------------------------------------


def _criteria(values: dict[str, Any], base: WatchCriteria | None = None) -> WatchCriteria:
    """The criteria of a request body (`source` names: marketplace_id, seller_id), over `base` for a PATCH."""
    given = {name: value for name, value in values.items() if name != "digest"}
    if base is None:
        return WatchCriteria(**given)
    return replace(base, **given)


@extend_schema_view(
    list=extend_schema(summary="The brand's saved watch searches, newest first"),
    create=extend_schema(summary="Save a watch search (it matches listings that appear from now on)"),
    partial_update=extend_schema(summary="Change a watch search"),
    destroy=extend_schema(summary="Delete a watch search and its matches"),
)
@extend_schema(tags=["brand watch"])
class WatchSearchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    BrandScopedGenericViewSet,
):
    model = WatchSearch
    serializer_class = WatchSearchSerializer
    parser_classes = [parsers.JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def brand_queryset(self) -> QuerySet[WatchSearch]:
        return self.scoped().order_by("-id")

    def _output(self, search: WatchSearch, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=search.pk)).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        search = watch.watch_search_create(
            brand=self.brand, actor=request.user, criteria=_criteria(values), digest=values.get("digest", False)
        )
        return self._output(search, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        search = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        search = watch.watch_search_update(
            search=search,
            actor=request.user,
            criteria=_criteria(values, WatchCriteria.of(search)),
            digest=values.get("digest"),
        )
        return self._output(search)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def perform_destroy(self, instance: WatchSearch) -> None:
        watch.watch_search_delete(search=instance, actor=self.request.user)


class WatchMatchFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=WatchMatchState.choices, help_text="Only matches in this state.")
    search = django_filters.NumberFilter(field_name="search_id", help_text="Only the matches of this search.")

    class Meta:
        model = WatchMatch
        fields = ["state", "search"]


@extend_schema(tags=["brand watch"])
class WatchMatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedGenericViewSet):
    model = WatchMatch
    serializer_class = WatchMatchSerializer
    filterset_class = WatchMatchFilterSet
    parser_classes = [parsers.JSONParser]

    def brand_queryset(self) -> QuerySet[WatchMatch]:
        return self.scoped().select_related("listing__marketplace", "listing__seller").order_by("-id")

    def _done(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=WatchMatchStateSerializer, summary="Mark the match seen, dismissed, or new again")
    @action(detail=True, methods=["post"])
    def state(self, request: Request, pk: int) -> Response:
        match = self.get_object()
        body = WatchMatchStateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        state = body.validated_data["state"]
        if not watch.watch_matches_set_state(brand=self.brand, match_ids=[match.pk], state=state, actor=request.user):
            raise TransitionNotAllowed(f"This match is {match.get_state_display().lower()}: it cannot be {state}.")
        return self._done(match.pk)

    @extend_schema(request=None, summary="File the match as a new case (the listing, the brand's usable rights)")
    @action(detail=True, methods=["post"])
    def file(self, request: Request, pk: int) -> Response:
        match = self.get_object()
        watch.watch_match_file(match_id=match.pk, actor=request.user, ip_address=request.META.get("REMOTE_ADDR"))
        return self._done(match.pk)
