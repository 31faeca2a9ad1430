"""A moderator watches a delisting job in the admin: the progress bar advances by itself while chunks are
processed, pause and resume work from the page, and the polling stops once the job is finished."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from listings import delisting
from listings.choices import DelistSelectionKind
from listings.delisting import common
from listings.models import DelistJob
from tests import factories


@pytest.fixture
def console_errors(page):
    """Console errors of the page (a CSP violation would show here); the missing favicon is not ours."""
    errors: list[str] = []

    def record(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", record)
    return errors


@pytest.fixture
def job(settings, monkeypatch, live_server, no_lock_checks) -> DelistJob:
    """A planned job of 9 listings in 3 chunks, whose chunk messages are dropped: the test runs the chunks."""
    settings.MARKETSAFE = {**settings.MARKETSAFE, "DELIST_CHUNK_SIZE": 3}
    monkeypatch.setattr(common, "enqueue_chunks", lambda chunk_ids: None)
    monkeypatch.setattr(common, "enqueue_plan", lambda job_id: None)
    marketplace = factories.MarketplaceFactory(name="ShopNow", slug="shopnow", hosts=["shopnow.example"])
    listings = factories.ListingFactory.create_batch(9, marketplace=marketplace)
    created = delisting.delist_job_create(
        selection_kind=DelistSelectionKind.LISTING_IDS,
        selection={},
        listing_ids=[x.pk for x in listings],
        actor=factories.UserFactory(username="root", is_staff=True, is_superuser=True),
        reason="Counterfeit sweep.",
        idempotency_key="browser-job",
    )
    delisting.delist_job_plan(job_id=created.pk)
    return created


def process_chunk(job: DelistJob, seq: int) -> None:
    delisting.delist_chunk_process(chunk_id=job.chunks.get(seq=seq).pk)


@pytest.mark.django_db(transaction=True)
def test_the_progress_bar_advances_live_and_stops_polling_when_done(login, live_server, job, console_errors):
    polls: list[str] = []
    page = login("root")
    page.on("request", lambda request: request.url.endswith(f"/{job.pk}/progress/") and polls.append(request.url))
    page.goto(live_server.url + reverse("admin:listings_delistjob_change", args=[job.pk]))
    record = page.locator("#delistjob_form")
    expect(record.locator(".field-finished_at .readonly")).to_have_text("-")
    bar = page.get_by_label("0 of 9 targets processed (0%)")
    expect(bar).to_have_attribute("value", "0")
    panel = page.get_by_role("region", name="Progress")

    process_chunk(job, 1)
    expect(page.get_by_label("3 of 9 targets processed (33%)")).to_have_attribute("value", "3", timeout=10_000)

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text(f"Delisting job #{job.pk} was paused.")).to_be_visible()
    expect(panel.get_by_role("row", name="Status")).to_contain_text("Paused")
    page.get_by_role("button", name="Resume").click()
    expect(panel.get_by_role("row", name="Status")).to_contain_text("Running")
    page.evaluate("window.loadedOnce = true")  # the last navigation: gone if the page reloads from here on

    process_chunk(job, 2)
    expect(page.get_by_label("6 of 9 targets processed (66%)")).to_have_attribute("value", "6", timeout=10_000)
    # The chunk table follows each chunk, not only the end of the job.
    expect(record.locator("td.field-state")).to_have_text(["Done", "Done", "Pending"], timeout=10_000)
    process_chunk(job, 3)
    expect(panel.get_by_role("row", name="Status")).to_contain_text("Completed", timeout=10_000)
    expect(page.get_by_label("9 of 9 targets processed (100%)")).to_have_attribute("value", "9")
    expect(panel.get_by_role("button")).to_have_count(0)
    expect(panel.get_by_role("link", name="Listings removed by this job")).to_be_visible()
    # The record under the panel follows without a reload: its chunk table and "Finished at".
    expect(record.locator("td.field-state")).to_have_text(["Done", "Done", "Done"], timeout=10_000)
    expect(record.locator(".field-finished_at .readonly")).not_to_have_text("-")
    expect(panel.get_by_role("row", name="Finished at")).not_to_contain_text("—")
    assert page.evaluate("window.loadedOnce") is True

    seen = len(polls)
    page.wait_for_timeout(4_500)  # more than two polling intervals
    assert len(polls) == seen
    assert seen >= 3
    assert console_errors == []
