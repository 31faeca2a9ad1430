"""The API through a dependency outage: the rate limits let requests through while the cache (Redis) is
down, and an outage a view runs into is answered in the error shape, 503 `service_unavailable` with
`Retry-After`, never an HTML page.

The cache is pointed at a Redis of the test's own (`own_redis`), stopped for real; the database outage
is a real connection attempt to a port where no PostgreSQL listens.
"""

import logging
import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db.backends.postgresql.base import DatabaseWrapper
from django.urls import resolve, reverse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from cases.models import Case
from devtools.devenv import free_port
from tests.api.test_cases_api import _filing
from tests.api_harness import service_client

pytestmark = pytest.mark.django_db

CASES_URL = "/api/v1/cases/"


@pytest.fixture
def cache_down(own_redis, settings, caplog):
    """The cache on a Redis that has just been stopped; the throttles' warnings are captured."""
    settings.CACHES = {"default": {**django_settings.CACHES["default"], "LOCATION": own_redis.url}}
    cache.set("probe", 1)  # the cache really is that server, up to now
    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="core.api.throttling")
    return caplog


def throttle_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.api.throttling"]


def test_filing_through_the_api_goes_ahead_while_the_cache_is_down(
    cache_down, api_for, reporter, brand, right, expedited, marketplace
):
    body = _filing(right, listing_urls=["https://shopnow.example/item/outage-1"])
    response = api_for(reporter, brand).post(CASES_URL, body, format="json")

    assert response.status_code == 201, response.content[:500]
    assert Case.objects.for_brand(brand.pk).get().items.count() == 1
    [warning] = throttle_warnings(cache_down)
    assert "'api_token'" in warning


def test_the_platform_api_answers_while_the_cache_is_down(cache_down, marketplace):
    response = service_client(marketplace).get(reverse("platform-api:decision-list"))

    assert response.status_code == 200, response.content[:500]
    assert any("'platform'" in warning for warning in throttle_warnings(cache_down))


class _ReadsTheCache(APIView):
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request):
        return Response({"value": cache.get("probe")})


class _QueriesAnUnreachableDatabase(APIView):
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request):
        gone = DatabaseWrapper({**django_settings.DATABASES["default"], "HOST": "127.0.0.1", "PORT": free_port()})
        gone.ensure_connection()
        return Response({})


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.data == {
        "status": 503,
        "code": "service_unavailable",
        "detail": "A service the portal depends on is unavailable; nothing was saved. Try again shortly.",
    }


def test_a_cache_outage_in_a_view_is_a_503_in_the_error_shape(cache_down):
    response = _ReadsTheCache.as_view()(APIRequestFactory().get("/api/v1/anything/"))

    assert_unavailable(response)


def test_a_database_outage_in_a_view_is_a_503_in_the_error_shape():
    response = _QueriesAnUnreachableDatabase.as_view()(APIRequestFactory().get("/api/v1/anything/"))

    assert_unavailable(response)


# --- the schema says so -------------------------------------------------------------------------------


def operations(client) -> list[tuple[str, str, dict]]:
    """(method, path, operation) of every operation the OpenAPI schema describes."""
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return [(method, path, op) for path, item in schema["paths"].items() for method, op in item.items()]


def view_of(path: str) -> type:
    """The view class behind a schema path (its parameters filled in with an id)."""
    return resolve(re.sub(r"\{[^}]+\}", "1", path)).func.cls


def documents_retry_after(response: dict) -> bool:
    return (
        response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        and response["headers"]["Retry-After"]["schema"]["type"] == "integer"
    )


def test_every_operation_documents_the_outage_answer_with_its_retry_after(client):
    found = operations(client)

    assert len(found) > 20
    missing = [f"{method.upper()} {path}" for method, path, op in found if "503" not in op["responses"]]
    assert missing == []
    assert all(documents_retry_after(op["responses"]["503"]) for _, _, op in found)


def test_every_throttled_operation_documents_429_with_its_retry_after(client):
    throttled = [(m, p, op) for m, p, op in operations(client) if view_of(p)().get_throttles()]

    assert {p for _, p, _ in throttled} >= {"/api/v1/cases/", "/api/v1/auth/token/", "/api/v1/platform/decisions/"}
    missing = [f"{method.upper()} {path}" for method, path, op in throttled if "429" not in op["responses"]]
    assert missing == []
    assert all(documents_retry_after(op["responses"]["429"]) for _, _, op in throttled)
