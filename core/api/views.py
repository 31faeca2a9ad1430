"""The API's own endpoints that belong to no app: the OpenAPI schema, its docs page, and the JSON 404 of
every other address under /api/v1/."""

from typing import Any

from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import filter_schema  # noqa: F401  (registers the query parameters' schema extension)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, public: it describes the API, not anyone's data."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]


class EndpointNotFoundView(APIView):
    """Any other address under /api/v1/ (including an id that is not a number): 404 in the API's error
    shape, whatever the method, rather than the portal's HTML page."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list = []
    schema = None  # not an endpoint

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound("No API endpoint at this address: see /api/v1/docs/.")

    options = http_method_not_allowed


class DocsView(TemplateView):
    """Swagger UI from the sidecar's static files, started by a static script: no CDN, no inline script."""

    template_name = "api/docs.html"
