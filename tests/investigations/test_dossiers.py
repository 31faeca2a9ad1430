"""Referral dossiers (`investigations.services.dossiers`, `admin:investigations_case_dossier`): the ZIP's files
and manifest checked by recomputing every hash (and by `sha256sum -c` itself), the PDF, the record and its
audit event, sellers' identities in clear only for a role that may see them, the size cap, the button on
the case page, and who may export (moderation leads; not moderators, not brand users)."""

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import IPRightDocument
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import Case, Evidence
from core.audit.models import AuditEvent
from core.errors import DomainError
from investigations.dossiers import (
    DossierContext,
    DossierFile,
    DossierSection,
    SectionOutput,
    register_dossier_section,
)
from investigations.models import DossierExport
from investigations.services import dossiers
from listings.models import Listing
from marketsafe.management.commands import seed_demo
from tests import factories
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups", "dossier_permissions")]


@pytest.fixture
def dossier_permissions(staff_groups):  # noqa: F811
    """The leads' dossier permissions as migration 0002_dossiers grants them, run again in this test's
    transaction (see `staff_groups`)."""
    migration = import_module("investigations.migrations.0002_dossiers")
    with connection.schema_editor() as schema_editor:
        migration._grant(django_apps, schema_editor, add=True)


@pytest.fixture
def case(file_case, moderator, reporter, marketplace, right) -> Case:
    """Three listings of one seller with snapshots: accepted, removal upheld on the brand's evidence, rejected;
    the right relied on has a certificate."""
    factories.stored_document(IPRightDocument, uploaded_by=reporter, name="certificate.pdf", right=right)
    case = file_case(3)
    seller = factories.SellerFactory(marketplace=marketplace, name="Shady Goods Ltd", external_id="SG-42")
    for n, item in enumerate(case.items.order_by("pk")):
        Listing.objects.filter(pk=item.listing_id).update(
            seller=seller, title=f"Bag {n}", snapshot={"title": f"Bag {n}", "price": "19.00", "images": [f"img{n}.jpg"]}
        )
    statuses = (ItemStatus.ACCEPTED, ItemStatus.UPHELD, ItemStatus.REJECTED)
    for item, status in zip(case.items.order_by("pk"), statuses, strict=True):
        drive_item_to(item, status, moderator=moderator, brand_user=reporter)
    return case


@pytest.fixture
def lead_user():
    return staff_in(seed_demo.MODERATION_LEADS, "leo")


def unzip(result) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(result.file.read()))


def test_the_zip_holds_the_dossier_and_every_hash_in_its_manifest_checks(case, lead_user):
    result = dossiers.dossier_export(case_id=case.pk, actor=lead_user)
    raw = result.file.read()
    archive = zipfile.ZipFile(io.BytesIO(raw))
    names = set(archive.namelist())
    listing_ids = sorted(case.items.values_list("listing_id", flat=True))
    evidence = list(Evidence.objects.filter(case=case).order_by("pk"))
    assert len(evidence) == 2  # the filing's screenshot and the brand's answer to the counter-notice
    assert names == {
        "dossier.pdf",
        "case.json",
        "manifest.json",
        "MANIFEST.sha256",
        *(f"listings/{pk}.json" for pk in listing_ids),
        *(f"evidence/{e.pk}-evidence.png" for e in evidence),
        f"rights/{IPRightDocument.objects.get().pk}-certificate.pdf",
    }
    # Every line of MANIFEST.sha256 names a file whose bytes hash to it; every file but itself is listed.
    lines = archive.read("MANIFEST.sha256").decode().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == names - {"MANIFEST.sha256"}
    for path, digest in listed.items():
        assert hashlib.sha256(archive.read(path)).hexdigest() == digest, path
    manifest = json.loads(archive.read("manifest.json"))
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        k: v for k, v in listed.items() if k != "manifest.json"
    }
    assert all(f["size"] == len(archive.read(f["path"])) for f in manifest["files"])
    assert manifest["subject"] == {"kind": "case", "id": case.pk}
    # The evidence is the stored file, byte for byte, and the hash recorded at upload matches it.
    for document in evidence:
        assert hashlib.sha256(archive.read(f"evidence/{document.pk}-evidence.png")).hexdigest() == document.sha256
    # The record holds the manifest's and the ZIP's hashes.
    export = result.export
    assert export.manifest_sha256 == hashlib.sha256(archive.read("MANIFEST.sha256")).hexdigest()
    assert export.zip_sha256 == hashlib.sha256(raw).hexdigest() and export.size == len(raw)
    assert export.files == len(names)


SHA256SUM = shutil.which("sha256sum")


@pytest.mark.skipif(SHA256SUM is None, reason="no sha256sum on this machine")
def test_sha256sum_checks_the_unzipped_dossier(case, lead_user, tmp_path):
    unzip(dossiers.dossier_export(case_id=case.pk, actor=lead_user)).extractall(tmp_path)
    check = subprocess.run([SHA256SUM, "-c", "MANIFEST.sha256"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    (tmp_path / "case.json").write_text("{}")
    assert (
        subprocess.run([SHA256SUM, "--quiet", "-c", "MANIFEST.sha256"], cwd=tmp_path, capture_output=True).returncode
        == 1
    )


def test_the_pdf_and_case_json_name_the_case_its_listings_decisions_and_custody(case, lead_user):
    archive = unzip(dossiers.dossier_export(case_id=case.pk, actor=lead_user))
    pdf = archive.read("dossier.pdf")
    assert pdf.startswith(b"%PDF-")
    assert f"Referral dossier: Case #{case.pk}".encode() in pdf  # the document's title
    data = json.loads(archive.read("case.json"))
    sections = data["sections"]
    assert list(sections) == ["case", "listings", "sellers", "decisions", "evidence", "rights_documents", "custody"]
    assert sections["case"]["id"] == case.pk and sections["case"]["declarations"]
    assert [entry["status"] for entry in sections["decisions"]] == ["accepted", "upheld", "rejected"]
    assert sections["decisions"][0]["statements_of_reasons"][0]["decision_ground"].startswith("DECISION_GROUND_")
    assert sections["decisions"][1]["counter_notices"][0]["answer"] == "rejected"
    assert all(entry["unchanged_since_upload"] for entry in sections["evidence"] + sections["rights_documents"])
    assert {"item.accept", "item.reject"} <= {event["action"] for event in sections["custody"]}
    snapshot = json.loads(archive.read(sections["listings"][0]["snapshot_file"]))
    assert snapshot["snapshot"]["images"] == ["img0.jpg"]


def test_each_export_is_recorded_and_audited_with_the_manifest_hash(case, lead_user, client, reporter):
    result = dossiers.dossier_export(case_id=case.pk, actor=lead_user)
    event = AuditEvent.objects.get(action="dossier.export")
    assert (event.target_id, event.actor, event.brand_id) == (case.pk, lead_user, None)
    assert event.data["manifest_sha256"] == result.export.manifest_sha256
    assert event.data["export"] == result.export.pk
    dossiers.dossier_export(case_id=case.pk, actor=lead_user)
    assert DossierExport.objects.filter(case=case).count() == 2
    # The export is the staff's act: not on the brand's page of the case.
    client.force_login(reporter)
    brand_page = client.get(reverse("cases:case_detail", args=[case.brand.slug, case.pk]))
    assert brand_page.status_code == 200 and "dossier" not in brand_page.content.decode().lower()
    assert AuditEvent.objects.filter(action="dossier.export").count() == 2


def test_identities_are_in_clear_only_for_a_role_that_may_see_sellers(case, lead_user):
    lead_view = json.loads(unzip(dossiers.dossier_export(case_id=case.pk, actor=lead_user)).read("case.json"))
    (seller,) = lead_view["sections"]["sellers"]["sellers"]
    assert (seller["name"], seller["external_id"]) == ("Shady Goods Ltd", "SG-42")
    clerk = factories.UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="export_dossier"))
    archive = unzip(dossiers.dossier_export(case_id=case.pk, actor=clerk))
    raw = archive.read("case.json").decode()
    assert "Shady Goods" not in raw and "SG-42" not in raw and "192.0.2.10" not in raw
    data = json.loads(raw)
    (hidden,) = data["sections"]["sellers"]["sellers"]
    assert hidden["ref"].startswith("seller-") and hidden["ref"] != seller["ref"]
    assert {entry["seller"] for entry in data["sections"]["listings"]} == {hidden["ref"]}
    # Without the evidence permission the files are listed with their hashes, not copied.
    assert not [name for name in archive.namelist() if name.startswith("evidence/")]
    assert all(entry["file"] is None for entry in data["sections"]["evidence"])


def test_a_registered_section_joins_the_dossier(case, lead_user, monkeypatch):
    monkeypatch.setattr("investigations.dossiers._SECTIONS", dict(import_module("investigations.dossiers")._SECTIONS))

    def purchases(context: DossierContext) -> SectionOutput:
        return SectionOutput(
            data={"cases": context.case_ids}, files=[DossierFile("purchases/1.txt", content=b"receipt")]
        )

    register_dossier_section(DossierSection("purchases", "Test purchases", 70, purchases))
    archive = unzip(dossiers.dossier_export(case_id=case.pk, actor=lead_user))
    assert json.loads(archive.read("case.json"))["sections"]["purchases"] == {"cases": [case.pk]}
    assert "purchases/1.txt" in archive.read("MANIFEST.sha256").decode()


def test_a_dossier_over_the_cap_is_refused_and_nothing_is_recorded(case, lead_user, monkeypatch):
    monkeypatch.setattr(dossiers, "DOSSIER_MAX_BYTES", 10)
    with pytest.raises(DomainError, match="exports from this page stop at"):
        dossiers.dossier_export(case_id=case.pk, actor=lead_user)
    assert not DossierExport.objects.exists() and not AuditEvent.objects.filter(action="dossier.export").exists()


def test_moderators_and_brand_users_cannot_export(case, reporter):
    moderator = staff_in(seed_demo.MODERATORS, "mona")
    for user in (moderator, reporter):
        with pytest.raises(PermissionDenied):
            dossiers.dossier_export(case_id=case.pk, actor=user)
    assert not DossierExport.objects.exists()


def page(case) -> str:
    return reverse("admin:investigations_case_dossier", args=[case.pk])


def test_the_lead_exports_from_the_case_page(client, case, lead_user):
    client.force_login(lead_user)
    case_page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert page(case) in case_page
    confirm = client.get(page(case))
    assert confirm.status_code == 200 and "Export the dossier (ZIP)" in confirm.content.decode()
    response = client.post(page(case))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="dossier-case-{case.pk}-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "MANIFEST.sha256" in archive.namelist()
    assert DossierExport.objects.get().exported_by == lead_user


def test_the_page_shows_the_cap_s_refusal(client, case, lead_user, monkeypatch):
    monkeypatch.setattr(dossiers, "DOSSIER_MAX_BYTES", 10)
    client.force_login(lead_user)
    response = client.post(page(case), follow=True)
    assert "exports from this page stop at" in response.content.decode()
    assert not DossierExport.objects.exists()


def test_the_page_refuses_moderators_brand_users_and_posts_without_csrf(client, case, reporter, lead_user):
    moderator = staff_in(seed_demo.MODERATORS, "mona")
    client.force_login(moderator)
    assert page(case) not in client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert client.get(page(case)).status_code == 403
    assert client.post(page(case)).status_code == 403
    client.force_login(reporter)
    assert client.post(page(case))["Location"].startswith(reverse("admin:login"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(lead_user)
    assert strict.post(page(case)).status_code == 403
    assert not DossierExport.objects.exists()
    missing = reverse("admin:investigations_case_dossier", args=[case.pk + 1000])
    client.force_login(lead_user)
    assert client.get(missing).status_code == 404


def test_the_export_s_queries_do_not_grow_with_the_case(file_case, lead_user):
    def queries(case) -> int:
        with CaptureQueriesContext(connection) as captured:
            dossiers.dossier_export(case_id=case.pk, actor=lead_user).file.close()
        return len(captured.captured_queries)

    queries(file_case(1))  # warms the per-process caches (content types, the user's permissions)
    few, many = queries(file_case(1)), queries(file_case(25))
    assert few == many


def test_a_file_changed_since_its_upload_is_flagged_in_the_chain_of_custody(case, lead_user):
    document = Evidence.objects.filter(case=case).order_by("pk").first()
    with document.file.storage.open(document.file.name, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n tampered")
    data = json.loads(unzip(dossiers.dossier_export(case_id=case.pk, actor=lead_user)).read("case.json"))
    flagged = {entry["id"]: entry["unchanged_since_upload"] for entry in data["sections"]["evidence"]}
    assert flagged[document.pk] is False
    assert sum(flagged.values()) == len(flagged) - 1
