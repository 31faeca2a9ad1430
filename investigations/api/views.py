"""The brand's test purchases endpoints: list (newest first, keyset pages, filters of the list page), read
one (its files, its chain of custody and whether it verifies), record one (JSON, or multipart with files),
add a custody event, record the verdict, attach a counterfeit verdict to a reported listing.

Reads go through `TestPurchase.objects.for_user` (another brand's id: 404); every member reads, owners and
reporters write (FILE, as on the pages; a viewer's token gets 403). Input is checked by the pages' forms
and written by `investigations.services.purchases`, whose refusals the API's one error handler answers."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from brands.api.viewsets import BrandScopedGenericViewSet
from cases.models import CaseItem
from core.api.exceptions import form_validation_error
from core.api.schema import error_response
from investigations.api.serializers import (
    AttachInputSerializer,
    AttachmentSerializer,
    CustodyEventInputSerializer,
    CustodyEventSerializer,
    TestPurchaseDetailSerializer,
    TestPurchaseInputSerializer,
    TestPurchaseSerializer,
    VerdictInputSerializer,
)
from investigations.filtersets import TestPurchaseFilterSet
from investigations.forms import CustodyEventForm, TestPurchaseForm, VerdictForm
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseFile
from investigations.services import purchases as service

PARSERS = [parsers.JSONParser, parsers.MultiPartParser]


def _checked(form_class: type, values: dict[str, Any], file_fields: tuple[str, ...]) -> Any:
    """The serializer's values checked by the page's form (uploads by content, dates, the rules it holds)."""
    files = MultiValueDict()
    for name in file_fields:
        value = values.pop(name, None)
        if value:
            files.setlist(name, value if isinstance(value, list) else [value])
    form = form_class({k: v for k, v in values.items() if v is not None}, files)
    if not form.is_valid():
        raise form_validation_error(form)
    return form


@extend_schema_view(
    list=extend_schema(summary="List the brand's test purchases"),
    retrieve=extend_schema(summary="A test purchase with its files, its chain of custody and its verification"),
    create=extend_schema(
        summary="Record a test purchase (the order starts unconfirmed until the marketplace answers)",
        request={"application/json": TestPurchaseInputSerializer, "multipart/form-data": TestPurchaseInputSerializer},
        responses={201: TestPurchaseDetailSerializer},
    ),
)
class TestPurchaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedGenericViewSet):
    __test__ = False

    model = TestPurchase
    filterset_class = TestPurchaseFilterSet
    parser_classes = PARSERS
    http_method_names = ["get", "post", "head", "options"]

    def brand_queryset(self) -> QuerySet[TestPurchase]:
        rows = self.scoped().select_related("listing__marketplace", "listing__seller")
        if self.action != "list":
            files = TestPurchaseFile.objects.for_brand(self.brand).order_by("pk")
            custody = CustodyEvent.objects.for_brand(self.brand).order_by("sequence")
            rows = rows.prefetch_related(Prefetch("files", queryset=files), Prefetch("custody", queryset=custody))
        return rows.order_by("-id")

    def get_serializer_class(self) -> Any:
        return {
            "list": TestPurchaseSerializer,
            "create": TestPurchaseInputSerializer,
            "events": CustodyEventInputSerializer,
            "verdict": VerdictInputSerializer,
            "attach": AttachInputSerializer,
        }.get(self.action, TestPurchaseDetailSerializer)

    def _output(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        purchase = self.get_queryset().get(pk=pk)
        return Response(TestPurchaseDetailSerializer(purchase, context=self.get_serializer_context()).data, status_code)

    def _values(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = _checked(TestPurchaseForm, self._values(request), ("files",))
        purchase = service.purchase_record(brand=self.brand, actor=request.user, **form.service_data())
        return self._output(purchase.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add a received or examined event (with files) to the chain of custody",
        request={"application/json": CustodyEventInputSerializer, "multipart/form-data": CustodyEventInputSerializer},
        responses={201: CustodyEventSerializer},
    )
    @action(detail=True, methods=["post"])
    def events(self, request: Request, pk: int) -> Response:
        purchase = self.get_object()
        form = _checked(CustodyEventForm, self._values(request), ("files",))
        event = service.custody_event_add(purchase=purchase, actor=request.user, **form.cleaned_data)
        return Response(CustodyEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the authenticator's verdict (genuine and counterfeit are final)",
        request={"application/json": VerdictInputSerializer, "multipart/form-data": VerdictInputSerializer},
        responses={200: TestPurchaseDetailSerializer, 409: error_response("The purchase already has a final verdict.")},
    )
    @action(detail=True, methods=["post"])
    def verdict(self, request: Request, pk: int) -> Response:
        purchase = self.get_object()
        form = _checked(VerdictForm, self._values(request), ("report_file",))
        service.purchase_verdict(purchase=purchase, actor=request.user, **form.cleaned_data)
        return self._output(purchase.pk)

    @extend_schema(
        summary="Attach a counterfeit verdict to a reported listing of the brand (its evidence from now on)",
        request=AttachInputSerializer,
        responses={
            201: AttachmentSerializer,
            409: error_response("The purchase is already attached to this item."),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[parsers.JSONParser])
    def attach(self, request: Request, pk: int) -> Response:
        purchase = self.get_object()
        values = self._values(request)
        item = (
            CaseItem.objects.for_user(request.user, brand=self.brand)
            .select_related("listing")
            .filter(pk=values["item"])
            .first()
        )
        if item is None:
            raise serializers.ValidationError({"item": ["No such reported listing of this brand."]})
        attachment = service.purchase_attach(purchase=purchase, item=item, actor=request.user)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)
