"""The brand watch pages: empty states, the search form's refusals next to their fields, the matches list
with its filters and pages, bulk decisions that touch only the brand's own matches, one-click filing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from brands.choices import Role
from detection.choices import WatchMatchState
from detection.models import WatchMatch, WatchSearch
from detection.services.watch import WatchCriteria, watch_search_create, watch_search_run
from listings.models import Listing
from tests import factories
from tests.detection.conftest import ORIGINAL_HASH

pytestmark = pytest.mark.django_db


def url(name: str, brand, **kwargs) -> str:
    return reverse(f"detection:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


@pytest.fixture
def matches(brand, reporter, marketplace):
    """matches(n, search_name="Totes") → n new matches of one saved search, newest first."""

    def make(n: int, search_name: str = "Totes") -> list[WatchMatch]:
        search = watch_search_create(
            brand=brand, actor=reporter, criteria=WatchCriteria(name=search_name, words=search_name)
        )
        for i in range(n):
            factories.ListingFactory(marketplace=marketplace, title=f"{search_name} number {i}", price="10.00")
        Listing.objects.update(created_at=timezone.now() - timedelta(minutes=10))
        watch_search_run(search_id=search.pk)
        return list(WatchMatch.objects.filter(search=search).order_by("-id"))

    return make


def test_both_lists_start_empty_with_an_explanation(client, brand, reporter):
    client.force_login(reporter)
    searches = client.get(url("watch_list", brand)).content.decode()
    assert "No saved searches yet." in searches and url("watch_create", brand) in searches
    found = client.get(url("watch_match_list", brand)).content.decode()
    assert "No new matches." in found and "Save a search" in found


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "P", "words": "acme", "price_min": "50", "price_max": "10"}, "price_max", "at least the lowest"),
        ({"name": "H", "image_hash": "abc123"}, "image_hash", "64 hexadecimal characters"),
        ({"name": "N"}, "words", "Give at least one of"),
        ({"name": "S", "seller": "S-1"}, "seller", "Choose the seller&#x27;s marketplace too."),
    ],
)
def test_the_search_form_names_the_field_it_refuses(client, brand, reporter, data, field, message):
    client.force_login(reporter)
    response = client.post(url("watch_create", brand), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert f'href="#id_{field}"' in body  # the error summary links to the field
    assert not WatchSearch.objects.exists()


def test_a_search_is_saved_with_a_seller_of_the_marketplace_and_a_pasted_hash(client, brand, reporter, marketplace):
    seller = factories.SellerFactory(marketplace=marketplace, external_id="S-77", name="Bag Barn")
    client.force_login(reporter)
    response = client.post(
        url("watch_create", brand),
        {
            "name": "Barn",
            "marketplace": marketplace.pk,
            "seller": "S-77",
            "image_hash": ORIGINAL_HASH.upper(),
            "active": "on",
            "digest": "on",
        },
    )
    assert response.status_code == 302
    search = WatchSearch.objects.get()
    assert (search.seller, search.image_hash, search.brand) == (seller, ORIGINAL_HASH, brand)
    assert list(search.subscribers.all()) == [reporter]
    edit = client.get(url("watch_update", brand, pk=search.pk)).content.decode()
    assert 'value="S-77"' in edit and ORIGINAL_HASH in edit


def test_a_viewer_sees_the_lists_without_the_buttons_and_may_opt_into_the_digest(client, brand, member_of, matches):
    [match] = matches(1)
    viewer = member_of(Role.VIEWER)
    client.force_login(viewer)
    body = client.get(url("watch_match_list", brand)).content.decode()
    assert match.listing.url in body and "/file/" not in body and 'name="selected"' not in body
    searches = client.get(url("watch_list", brand)).content.decode()
    assert url("watch_create", brand) not in searches
    client.post(url("watch_digest", brand, pk=match.search_id), {"digest": "on"})
    assert match.search.subscribers.filter(pk=viewer.pk).exists()


def test_the_matches_list_filters_by_state_and_search_and_pages_with_bounded_queries(
    client, brand, reporter, matches, django_assert_max_num_queries
):
    totes = matches(30, "Totes")
    [wallet] = matches(1, "Wallets")
    client.force_login(reporter)
    with django_assert_max_num_queries(14):
        first = client.get(url("watch_match_list", brand)).content.decode()
    link = 'href="{}"'.format
    assert link(wallet.listing.url) in first and link(totes[-1].listing.url) not in first
    filtered = client.get(url("watch_match_list", brand) + f"?search={totes[0].search_id}&page=2").content.decode()
    assert link(totes[-1].listing.url) in filtered and link(wallet.listing.url) not in filtered
    assert "?state=seen&amp;search=" in filtered  # the tabs keep the search filter
    assert "No new matches" not in filtered
    seen = client.get(url("watch_match_list", brand) + "?state=seen").content.decode()
    assert "None here." in seen


def test_bulk_mark_seen_and_dismiss_change_only_the_brands_own_matches(
    client, brand, other_brand, reporter, matches, marketplace
):
    a, b = matches(2)
    foreign_search = WatchSearch.objects.create(brand=other_brand, name="Theirs", words="x")
    foreign = WatchMatch.objects.create(
        brand=other_brand, search=foreign_search, listing=factories.ListingFactory(marketplace=marketplace)
    )
    client.force_login(reporter)
    response = client.post(
        url("watch_match_bulk", brand), {"action": "seen", "selected": [a.pk, b.pk, foreign.pk], "next": "?state=new"}
    )
    assert response["Location"] == url("watch_match_list", brand) + "?state=new"
    assert set(WatchMatch.objects.filter(brand=brand).values_list("state", flat=True)) == {WatchMatchState.SEEN}
    foreign.refresh_from_db()
    assert foreign.state == WatchMatchState.NEW
    client.post(url("watch_match_bulk", brand), {"action": "dismiss", "selected": [a.pk]})
    a.refresh_from_db()
    assert a.state == WatchMatchState.DISMISSED
    messages = client.get(url("watch_match_list", brand) + "?state=dismissed").content.decode()
    assert "1 match marked dismissed." in messages and a.listing.url in messages


def test_one_click_files_a_match_and_the_list_links_its_case(client, brand, reporter, right, matches):
    factories.ProgramMembershipFactory(brand=brand)
    [match] = matches(1)
    client.force_login(reporter)
    response = client.post(url("watch_match_file", brand, pk=match.pk))
    match.refresh_from_db()
    assert match.state == WatchMatchState.FILED
    assert response["Location"] == reverse(
        "cases:case_detail", kwargs={"brand_slug": brand.slug, "pk": match.filed_case_id}
    )
    filed = client.get(url("watch_match_list", brand) + "?state=filed").content.decode()
    assert f"Case #{match.filed_case_id}" in filed


def test_filing_refused_by_the_cases_rules_says_why(client, brand, reporter, right, matches):
    [match] = matches(1)  # the standard lane: a counterfeit notice needs evidence
    client.force_login(reporter)
    response = client.post(url("watch_match_file", brand, pk=match.pk), follow=True)
    assert "Not filed: Evidence is required" in response.content.decode()
    match.refresh_from_db()
    assert match.state == WatchMatchState.NEW


def test_a_capped_search_says_so_on_the_list(client, brand, reporter, matches):
    [match] = matches(1)
    WatchSearch.objects.filter(pk=match.search_id).update(last_run_capped=True)
    client.force_login(reporter)
    assert "narrow the search" in client.get(url("watch_list", brand)).content.decode()


def test_the_searches_list_counts_new_matches_whatever_the_number_of_subscribers(client, brand, member_of, matches):
    made = matches(2)
    search = made[0].search
    search.subscribers.add(member_of(Role.OWNER), member_of(Role.VIEWER))  # three subscribers in all
    viewer = member_of(Role.VIEWER)
    client.force_login(viewer)
    body = client.get(url("watch_list", brand)).content.decode()
    assert f'?search={search.pk}">2</a>' in body
    assert "E-mail me a digest" in body  # this viewer is not subscribed
