"""The moderator console's pages as a moderator sees them on a laptop screen (1366x768): the review queue,
the bulk confirmation page."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import CaseItem
from tests import factories

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def root(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


def snapshot(page, name: str) -> None:
    """A screenshot to look at the layout, when SCREENSHOT_DIR names a directory (never in CI)."""
    if directory := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=Path(directory) / f"{name}.png", full_page=False)


def rows_on_screen(page) -> int:
    """Rows of the admin's result table wholly inside the viewport, as the page opens (no scrolling)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#result_list tbody tr')]
            .filter(row => row.getBoundingClientRect().bottom <= window.innerHeight).length"""
    )


@pytest.mark.django_db(transaction=True)
def test_the_queue_shows_twenty_rows_on_a_laptop_screen(login, live_server, root, file_case):
    file_case(n=30)
    first, second = CaseItem.objects.order_by("pk")[:2]
    CaseItem.objects.filter(pk=first.pk).update(sla_due_at=timezone.now() - timedelta(hours=5, minutes=10))
    CaseItem.objects.filter(pk=second.pk).update(sla_due_at=timezone.now() + timedelta(hours=3, minutes=20))
    page = login("root")
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("admin:cases_caseitem_changelist"))

    expect(page.locator("#site-name")).to_have_text("MarketSafe moderation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    expect(page).to_have_title("Review queue | MarketSafe moderation")
    snapshot(page, "queue")
    assert rows_on_screen(page) >= 20
    # Every column is in view beside the filter panel: the last one ends before the panel begins.
    assignee = page.locator("#result_list thead th.column-assigned_to").bounding_box()
    panel = page.locator("#changelist-filter").bounding_box()
    assert assignee["x"] + assignee["width"] <= panel["x"]

    breached = page.locator("#result_list tbody tr").first.locator(".field-sla_column time")
    expect(breached).to_have_text("5 h ago, breached")
    expect(breached).to_have_class("sla sla-breached")
    assert breached.evaluate("e => getComputedStyle(e).color") != "rgb(0, 0, 0)"
    expect(page.locator("#result_list tbody tr").nth(1).locator(".field-sla_column time")).to_have_text("in 3 h")


@pytest.mark.django_db(transaction=True)
def test_the_bulk_confirmation_shows_the_form_first_and_folds_the_items(login, live_server, root, file_case):
    file_case(n=30)
    page = login("root")
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("admin:cases_caseitem_changelist"))
    page.locator("#action-toggle").check()
    page.get_by_role("combobox", name="Action").select_option(label="Reject selected items…")
    page.get_by_role("button", name="Run").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Reject: 30 items")
    submit = page.get_by_role("button", name="Reject: 30 items")
    expect(submit).to_be_in_viewport()
    items = page.get_by_role("table", name="Selected items")
    expect(items).to_be_hidden()
    form_bottom = submit.bounding_box()["y"]
    summary = page.get_by_text("The 30 selected items")
    assert summary.bounding_box()["y"] > form_bottom
    snapshot(page, "confirmation")

    summary.click()
    expect(items).to_be_visible()
    expect(items.get_by_role("row")).to_have_count(31)
