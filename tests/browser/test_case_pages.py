"""A brand's reporter, in a real browser: answers a seller's counter-notice from the case page (rejecting
it with an evidence file) and filters the reported-listings list."""

import pytest
from playwright.sync_api import expect

from cases.choices import ItemStatus
from cases.demo import drive_item_to
from listings.models import Listing

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.django_db(transaction=True)
def test_reject_a_counter_notice_with_evidence(login, live_server, file_case, moderator, reporter):
    item = drive_item_to(file_case(1).items.get(), ItemStatus.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)

    page = login(reporter.username)
    page.goto(f"{live_server.url}/b/acme/cases/{item.case_id}/")
    section = page.locator(f"#item-{item.pk}")
    expect(section.locator(".status")).to_have_text("Counter-notice received")
    expect(section).to_contain_text("Your answer is due")

    section.get_by_label("Reject it with evidence: the listing stays removed").check()
    section.get_by_label("Evidence:", exact=True).set_input_files(
        {"name": "test-purchase.png", "mimeType": "image/png", "buffer": PNG}
    )
    section.get_by_label("Kind of evidence").select_option(label="Test purchase report")
    section.get_by_label("Note (optional)").fill("Our test purchase shows a fake.")
    section.get_by_role("button", name="Answer the counter-notice").click()

    recorded = f"Your answer to the counter-notice on item #{item.pk} is recorded."
    expect(page.locator(".messages")).to_contain_text(recorded)
    section = page.locator(f"#item-{item.pk}")
    expect(section.locator(".status")).to_have_text("Removal upheld")
    expect(section).to_contain_text("test-purchase.png")
    expect(section.get_by_role("button", name="Answer the counter-notice")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_filter_the_reported_listings(login, live_server, file_case, moderator, reporter):
    tote, watch, belt = file_case(3).items.order_by("pk")
    for item, title in ((tote, "Leather tote"), (watch, "Silver watch"), (belt, "Leather belt")):
        Listing.objects.filter(pk=item.listing_id).update(title=title)
    drive_item_to(belt, ItemStatus.REJECTED, moderator=moderator, brand_user=reporter)

    page = login(reporter.username)
    page.goto(f"{live_server.url}/b/acme/items/")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Search").fill("leather")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(2)

    page.get_by_label("Submitted", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Leather tote")
    expect(page.get_by_label("Search")).to_have_value("leather")  # the form keeps what was filtered

    page.get_by_label("Search").fill("no such listing")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No reported listings match these filters.")).to_be_visible()
    page.get_by_role("link", name="Reset the filters").click()
    expect(rows).to_have_count(3)
