"""The IP rights registry: services (create, update back to pending, retire, documents), the list's
filters, sorting and pagination, the forms' errors, uploads refused by their content, and query counts."""

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from brands.choices import IPRightKind, IPRightStatus, Role
from brands.filtersets import IPRightFilterSet
from brands.models import IPRight, IPRightDocument
from brands.services import rights
from brands.views import right_standing
from core.audit.models import AuditEvent
from core.uploads import check_upload
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = timezone.localdate


def pdf(name: str = "certificate.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def registration(**overrides) -> dict:
    return {
        "kind": IPRightKind.TRADEMARK,
        "name": "ACME",
        "registration_number": "018000001",
        "office": "EUIPO",
        "owner_name": "Acme Leather Ltd",
        "classes": [25, 18],
        "valid_from": date(2020, 1, 1),
        "valid_until": date(2030, 1, 1),
    } | overrides


def url(name: str, brand, **kwargs) -> str:
    return reverse(f"brands:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


# --- services -------------------------------------------------------------------------------------


def test_a_new_right_is_pending_and_audited(brand, owner):
    right = rights.ip_right_create(brand=brand, actor=owner, **registration())
    assert right.status == IPRightStatus.PENDING
    assert right.classes == [18, 25]
    [event] = AuditEvent.objects.filter(action="ip_right.create")
    assert (event.target_id, event.actor, event.brand_id, event.to_state) == (right.pk, owner, brand.pk, "pending")
    assert event.data["valid_until"] == "2030-01-01"
    assert not IPRight.objects.filter(pk=right.pk).usable().exists()


def test_a_new_right_keeps_its_document_in_private_storage(brand, owner):
    right = rights.ip_right_create(brand=brand, actor=owner, document=check_upload(pdf()), **registration())
    [document] = right.documents.all()
    assert (document.original_name, document.content_type) == ("certificate.pdf", "application/pdf")
    assert document.size == len(PDF)
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.uploaded_by == owner
    stored = Path(document.file.path)
    assert stored.read_bytes() == PDF
    assert stored.is_relative_to(settings.STORAGES["private"]["OPTIONS"]["location"])
    assert stored.name != "certificate.pdf"  # generated name; the original is only metadata
    assert AuditEvent.objects.filter(action="ip_right.add_document", target_id=right.pk).exists()


def test_the_same_registration_twice_is_refused_naming_the_field(brand, owner, other_brand):
    rights.ip_right_create(brand=brand, actor=owner, **registration())
    with pytest.raises(ValidationError) as error:
        rights.ip_right_create(brand=brand, actor=owner, **registration(office="euipo", name="Other"))
    assert "already in the registry as ACME" in error.value.message_dict["registration_number"][0]
    # Another brand may register the same number (e.g. a licensee): rights are per brand.
    rights.ip_right_create(brand=other_brand, actor=owner, **registration())


def test_validity_must_end_after_it_starts(brand, owner):
    with pytest.raises(ValidationError) as error:
        rights.ip_right_create(
            brand=brand, actor=owner, **registration(valid_from=date(2024, 1, 1), valid_until=date(2023, 1, 1))
        )
    assert "before its start" in error.value.message_dict["valid_until"][0]


def test_changing_a_verified_right_sends_it_back_to_pending(brand, owner):
    right = factories.IPRightFactory(brand=brand, status=IPRightStatus.VERIFIED, verified_by=owner)
    old_number = right.registration_number
    data = {"registration_number": "999", "name": right.name}

    updated = rights.ip_right_update(right=right, actor=owner, data=data)

    assert (updated.status, updated.verified_at, updated.verified_by) == ("pending", None, None)
    right.refresh_from_db()
    assert right.status == "pending"
    [event] = AuditEvent.objects.filter(action="ip_right.update")
    assert (event.from_state, event.to_state) == ("verified", "pending")
    assert event.data == {"registration_number": [old_number, "999"]}


@pytest.mark.parametrize("status", [IPRightStatus.REJECTED, IPRightStatus.EXPIRED])
def test_changing_a_rejected_or_expired_right_asks_for_verification_again(brand, owner, status):
    right = factories.IPRightFactory(brand=brand, status=status, verified_at=None)
    rights.ip_right_update(right=right, actor=owner, data={"valid_until": TODAY() + timedelta(days=4000)})
    right.refresh_from_db()
    assert right.status == "pending"


def test_saving_without_a_change_changes_nothing(brand, owner):
    right = factories.IPRightFactory(brand=brand)
    rights.ip_right_update(right=right, actor=owner, data={"name": f"  {right.name} ", "classes": [25, 18, 18]})
    right.refresh_from_db()
    assert right.status == "verified"
    assert not AuditEvent.objects.filter(action="ip_right.update").exists()


def test_update_checks_the_same_rules_as_create(brand, owner):
    first = factories.IPRightFactory(brand=brand)
    second = factories.IPRightFactory(brand=brand)
    with pytest.raises(ValidationError) as error:
        rights.ip_right_update(right=second, actor=owner, data={"registration_number": first.registration_number})
    assert "registration_number" in error.value.message_dict
    with pytest.raises(ValueError, match="status"):
        rights.ip_right_update(right=second, actor=owner, data={"status": "verified"})


def test_retiring_keeps_the_right_but_takes_it_out_of_new_cases(brand, owner):
    right = factories.IPRightFactory(brand=brand)
    assert IPRight.objects.filter(pk=right.pk).usable().exists()

    rights.ip_right_retire(right=right, actor=owner, reason="Not renewed.")

    right.refresh_from_db()
    assert right.retired_at is not None
    assert not IPRight.objects.filter(pk=right.pk).usable().exists()
    [event] = AuditEvent.objects.filter(action="ip_right.retire")
    assert (event.from_state, event.to_state, event.reason, event.brand_id) == (
        "verified",
        "retired",
        "Not renewed.",
        brand.pk,
    )
    with pytest.raises(ValidationError, match="already retired"):
        rights.ip_right_retire(right=right, actor=owner)
    with pytest.raises(ValidationError, match="not edited"):
        rights.ip_right_update(right=right, actor=owner, data={"name": "New"})
    with pytest.raises(ValidationError, match="no new documents"):
        rights.ip_right_add_document(right=right, actor=owner, upload=check_upload(pdf()))


def test_document_names_are_kept_without_paths_or_control_characters(brand, owner):
    right = factories.IPRightFactory(brand=brand)
    document = rights.ip_right_add_document(
        right=right, actor=owner, upload=check_upload(pdf("..\\..\\evil\x07 name.pdf")), kind="authorisation"
    )
    assert document.original_name == "evil name.pdf"
    assert document.kind == "authorisation"


# --- how a right stands today ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "blocker"),
    [
        ({}, ""),
        ({"status": IPRightStatus.PENDING, "verified_at": None}, "pending verification"),
        ({"status": IPRightStatus.REJECTED, "verified_at": None}, "rejected"),
        ({"status": IPRightStatus.EXPIRED}, "expired"),
        ({"valid_until": date(2021, 1, 1)}, "expired"),
        ({"valid_from": date(2999, 1, 1), "valid_until": None}, "not valid yet"),
        ({"retired_at": timezone.now()}, "retired"),
        ({"valid_until": None}, ""),
    ],
)
def test_standing_agrees_with_the_rule_the_filing_form_applies(brand, fields, blocker):
    right = factories.IPRightFactory(brand=brand, **fields)
    standing = right_standing(right, TODAY())
    assert standing.blocker == blocker
    assert standing.usable == IPRight.objects.filter(pk=right.pk).usable().exists()


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (23, "expires in 23 days"),
        (1, "expires tomorrow"),
        (0, "expires today"),
        (-1, "expired yesterday"),
        (-3, "expired 3 days ago"),
        (400, "expires in 1\xa0year"),
        (-800, "expired 2\xa0years ago"),
        (None, "no expiry date"),
    ],
)
def test_time_left_is_said_in_words(days, text):
    today = date(2026, 3, 1)
    right = IPRight(status="verified", valid_until=None if days is None else today + timedelta(days=days))
    standing = right_standing(right, today)
    assert standing.time_left == text
    assert standing.expiring_soon == (days is not None and 0 <= days <= 90)
    assert standing.expired == (days is not None and days < 0)


# --- the list -------------------------------------------------------------------------------------


@pytest.fixture
def registry(brand):
    """Rights in every state that matters for the filters."""
    today = TODAY()
    return {
        "bag": factories.IPRightFactory(brand=brand, name="ACME BAG", registration_number="EU-001", office="EUIPO"),
        "soon": factories.IPRightFactory(
            brand=brand, name="ACME SHOE", office="USPTO", valid_until=today + timedelta(days=20)
        ),
        "pending": factories.IPRightFactory(
            brand=brand, name="Logo", kind=IPRightKind.DESIGN, status=IPRightStatus.PENDING, verified_at=None
        ),
        "expired": factories.IPRightFactory(brand=brand, name="Old mark", valid_until=today - timedelta(days=3)),
        "retired": factories.IPRightFactory(brand=brand, name="Retired mark", retired_at=timezone.now()),
    }


def filtered(brand, **params) -> list[str]:
    registry = IPRight.objects.filter(brand=brand)
    return [right.name for right in IPRightFilterSet(params, queryset=registry).qs]


def test_filters(brand, registry):
    assert filtered(brand) == ["ACME BAG", "ACME SHOE", "Logo", "Old mark"]  # current rights, by name
    assert filtered(brand, retired="only") == ["Retired mark"]
    assert len(filtered(brand, retired="all")) == 5
    assert filtered(brand, kind="design") == ["Logo"]
    assert filtered(brand, status="pending") == ["Logo"]
    assert filtered(brand, office="USPTO") == ["ACME SHOE"]
    assert filtered(brand, expires_within="30") == ["ACME SHOE"]
    assert filtered(brand, q="acme") == ["ACME BAG", "ACME SHOE"]
    assert filtered(brand, q="eu-00") == ["ACME BAG"]
    assert filtered(brand, sort="-name") == ["Old mark", "Logo", "ACME SHOE", "ACME BAG"]
    assert filtered(brand, sort="valid_until")[0] == "Old mark"


def test_the_office_choices_come_from_the_brand_only(brand, other_brand, registry):
    factories.IPRightFactory(brand=other_brand, office="KIPO")
    filterset = IPRightFilterSet({}, queryset=IPRight.objects.filter(brand=brand))
    offices = [value for value, _ in filterset.form.fields["office"].widget.choices if value]
    assert offices == ["EUIPO", "USPTO"]


def test_the_office_choices_survive_a_form_field_built_on_the_class(brand, registry):
    """The API schema generator builds the class's filter fields (with no office yet); instances must not
    inherit that cached field."""
    assert list(IPRightFilterSet.base_filters["office"].field.widget.choices) == []
    filterset = IPRightFilterSet({}, queryset=IPRight.objects.filter(brand=brand))
    assert [value for value, _ in filterset.form.fields["office"].widget.choices if value] == ["EUIPO", "USPTO"]
    assert filtered(brand, office="USPTO") == ["ACME SHOE"]


def test_the_list_marks_what_cannot_be_cited(client, brand, member_of, registry):
    client.force_login(member_of(Role.VIEWER))
    response = client.get(url("right_list", brand))
    page = response.content.decode()
    rows = {right.name: standing for right, standing in response.context["rows"]}
    assert rows["ACME BAG"].usable and rows["ACME SHOE"].usable
    assert rows["Logo"].blocker == "pending verification"
    assert rows["Old mark"].blocker == "expired"
    assert page.count("Cannot be used in a new case") == 2
    assert "expires in 20 days" in page and "expired 3 days ago" in page
    assert "Retired mark" not in page
    assert "Add a right" not in page  # viewers read


def test_sortable_headers_keep_the_filters_and_say_how_the_list_is_sorted(client, brand, owner, registry):
    client.force_login(owner)
    page = client.get(url("right_list", brand), {"kind": "trademark", "sort": "-valid_until"}).content.decode()
    assert 'aria-sort="descending"' in page
    assert 'href="?kind=trademark&amp;sort=valid_until"' in page
    assert 'href="?kind=trademark&amp;sort=name"' in page


def test_empty_states(client, brand, owner):
    client.force_login(owner)
    page = client.get(url("right_list", brand)).content.decode()
    assert "No IP rights yet" in page and "Add your first right" in page
    page = client.get(url("right_list", brand), {"q": "nothing"}).content.decode()
    assert "No rights match these filters" in page


def test_pages_of_25(client, brand, owner):
    for n in range(30):
        factories.IPRightFactory(brand=brand, name=f"Mark {n:02d}")
    client.force_login(owner)
    first = client.get(url("right_list", brand))
    second = client.get(url("right_list", brand), {"page": 2})
    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 5
    assert "30 rights" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()
    assert second.context["rows"][0][0].name == "Mark 25"


def test_the_list_costs_the_same_few_queries_for_5_or_30_rights(client, brand, owner, django_assert_max_num_queries):
    client.force_login(owner)
    for n in range(30):
        right = factories.IPRightFactory(brand=brand, office=("EUIPO", "USPTO", "WIPO")[n % 3])
        rights.ip_right_add_document(right=right, actor=owner, upload=check_upload(pdf()))
    # session, user, brand, membership, office choices, count, page of rights, brand switcher, and (on this
    # first page of the brand) the session write that remembers the brand: savepoint, update, release
    with django_assert_max_num_queries(11) as captured:
        response = client.get(url("right_list", brand), {"sort": "-valid_until"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 25
    thirty = len(captured)
    IPRight.objects.filter(brand=brand).exclude(pk__in=IPRight.objects.filter(brand=brand)[:5]).delete()
    with django_assert_max_num_queries(thirty):
        client.get(url("right_list", brand))


# --- forms and pages ------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = registration() | {"classes": "18, 25", "valid_from": "2020-01-01", "valid_until": "2030-01-01"}
    return data | overrides


def test_adding_a_right_with_its_certificate(client, brand, owner):
    client.force_login(owner)
    response = client.post(url("right_create", brand), form_data(document=pdf()))
    right = IPRight.objects.get()
    assert response["Location"] == url("right_detail", brand, pk=right.pk)
    assert right.status == "pending" and right.documents.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "pending verification" in page.lower()
    assert "Cannot be used in a new case" in page
    assert "certificate.pdf" in page


def test_the_form_names_every_missing_field(client, brand, owner):
    client.force_login(owner)
    response = client.post(url("right_create", brand), {"classes": "18, 99"})
    errors = response.context["form"].errors
    assert errors["kind"] == ["Choose the kind of right."]
    assert errors["name"] == ["Enter the name."]
    assert errors["registration_number"] == ["Enter the registration number."]
    assert errors["classes"] == ["99 is not a Nice class: classes run from 1 to 45."]
    page = response.content.decode()
    assert "There are 6 problems" in page
    assert "Nice classes (optional)" in page
    assert not IPRight.objects.exists()


def test_a_duplicate_is_reported_on_the_registration_number_field(client, brand, owner):
    factories.IPRightFactory(brand=brand, name="First", office="EUIPO", registration_number="018000001")
    client.force_login(owner)
    response = client.post(url("right_create", brand), form_data())
    assert "already in the registry as First" in response.context["form"].errors["registration_number"][0]


def test_validity_dates_are_checked_on_the_form(client, brand, owner):
    client.force_login(owner)
    response = client.post(url("right_create", brand), form_data(valid_from="2024-01-01", valid_until="2023-01-01"))
    assert response.context["form"].errors["valid_until"] == ["The end of validity is before its start (2024-01-01)."]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (pdf("certificate.pdf", b"Just some text pretending to be a PDF.\n" * 10), "is not a PDF, though"),
        (pdf("certificate.pdf", PNG), "is not a PDF: its content is a PNG image. Rename it to end in .png"),
        (pdf("certificate.pdf", b""), "certificate.pdf is empty."),
        (pdf("certificate.docx", PNG), "certificate.docx's name does not match its content (a PNG image)."),
        (pdf("certificate.zip", b"PK\x03\x04" + bytes(64)), "is not a file type we accept (.jpeg, .jpg, .pdf"),
    ],
    ids=["text-named-pdf", "png-named-pdf", "empty", "png-named-docx", "zip"],
)
def test_uploads_are_refused_by_their_content(client, brand, owner, upload, message):
    client.force_login(owner)
    response = client.post(url("right_create", brand), form_data(document=upload))
    assert response.status_code == 200
    [error] = response.context["form"].errors["document"]
    assert error.startswith("certificate.") and message in error
    assert not IPRight.objects.exists() and not IPRightDocument.objects.exists()


def test_a_too_big_document_is_refused(client, brand, owner, settings):
    settings.FILE_UPLOAD_MAX_BYTES = 1024 * 1024
    right = factories.IPRightFactory(brand=brand)
    client.force_login(owner)
    big = pdf("scan.pdf", PDF + b"0" * (1024 * 1024))
    response = client.post(url("right_document_create", brand, pk=right.pk), {"file": big, "kind": "certificate"})
    assert response.context["form"].errors["file"] == ["scan.pdf is 1.0 MiB; the limit is 1 MiB."]
    assert not right.documents.exists()


def test_a_document_added_later_is_downloaded_through_the_scoped_view(client, brand, owner, member_of):
    right = factories.IPRightFactory(brand=brand)
    client.force_login(owner)
    response = client.post(url("right_document_create", brand, pk=right.pk), {"file": pdf(), "kind": "renewal"})
    assert response["Location"] == url("right_detail", brand, pk=right.pk)
    document = right.documents.get()
    client.force_login(member_of(Role.VIEWER))
    download = client.get(url("right_document_download", brand, pk=document.pk))
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")


def test_editing_a_verified_right_warns_then_sends_it_back(client, brand, owner):
    right = factories.IPRightFactory(brand=brand, name="ACME")
    client.force_login(owner)
    page = client.get(url("right_update", brand, pk=right.pk)).content.decode()
    assert "sends it back to <strong>pending verification</strong>" in page
    assert "Save and send for verification" in page

    data = form_data(registration_number=right.registration_number, office=right.office, name="ACME ®")
    response = client.post(url("right_update", brand, pk=right.pk), data, follow=True)

    right.refresh_from_db()
    assert (right.name, right.status) == ("ACME ®", "pending")
    page = response.content.decode()
    assert "pending verification again" in page
    assert f"{owner} changed: name, registered owner, valid until" in page
    assert "(verified → pending)" in page


def test_a_retired_right_is_read_only_in_the_pages(client, brand, owner):
    right = factories.IPRightFactory(brand=brand, retired_at=timezone.now())
    client.force_login(owner)
    for name in ("right_update", "right_document_create"):
        response = client.get(url(name, brand, pk=right.pk))
        assert response["Location"] == url("right_detail", brand, pk=right.pk)
    page = client.get(url("right_detail", brand, pk=right.pk)).content.decode()
    assert "Cannot be used in a new case" in page and "retired" in page
    assert url("right_update", brand, pk=right.pk) not in page


def test_retiring_through_the_page(client, brand, owner):
    right = factories.IPRightFactory(brand=brand)
    client.force_login(owner)
    response = client.post(url("right_retire", brand, pk=right.pk), {"reason": "Assigned to Globex."}, follow=True)
    right.refresh_from_db()
    assert right.retired_at is not None
    assert "Assigned to Globex." in response.content.decode()  # in the right's history


def test_another_brands_right_is_not_found_by_the_forms(client, brand, other_brand, owner):
    theirs = factories.IPRightFactory(brand=other_brand)
    client.force_login(owner)
    assert client.get(url("right_detail", brand, pk=theirs.pk)).status_code == 404
    for name in ("right_update", "right_retire", "right_document_create"):
        assert client.post(url(name, brand, pk=theirs.pk), form_data()).status_code == 404
    theirs.refresh_from_db()
    assert theirs.retired_at is None and theirs.status == "verified"
