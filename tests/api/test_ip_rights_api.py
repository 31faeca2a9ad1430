"""The IP rights endpoints: the registry's web-form validation, pending after a change, documents, and
keyset pages over a nullable sort column."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brands.choices import IPRightStatus
from brands.models import IPRight
from core.audit.models import AuditEvent
from tests import factories
from tests.api.tenancy_cases import pdf, right_body

pytestmark = pytest.mark.django_db
RIGHTS_URL = "/api/v1/ip-rights/"


def test_add_a_right_with_its_certificate(owner_api, brand):
    body = {**right_body(brand, None), "classes": [18, 25], "document": pdf("certificate.pdf")}
    response = owner_api.post(RIGHTS_URL, body, format="multipart")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == IPRightStatus.PENDING and created["classes"] == [18, 25]
    assert [d["original_name"] for d in created["documents"]] == ["certificate.pdf"]
    assert AuditEvent.objects.filter(action="ip_right.create", target_id=created["id"]).exists()


def test_the_registry_refuses_what_its_form_refuses(owner_api, brand):
    body = {**right_body(brand, None), "valid_from": "2030-01-01", "valid_until": "2020-01-01"}
    response = owner_api.post(RIGHTS_URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["valid_from"] == ["A registration cannot start in the future; check the date."]
    assert errors["valid_until"] == ["The end of validity is before its start (2030-01-01)."]
    duplicate = factories.IPRightFactory(brand=brand, office="EUIPO", registration_number="018000001")
    again = owner_api.post(RIGHTS_URL, {**right_body(brand, None), "registration_number": "018000001"}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"]["registration_number"] == [
        f"EUIPO 018000001 is already in the registry as {duplicate.name}."
    ]
    assert owner_api.post(RIGHTS_URL, {**right_body(brand, None), "classes": [46]}, format="json").status_code == 400


def test_a_change_sends_a_verified_right_back_to_pending(owner_api, right):
    assert right.status == IPRightStatus.VERIFIED
    response = owner_api.patch(f"{RIGHTS_URL}{right.pk}/", {"registration_number": "0999"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["registration_number"]) == ("pending", "0999")
    right.refresh_from_db()
    assert right.status == IPRightStatus.PENDING and right.name  # untouched fields kept


def test_documents_are_checked_by_content(owner_api, right):
    url = f"{RIGHTS_URL}{right.pk}/documents/"
    fake = SimpleUploadedFile("renewal.pdf", b"GIF89a not a pdf")
    response = owner_api.post(url, {"file": fake, "kind": "renewal"}, format="multipart")
    assert response.status_code == 400 and "renewal.pdf" in response.json()["errors"]["file"][0]
    response = owner_api.post(url, {"file": pdf("renewal.pdf"), "kind": "renewal"}, format="multipart")
    assert response.status_code == 201 and response.json()["kind"] == "renewal"


@pytest.mark.parametrize("sort", ["valid_until", "-valid_until"])
def test_keyset_pages_over_a_nullable_column(owner_api, brand, sort):
    for index, until in enumerate([None, date(2031, 1, 1), None, date(2030, 1, 1), date(2031, 1, 1), None]):
        factories.IPRightFactory(brand=brand, name=f"R{index}", valid_until=until)
    expected = list(
        IPRight.objects.for_brand(brand).order_by(sort, "-pk" if sort[0] == "-" else "pk").values_list("pk", flat=True)
    )
    seen, url = [], f"{RIGHTS_URL}?sort={sort}&page_size=2"
    while url:
        page = owner_api.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == expected


def test_office_filter_offers_the_brands_offices_even_after_the_schema_was_built(owner_api, client, brand):
    assert client.get("/api/v1/schema/").status_code == 200  # builds (and caches) the filters' fields
    factories.IPRightFactory(brand=brand, office="USPTO", name="US MARK")
    factories.IPRightFactory(brand=brand, office="EUIPO", name="EU MARK")
    rows = owner_api.get(f"{RIGHTS_URL}?office=USPTO").json()["results"]
    assert [row["name"] for row in rows] == ["US MARK"]
    # The offices are the brand's own, which the public schema cannot list: another one lists nothing.
    unknown = owner_api.get(f"{RIGHTS_URL}?office=KIPO")
    assert unknown.status_code == 200 and unknown.json()["results"] == []
    too_long = owner_api.get(f"{RIGHTS_URL}?office={'X' * 41}")
    assert too_long.status_code == 400 and "office" in too_long.json()["errors"]
