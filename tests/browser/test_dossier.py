"""A moderation lead exports a case's referral dossier in a real browser: the button on the case's page, the
confirmation page, the ZIP downloaded and its manifest checked."""

import hashlib
import zipfile
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from marketsafe.management.commands import seed_demo
from tests.browser.test_accessibility import failures
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("staff_groups")
def test_a_lead_exports_a_case_s_dossier(login, live_server, file_case):
    with connection.schema_editor() as schema_editor:
        import_module("investigations.migrations.0002_dossiers")._grant(django_apps, schema_editor, add=True)
    case = file_case(2)
    staff_in(seed_demo.MODERATION_LEADS, "leo")
    page = login("leo")
    page.goto(live_server.url + reverse("admin:cases_case_change", args=[case.pk]))
    page.get_by_role("link", name="Referral dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral dossier of {case}")
    assert failures(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export the dossier (ZIP)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"dossier-case-{case.pk}-")
    with zipfile.ZipFile(download.path()) as archive:
        for line in archive.read("MANIFEST.sha256").decode().splitlines():
            digest, path = line.split("  ", 1)
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
        assert archive.read("dossier.pdf").startswith(b"%PDF-")
