"""Browser sessions on the API (CSRF, the brand chosen in the portal), error shapes, the schema and the
docs page."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from brands.choices import Role
from tests import factories

pytestmark = pytest.mark.django_db
CASES_URL = "/api/v1/cases/"


@pytest.fixture
def agent(brand, other_brand):
    """A reporter in both brands (a law firm)."""
    membership = factories.MembershipFactory(brand=brand, role=Role.REPORTER)
    factories.MembershipFactory(brand=other_brand, user=membership.user, role=Role.REPORTER)
    return membership.user


def test_a_session_acts_in_the_brand_last_opened_in_the_portal(client, agent, brand, other_brand, file_case):
    case = file_case(1)
    client.force_login(agent)
    refused = client.get(CASES_URL)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("No brand chosen: use an API token")

    assert client.get(reverse("brands:overview", kwargs={"brand_slug": other_brand.slug})).status_code == 200
    assert client.get(CASES_URL).json()["results"] == []
    assert client.get(f"{CASES_URL}{case.pk}/").status_code == 404

    client.get(reverse("brands:overview", kwargs={"brand_slug": brand.slug}))
    assert [row["id"] for row in client.get(CASES_URL).json()["results"]] == [case.pk]


def test_a_member_of_one_brand_needs_no_choice(client, reporter, file_case):
    case = file_case(1)
    client.force_login(reporter)
    assert [row["id"] for row in client.get(CASES_URL).json()["results"]] == [case.pk]


def test_session_writes_need_the_csrf_token(reporter, file_case):
    item = file_case(1).items.get()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reporter)
    url = f"/api/v1/case-items/{item.pk}/withdraw/"
    refused = client.post(url, {"reason": "Mistake"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["detail"].startswith("CSRF Failed")
    page = client.get(reverse("cases:case_detail", kwargs={"brand_slug": "acme", "pk": item.case_id}))
    token = page.context["csrf_token"]
    done = client.post(url, {"reason": "Mistake"}, content_type="application/json", HTTP_X_CSRFTOKEN=str(token))
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"


def test_errors_are_json_with_a_code(client, owner_api):
    anonymous = client.get(CASES_URL)
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert owner_api.get("/api/v1/cases/999999999/").json() == {
        "status": 404,
        "code": "not_found",
        "detail": "Not found.",
    }
    assert owner_api.delete("/api/v1/ip-rights/1/").status_code == 405
    not_json = owner_api.generic("POST", CASES_URL, "{not json", content_type="application/json")
    assert not_json.status_code == 400 and not_json.json()["code"] == "parse_error"


def test_the_schema_types_every_path_parameter(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    parameters = [
        parameter
        for path in schema["paths"].values()
        for operation in path.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    # Typed: numbers, and UUIDs for background imports (drafts, whose ids travel in URLs).
    assert parameters and all(
        p["schema"].get("type") == "integer" or p["schema"].get("format") == "uuid" for p in parameters
    ), parameters
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    assert "/api/v1/cases/{id}/withdraw/" in schema["paths"]


def test_the_docs_page_has_no_inline_script_and_its_assets_are_static_files(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy and "cdn" not in html.lower()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/static/' in attributes for attributes in scripts)
    assert " style=" not in html and "<style" not in html
    for asset in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
        assert finders.find(asset), asset
