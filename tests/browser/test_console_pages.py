"""The moderator console's pages as a moderator sees them on a laptop screen (1366x768): the review queue,
the bulk confirmation page."""

import io
import itertools
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import CaseItem
from listings import delisting
from listings.choices import DelistSelectionKind
from listings.delisting import common
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


def boxes_overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"]


@pytest.mark.django_db(transaction=True)
def test_the_program_report_s_charts_read_cleanly(login, live_server):
    call_command("seed_demo", stdout=io.StringIO())
    factories.UserFactory(username="chartroot", is_staff=True, is_superuser=True)
    page = login("chartroot")
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("admin:program_report"))
    snapshot(page, "program_report")

    charts = page.locator("svg.chart-svg")
    expect(charts).to_have_count(3)
    for n in range(3):
        labels = list(
            charts.nth(n)
            .locator("text.chart-x-label")
            .evaluate_all(
                "texts => texts.map(t => { const r = t.getBoundingClientRect();"
                " return {x: r.x, y: r.y, width: r.width, height: r.height}; })"
            )
        )
        assert len(labels) >= 2
        assert not any(boxes_overlap(a, b) for a, b in itertools.pairwise(labels))
        ticks = charts.nth(n).locator("text.chart-axis:not(.chart-x-label)").all_text_contents()
        assert all(tick.replace(",", "").isdigit() for tick in ticks), ticks
    body = page.locator("#content").inner_text()
    assert "p.m." not in body and "a.m." not in body
    assert re.search(r"Figures as of \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC\.", body)


@pytest.mark.django_db(transaction=True)
def test_a_delisting_job_shows_a_full_width_bar_and_its_selection_in_words(
    login, live_server, root, settings, monkeypatch, no_lock_checks
):
    monkeypatch.setattr(common, "enqueue_plan", lambda job_id: None)
    marketplace = factories.MarketplaceFactory(name="ShopNow", slug="shopnow", hosts=["shopnow.example"])
    seller = factories.SellerFactory(marketplace=marketplace, name="Bargain Bags", external_id="7")
    factories.ListingFactory.create_batch(3, marketplace=marketplace, seller=seller)
    job = delisting.delist_job_create(
        selection_kind=DelistSelectionKind.SELLER,
        selection={"seller_id": seller.pk},
        actor=root,
        reason="Seller suspended.",
        idempotency_key="browser-seller-job",
    )
    page = login("root")
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("admin:listings_delistjob_change", args=[job.pk]))
    snapshot(page, "delist_job")

    expect(page.locator(".field-selection_sentence")).to_contain_text(
        "All live listings of seller Bargain Bags #7 on ShopNow"
    )
    expect(page.locator(".field-selection_sentence")).not_to_contain_text("seller_id")
    bar = page.locator("#delist-progress-bar").bounding_box()
    panel = page.locator("#delist-progress").bounding_box()
    assert bar["width"] >= 0.9 * panel["width"]
