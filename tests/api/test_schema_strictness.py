"""The OpenAPI schema says what the API enforces (issue 14, point 6): enums, bounds, array sizes, what an
empty value does, no NUL characters; and the API answers 400 naming the field where the schema refuses.
The schemathesis runs (test_schemathesis.py) check both directions over generated input; these pin the
cases the issue names."""

import pytest
from django.conf import settings
from django.db import DataError, connection, transaction
from rest_framework.test import APIClient

from integrations.services import service_token_create
from tests import factories

pytestmark = pytest.mark.django_db

NUL_FREE = "^[^\\u0000]*$"


@pytest.fixture
def schema(client, marketplace):
    factories.MarketplaceFactory(name="BuyMore", slug="buymore", hosts=["buymore.example"])
    return client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _parameter(schema: dict, path: str, name: str, method: str = "get") -> dict:
    (found,) = [p for p in schema["paths"][path][method]["parameters"] if p["name"] == name]
    return found


def _body(schema: dict, path: str, media: str = "application/json") -> dict:
    ref = schema["paths"][path]["post"]["requestBody"]["content"][media]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_filters_are_enums_bounds_and_dates_with_what_empty_means(schema):
    from listings.models import Marketplace

    for path in ("/api/v1/cases/", "/api/v1/case-items/"):
        marketplace = _parameter(schema, path, "marketplace")
        ids = sorted(str(pk) for pk in Marketplace.objects.values_list("pk", flat=True))
        assert len(ids) == 2 and sorted(marketplace["schema"]["enum"]) == sorted([*ids, ""])
        assert "Empty: not filtered." in marketplace["description"]
        submitted = _parameter(schema, path, "submitted_from")["schema"]
        assert submitted == {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "enum": [""]}]}
        assert "" in _parameter(schema, path, "reason_code")["schema"]["enum"]
        assert _parameter(schema, path, "q")["schema"]["pattern"] == NUL_FREE
        page_size = _parameter(schema, path, "page_size")["schema"]
        assert (page_size["minimum"], page_size["maximum"]) == (1, 500)
    case = _parameter(schema, "/api/v1/case-items/", "case")["schema"]["anyOf"][0]
    assert case == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    office = _parameter(schema, "/api/v1/ip-rights/", "office")["schema"]
    assert office == {"type": "string", "maxLength": 40, "pattern": NUL_FREE}


def test_the_platform_parameters_and_bulk_arrays_are_bounded(schema):
    limit = _parameter(schema, "/api/v1/platform/decisions/", "limit")["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == (
        "integer",
        1,
        settings.MARKETSAFE["PLATFORM_FEED_MAX_PAGE"],
    )
    after = _parameter(schema, "/api/v1/platform/dsa-statements/", "after")["schema"]
    assert (after["type"], after["minimum"]) == ("integer", 0)
    for path, key in (("/api/v1/platform/sellers/bulk/", "sellers"), ("/api/v1/platform/listings/bulk/", "listings")):
        assert list(schema["paths"][path]["post"]["requestBody"]["content"]) == ["application/json"]
        rows = _body(schema, path)["properties"][key]
        assert (rows["minItems"], rows["maxItems"]) == (1, settings.MARKETSAFE["PLATFORM_BULK_MAX_ROWS"])
    key = _parameter(schema, "/api/v1/cases/import/", "Idempotency-Key", method="post")["schema"]
    assert key["maxLength"] == 100 and key["pattern"].startswith("^[^\\u0000-\\u001f")
    # A required name is trimmed by the API, so whitespace alone is refused as blank: the pattern says so.
    name = _body(schema, "/api/v1/ip-rights/")["properties"]["name"]
    assert name["pattern"] == "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    # A JSON body cannot carry the certificate file: only the multipart body offers it.
    assert "document" not in _body(schema, "/api/v1/ip-rights/")["properties"]
    assert "document" in _body(schema, "/api/v1/ip-rights/", "multipart/form-data")["properties"]
    price = schema["components"]["schemas"]["ListingRowRequest"]["properties"]["price"]
    assert price["pattern"] == "^(?:\\d{1,10}(?:\\.\\d{0,2})?|\\.\\d{1,2})$"


def test_postgresql_cannot_store_nul_so_the_api_refuses_it_naming_the_field(owner_api, brand):
    with pytest.raises(DataError, match="NUL"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::text", ["a\x00b"])
    listed = owner_api.get("/api/v1/cases/", {"q": "bag\x00"})
    assert listed.status_code == 400 and set(listed.json()["errors"]) == {"q"}
    created = owner_api.post(
        "/api/v1/ip-rights/",
        {"kind": "trademark", "name": "ACME\x00", "registration_number": "1", "office": "EUIPO", "owner_name": "A"},
        format="json",
    )
    assert created.status_code == 400 and "name" in created.json()["errors"]


def test_empty_filters_filter_nothing_and_malformed_ones_are_refused(owner_api, file_case):
    file_case(2)
    assert len(owner_api.get("/api/v1/case-items/", {"submitted_from": "", "reason_code": ""}).json()["results"]) == 2
    invalid = ({"submitted_from": "2026-13-01"}, {"case": "1.5"}, {"case": "0"}, {"case": 2**63}, {"page_size": "501"})
    for query in invalid:
        answer = owner_api.get("/api/v1/case-items/", query)
        assert answer.status_code == 400 and set(answer.json()["errors"]) == set(query), (query, answer.content)


@pytest.fixture
def platform(marketplace) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {service_token_create(marketplace=marketplace, name='t', actor=None)[1]}"
    )
    return client


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/platform/decisions/", "limit=501"),
        ("/api/v1/platform/decisions/", "limit=0"),
        ("/api/v1/platform/decisions/", "limit="),
        ("/api/v1/platform/decisions/", "limit=10.0"),
        ("/api/v1/platform/dsa-statements/", "after=-1"),
        ("/api/v1/platform/dsa-statements/", "after=0.0"),
        ("/api/v1/platform/dsa-statements/", "after=1&after=2"),
    ],
)
def test_the_platform_refuses_what_its_schema_refuses(platform, path, query):
    answer = platform.get(f"{path}?{query}")
    assert answer.status_code == 400, answer.content
    assert set(answer.json()["errors"]) == {query.split("=")[0]}


def test_the_platform_bulk_endpoints_take_json_only(platform):
    answer = platform.post("/api/v1/platform/sellers/bulk/", {"sellers": "x"}, format="multipart")
    assert answer.status_code == 415
    nul = platform.post(
        "/api/v1/platform/sellers/bulk/", {"sellers": [{"external_id": "S\x001", "name": "Shop"}]}, format="json"
    )
    assert nul.status_code == 400 and "external_id" in nul.json()["errors"]["sellers"]["0"]
    ftp = platform.post(
        "/api/v1/platform/listings/bulk/", {"listings": [{"external_id": "L1", "url": "ftp://x"}]}, format="json"
    )
    assert ftp.json()["errors"]["listings"]["0"]["url"] == ["Not an absolute http(s) URL."]


def test_a_listing_url_has_the_shape_of_an_http_url_in_the_schema(schema):
    row = schema["components"]["schemas"]["ListingRowRequest"]["properties"]["url"]
    assert row["pattern"].startswith("^\\s*[hH][tT][tT][pP][sS]?://")
