"""The brand's candidates feed: list (newest first, keyset pages, by status), read, file, dismiss.

Reads through `ReListingCandidate.objects.for_user` (another brand's id: 404); writes through
`detection.services.candidates`, whose refusals the API's one error handler answers (409 `conflict`)."""

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from brands.api.viewsets import BrandScopedGenericViewSet
from detection.api.serializers import ReListingCandidateSerializer
from detection.choices import CandidateStatus
from detection.models import ReListingCandidate
from detection.services.candidates import candidate_dismiss, candidate_file


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
