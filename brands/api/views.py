"""The IP rights registry endpoints: list, read, add (with its certificate), change, attach documents.

Every member reads the registry; owners change it (as on the pages). Input goes through the registry's
web forms and the writes through `brands.services.rights`, which audit them.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from brands.api.serializers import (
    IPRightDetailsInputSerializer,
    IPRightDocumentInputSerializer,
    IPRightDocumentSerializer,
    IPRightInputSerializer,
    IPRightSerializer,
)
from brands.api.viewsets import BrandScopedGenericViewSet
from brands.choices import Capability
from brands.filtersets import IPRightFilterSet
from brands.forms import IPRightCreateForm, IPRightDocumentForm, IPRightForm
from brands.models import IPRight, IPRightDocument
from brands.services import rights
from core.api.exceptions import form_validation_error

FORM_FIELDS = IPRightForm._meta.fields


def _form_data(values: dict[str, Any]) -> dict[str, Any]:
    """Typed registration values as the web form receives them."""
    data = {name: values.get(name) for name in FORM_FIELDS}
    data["classes"] = ", ".join(str(number) for number in values.get("classes") or [])
    for name in ("valid_from", "valid_until"):
        data[name] = values[name].isoformat() if values.get(name) else ""
    return data


def _valid(form: Any) -> Any:
    if not form.is_valid():
        raise form_validation_error(form)
    return form


@extend_schema_view(
    list=extend_schema(summary="List the brand's IP rights"),
    retrieve=extend_schema(summary="An IP right with its documents"),
    create=extend_schema(
        summary="Add an IP right (pending verification), optionally with its certificate",
        request={"application/json": IPRightDetailsInputSerializer, "multipart/form-data": IPRightInputSerializer},
        responses={201: IPRightSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a right's registration details (a verified right goes back to pending)",
        request=IPRightDetailsInputSerializer(partial=True),
        responses={200: IPRightSerializer},
    ),
)
class IPRightViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    BrandScopedGenericViewSet,
):
    model = IPRight
    filterset_class = IPRightFilterSet
    capabilities = {"create": Capability.MANAGE, "partial_update": Capability.MANAGE, "documents": Capability.MANAGE}
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def brand_queryset(self) -> QuerySet[IPRight]:
        documents = IPRightDocument.objects.for_brand(self.brand).order_by("pk")
        return self.scoped().prefetch_related(Prefetch("documents", queryset=documents))

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in {"create", "partial_update"}:
            return IPRightInputSerializer
        if self.action == "documents":
            return IPRightDocumentInputSerializer
        return IPRightSerializer

    def _output(self, right: IPRight, status_code: int = status.HTTP_200_OK) -> Response:
        right = self.get_queryset().get(pk=right.pk)
        return Response(IPRightSerializer(right, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        files = MultiValueDict({"document": [values["document"]]} if values.get("document") else {})
        form = _valid(IPRightCreateForm(_form_data(values), files))
        right = rights.ip_right_create(
            brand=self.brand, actor=request.user, document=form.cleaned_data["document"], **form.registration_data()
        )
        return self._output(right, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        right = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        if "document" in values:
            raise serializers.ValidationError({"document": ["Attach documents through the documents endpoint."]})
        current = {name: getattr(right, name) for name in FORM_FIELDS}
        form = _valid(IPRightForm(_form_data({**current, **values}), instance=right))
        changed = {name: form.cleaned_data[name] for name in values}
        right = rights.ip_right_update(right=right, actor=request.user, data=changed)
        return self._output(right)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        summary="Attach a document (certificate, authorisation, renewal) to a right",
        request={"multipart/form-data": IPRightDocumentInputSerializer},
        responses={201: IPRightDocumentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser])
    def documents(self, request: Request, pk: int) -> Response:
        right = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        form = _valid(IPRightDocumentForm({"kind": values["kind"]}, MultiValueDict({"file": [values["file"]]})))
        document = rights.ip_right_add_document(
            right=right, actor=request.user, upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
        )
        return Response(IPRightDocumentSerializer(document).data, status=status.HTTP_201_CREATED)
