"""The DSA transparency report in a real browser, as association staff: pick a period, read the sections and
charts, download the JSON export and read it back; no serious accessibility violation on the page."""

import json
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.choices import ItemStatus
from cases.demo import drive_item_to
from marketsafe.management.commands import seed_demo
from tests.browser.test_accessibility import failures
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("staff_groups")
def test_association_staff_read_the_report_and_download_its_json(login, live_server, file_case, moderator, reporter):
    for item, status in zip(
        file_case(3).items.order_by("pk"), (ItemStatus.ACCEPTED, ItemStatus.ACCEPTED, ItemStatus.REJECTED), strict=True
    ):
        drive_item_to(item, status, moderator=moderator, brand_user=reporter)
    staff_in(seed_demo.ASSOCIATION_REVIEWERS, "rosa")
    page = login("rosa")
    page.goto(live_server.url + reverse("admin:index"))
    page.get_by_role("link", name="DSA transparency report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("DSA transparency report")

    this_year = str(timezone.localdate().year)
    page.get_by_label("From", exact=True).fill(f"{this_year}-01-01")
    page.get_by_label("To (included)", exact=True).fill(f"{this_year}-12-31")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("heading", name="1.3 Notices submitted in accordance with Art. 16")).to_be_visible()
    expect(page.locator("svg.chart-svg")).to_have_count(3)
    assert failures(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the report (JSON)").click()
    download = download_info.value
    assert download.suggested_filename == f"dsa-transparency-{this_year}0101-{this_year}1231.json"
    report = json.loads(Path(download.path()).read_text())
    notices = next(section for section in report["sections"] if section["id"] == "1.3")["fields"]
    assert notices["notices.received.total"]["value"] == 3
    assert notices["notices.actions.total"]["value"] == 2
    assert notices["notices.no_action"]["value"] == 1
