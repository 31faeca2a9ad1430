"""Every operation of the OpenAPI schema, brand and platform, answers bad requests in the one error shape
(`core.api.exceptions`), with the status it documents.

The walk reads the operations from the schema itself, so a new endpoint is walked without being listed
here. Each operation gets, where it applies: no credentials (401), the other side's credential (401), an
id that does not exist (404), a method its path does not serve (405), a body that is not JSON (400
`parse_error`), a body of the wrong type (400 `invalid` with `errors`), a query parameter that is not a
number (400), a body in a media type it does not take (415), a viewer's token on a brand write (403),
and a second request over a one-per-minute rate (429).
"""

import uuid
from datetime import date
from typing import Any

import jsonschema
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from brands.choices import Role
from brands.models import BrandMembership
from cases import services as case_services
from detection.choices import Strength
from detection.models import ReListingCandidate, RemovalFingerprint, WatchMatch, WatchSearch
from investigations.models import TestPurchase
from tests import factories
from tests.api_harness import service_client, token_client

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
SHAPE_KEYS = {"status", "code", "detail", "errors"}
#: The token endpoint's rate limit counts per address, across tests: the walk calls it from its own.
WALK_ADDRESS = "192.0.2.150"
THROTTLE_ADDRESS = "192.0.2.151"


@pytest.fixture
def schema(client) -> dict[str, Any]:
    return client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.fixture
def objects(file_case, moderator, right, brand, owner) -> dict[str, Any]:
    """The caller's objects, by the path segment that names them (an id must exist for a body check)."""
    from tests.cases.test_filing_tasks import make_draft

    item = file_case(1).items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    draft = make_draft(brand=brand, reporter=owner, right=right, count=1)  # the owner's: the walk's brand client
    # A re-listing candidate of the brand (detection): the removed item's fingerprint, matched by another listing.
    fingerprint = RemovalFingerprint.objects.create(
        brand=brand, source_item=item, case_id=item.case_id, listing_id=item.listing_id, title="Bag"
    )
    candidate = ReListingCandidate.objects.create(
        brand=brand,
        fingerprint=fingerprint,
        listing=factories.ListingFactory(marketplace=item.listing.marketplace),
        score=0.9,
        strength=Strength.WEAK,
        signals={
            "image_distance": None,
            "title_similarity": 0.9,
            "same_seller": False,
            "linked_seller": False,
            "matched": ["title"],
        },
    )
    # A saved brand watch search with a match (detection).
    search = WatchSearch.objects.create(brand=brand, name="Totes", words="tote", created_by=owner)
    match = WatchMatch.objects.create(
        brand=brand, search=search, listing=factories.ListingFactory(marketplace=item.listing.marketplace)
    )
    # A test purchase of the brand (investigations), on the item's listing.
    purchase = TestPurchase.objects.create(
        brand=brand, listing=item.listing, order_id="ORD-SHAPE", purchased_on=date(2026, 1, 2), recorded_by=owner
    )
    return {
        "cases": item.case_id,
        "items": item.pk,
        "case-items": item.pk,
        "ip-rights": right.pk,
        "case-imports": draft.pk,
        "relisting-candidates": candidate.pk,
        "watch-searches": search.pk,
        "watch-matches": match.pk,
        "test-purchases": purchase.pk,
    }


def _side(operation: dict[str, Any]) -> str | None:
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    if "serviceToken" in schemes:
        return "platform"
    return "brand" if "tokenAuth" in schemes else None


def _url(path: str, values: dict[str, Any], *, unknown: bool = False) -> str:
    """The path with each parameter replaced by the id of the object its preceding segment names (a
    number, or a UUID for background imports)."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            assert parts[i - 1] in values, f"{path}: no test object for the segment {parts[i - 1]!r}; add one"
            value = values[parts[i - 1]]
            if isinstance(value, int):
                parts[i] = str(value + (10_000_000 if unknown else 0))
            else:
                parts[i] = str(uuid.uuid4() if unknown else value)
    return "/".join(parts)


def _assert_shape(response, status: int, schema: dict[str, Any], operation: dict[str, Any] | None, what: str):
    assert response.status_code == status, f"{what}: {response.status_code}, expected {status}: {response.content!r}"
    assert response["Content-Type"] == "application/json", f"{what}: {response['Content-Type']}"
    body = response.json()
    assert set(body) <= SHAPE_KEYS and {"status", "code", "detail"} <= set(body), f"{what}: {body}"
    assert body["status"] == status and body["code"] and body["detail"], f"{what}: {body}"
    assert ("errors" in body) == (body["code"] == "invalid"), f"{what}: {body}"
    jsonschema.validate(body, schema["components"]["schemas"]["Error"])
    if operation is not None:  # the operation documents the status, with the error shape
        documented = operation["responses"].get(str(status))
        assert documented, f"{what}: {status} is not among the documented {sorted(operation['responses'])}"
        assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    return body


def test_every_operation_answers_bad_requests_in_the_error_shape(schema, objects, owner, brand, marketplace, settings):
    # No throttling until the throttling step (the token endpoint's budget is per address, across tests).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "100000/minute", "api_auth": "100000/minute"},
    }
    owner_token = token_client(BrandMembership.objects.get(user=owner, brand=brand))
    viewer_token = token_client(factories.MembershipFactory(brand=brand, role=Role.VIEWER))
    service = service_client(marketplace)
    clients = {"brand": owner_token, "platform": service, None: APIClient(REMOTE_ADDR=WALK_ADDRESS)}
    wrong_side = {"brand": service, "platform": owner_token}
    walked = 0
    for path, operations in schema["paths"].items():
        path_client = clients[_side(next(iter(operations.values())))]
        for method in (m for m in METHODS if m not in operations):
            response = getattr(path_client, method)(_url(path, objects))
            _assert_shape(response, 405, schema, None, f"{method.upper()} {path}")
        for method, operation in operations.items():
            what = f"{method.upper()} {path}"
            side = _side(operation)
            client = clients[side]
            url = _url(path, objects)
            send = getattr(client, method)
            if side is not None:
                _assert_shape(getattr(APIClient(), method)(url), 401, schema, operation, f"{what} anonymous")
                _assert_shape(getattr(wrong_side[side], method)(url), 401, schema, operation, f"{what} other side")
            if "{" in path:
                _assert_shape(send(_url(path, objects, unknown=True)), 404, schema, operation, f"{what} unknown id")
            if side == "brand" and method != "get":
                _assert_shape(getattr(viewer_token, method)(url), 403, schema, operation, f"{what} as a viewer")
            body_types = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body_types:
                broken = client.generic(method.upper(), url, "{not json", content_type="application/json")
                assert _assert_shape(broken, 400, schema, operation, f"{what} not JSON")["code"] == "parse_error"
                wrong = send(url, [1], format="json")
                assert _assert_shape(wrong, 400, schema, operation, f"{what} a list")["code"] == "invalid"
            elif body_types:  # multipart only: an empty form misses the required fields
                empty = send(url, {}, format="multipart")
                assert _assert_shape(empty, 400, schema, operation, f"{what} empty form")["code"] == "invalid"
            if body_types:
                other_type = client.generic(method.upper(), url, "x", content_type="text/plain")
                _assert_shape(other_type, 415, schema, operation, f"{what} text/plain")
            numbers = [
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p["schema"].get("type") == "integer"
            ]
            if numbers:
                not_a_number = send(url, {numbers[0]: "x"}) if method == "get" else send(f"{url}?{numbers[0]}=x")
                _assert_shape(not_a_number, 400, schema, operation, f"{what} {numbers[0]}=x")
            walked += 1

    # Throttling last, with a fresh credential per operation: the second request in a minute is refused.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "1/minute", "api_auth": "1/minute"},
    }
    settings.MARKETSAFE = {**settings.MARKETSAFE, "PLATFORM_API_RATE": "1/minute"}
    fresh_clients = {
        "brand": lambda: token_client(BrandMembership.objects.get(user=owner, brand=brand)),
        "platform": lambda: service_client(marketplace),
        None: lambda: APIClient(REMOTE_ADDR=THROTTLE_ADDRESS),
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "429" not in operation["responses"]:
                continue
            send = getattr(fresh_clients[_side(operation)](), method)
            url = _url(path, objects)
            last = [send(url) for _ in range(2)][-1]
            body = _assert_shape(last, 429, schema, operation, f"{method.upper()} {path} throttled")
            assert body["code"] == "throttled" and int(last["Retry-After"]) > 0
    assert walked >= 24, f"only {walked} operations in the schema"


def test_unknown_addresses_under_the_api_answer_json_404(owner_api):
    addresses = (
        "/api/v1/",
        "/api/v1/nothing-here/",
        "/api/v1/cases/not-a-number/",
        "/api/v1/case-items/%0A1/answer/",
        "/api/v1/platform/items/x/appeal/",
    )
    for url in addresses:
        for method in ("get", "post", "delete", "options"):
            response = getattr(owner_api, method)(url)
            assert response.status_code == 404 and response.json() == {
                "status": 404,
                "code": "not_found",
                "detail": "No API endpoint at this address: see /api/v1/docs/.",
            }, (method, url, response.content)
    assert APIClient().get("/api/v1/cases").status_code == 301  # APPEND_SLASH still adds the slash


def test_an_oversized_body_answers_413_in_the_error_shape(owner_api, marketplace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    service = service_client(marketplace)
    rows = [{"external_id": f"S{i}", "name": "x" * 50} for i in range(50)]
    for client, url, body, form in (
        (service, "/api/v1/platform/sellers/bulk/", {"sellers": rows}, "json"),
        (owner_api, "/api/v1/ip-rights/", {"name": "x" * 5000}, "multipart"),
    ):
        response = client.post(url, body, format=form)
        assert response.status_code == 413, (url, response.content)
        assert response.json()["code"] == "request_too_large"


def test_a_bug_answers_500_in_the_error_shape_and_is_logged(marketplace, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("a bug in the feed")

    monkeypatch.setattr("integrations.platform.views.decisions_feed", broken)
    client = service_client(marketplace)
    with pytest.raises(RuntimeError):  # the test client re-raises what Django's signal reports
        client.get("/api/v1/platform/decisions/")
    client.raise_request_exception = False
    response = client.get("/api/v1/platform/decisions/")
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "code": "server_error",
        "detail": "A server error occurred. It has been logged.",
    }
    (record,) = [r for r in caplog.records if r.name == "django.request" and r.exc_info][-1:]
    assert record.exc_info[1].args == ("a bug in the feed",)
