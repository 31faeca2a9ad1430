"""A reporter finds a possible re-listing of an earlier removal in the portal and files it in one click;
a moderator sees the automatically filed item of a strong match marked in the console."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from detection.models import ReListingCandidate
from detection.services.candidates import candidates_file_strong
from detection.services.matching import listings_match
from tests import factories
from tests.detection.conftest import ORIGINAL_HASH, flip


@pytest.mark.django_db(transaction=True)
def test_a_reporter_files_a_possible_relisting_in_one_click(login, live_server, reporter, removed_item, new_listing):
    stranger = factories.SellerFactory(marketplace=removed_item.listing.marketplace, name="Someone Else")
    listing = new_listing("Асме Leather Classic Tote Bag Brown Genuine", seller=stranger)  # Cyrillic "Асме"
    listings_match(listing_ids=[listing.pk])

    page = login(reporter.username)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Possible re-listings").click()
    row = page.get_by_role("row").filter(has_text=listing.title)
    expect(row).to_contain_text(f"Case #{removed_item.case_id}")
    expect(row).to_contain_text("Title (")
    row.get_by_role("button", name="File").click()

    candidate = ReListingCandidate.objects.get(listing=listing)
    assert candidate.status == "filed"
    expect(page.locator(".messages")).to_contain_text(f"Filed as case #{candidate.filed_case_id}")
    expect(page).to_have_url(f"{live_server.url}/b/{removed_item.brand.slug}/cases/{candidate.filed_case_id}/")


@pytest.mark.django_db(transaction=True)
def test_a_moderator_sees_the_automated_filing_in_the_console(page, live_server, removed_item, new_listing, seller):
    factories.ProgramMembershipFactory(brand=removed_item.brand)
    listing = new_listing("Acme Leather Classic Tote Bag Brown", seller=seller, hashes=[flip(ORIGINAL_HASH, 4)])
    candidates_file_strong(candidate_ids=listings_match(listing_ids=[listing.pk]))
    candidate = ReListingCandidate.objects.get(listing=listing)
    assert candidate.automated

    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(root.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + reverse("admin:detection_relistingcandidate_changelist") + "?automated__exact=1")
    row = page.get_by_role("row").filter(has_text=str(candidate.filed_item))
    expect(row).to_be_visible()
    expect(row).to_contain_text("Strong")


@pytest.mark.django_db(transaction=True)
def test_the_automated_item_is_marked_in_the_queue_and_the_brand_withdraws_it(
    page, login, live_server, removed_item, new_listing, seller, reporter
):
    factories.ProgramMembershipFactory(brand=removed_item.brand)
    listing = new_listing("Acme Leather Classic Tote Bag Brown", seller=seller, hashes=[flip(ORIGINAL_HASH, 4)])
    candidates_file_strong(candidate_ids=listings_match(listing_ids=[listing.pk]))
    candidate = ReListingCandidate.objects.get(listing=listing)

    # The moderator filters the review queue to automated detection and sees the item marked.
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(root.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + reverse("admin:cases_caseitem_changelist"))
    page.get_by_role("link", name="Yes").first.click()
    expect(page).to_have_url(f"{live_server.url}{reverse('admin:cases_caseitem_changelist')}?case__automated__exact=1")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    marker = rows.first.locator("abbr.console-auto")
    expect(marker).to_have_text("auto")
    expect(marker).to_have_attribute("title", re.compile("^Automated detection"))
    expect(rows.first).to_contain_text(listing.title)

    # The brand sees the mark on its case page and withdraws the item.
    page.context.clear_cookies()  # the moderator signs out
    brand_page = login(reporter.username)
    brand_page.goto(
        live_server.url
        + reverse("cases:case_detail", kwargs={"brand_slug": removed_item.brand.slug, "pk": candidate.filed_case_id})
    )
    expect(brand_page.locator("dl.facts").first).to_contain_text("Automated detection")
    brand_page.locator("summary", has_text="Withdraw this report").click()
    brand_page.get_by_role("button", name="Withdraw this report").click()
    expect(brand_page.locator(".messages")).to_contain_text(f"Item #{candidate.filed_item_id} withdrawn")
    candidate.refresh_from_db()
    assert candidate.status == "withdrawn"
