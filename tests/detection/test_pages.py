"""The brand's "possible re-listings" page: empty state, the list with its signals, pages, one-click filing."""

import pytest
from django.urls import reverse

from brands.choices import Role
from detection.choices import CandidateStatus
from detection.models import ReListingCandidate
from detection.services.matching import listings_match
from tests import factories

pytestmark = pytest.mark.django_db


def url(brand, **query) -> str:
    base = reverse("detection:candidate_list", kwargs={"brand_slug": brand.slug})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_list_starts_empty_with_an_explanation(client, brand, reporter):
    client.force_login(reporter)
    response = client.get(url(brand))
    assert response.status_code == 200
    assert "No possible re-listings right now" in response.content.decode()


@pytest.fixture
def candidates(removed_item, new_listing, marketplace):
    def make(n: int) -> list[ReListingCandidate]:
        for i in range(n):
            stranger = factories.SellerFactory(marketplace=marketplace, name=f"Stranger {i}")
            listing = new_listing("Acme Leather Classic Tote Bag Brown Genuine", seller=stranger)
            listings_match(listing_ids=[listing.pk])
        return list(ReListingCandidate.objects.order_by("-id"))

    return make


def test_the_list_shows_each_candidate_with_its_earlier_case_and_signals(client, brand, reporter, candidates):
    [candidate] = candidates(1)
    client.force_login(reporter)
    body = client.get(url(brand)).content.decode()
    assert candidate.listing.url in body
    assert f"Case #{candidate.fingerprint.case_id}" in body
    assert "Title (1.00)" in body
    assert reverse("detection:candidate_file", kwargs={"brand_slug": brand.slug, "pk": candidate.pk}) in body


def test_a_viewer_sees_the_list_without_the_buttons(client, brand, member_of, candidates):
    [candidate] = candidates(1)
    client.force_login(member_of(Role.VIEWER))
    body = client.get(url(brand)).content.decode()
    assert candidate.listing.url in body
    assert "/file/" not in body


def test_the_list_is_paginated_with_a_bounded_number_of_queries(
    client, brand, reporter, candidates, django_assert_max_num_queries
):
    made = candidates(30)
    client.force_login(reporter)
    with django_assert_max_num_queries(12):
        first = client.get(url(brand)).content.decode()
    link = 'href="{}"'.format
    assert link(made[0].listing.url) in first and link(made[-1].listing.url) not in first
    second = client.get(url(brand, page=2)).content.decode()
    assert link(made[-1].listing.url) in second


def test_one_click_files_the_candidate_and_it_moves_to_filed(client, brand, reporter, candidates):
    [candidate] = candidates(1)
    client.force_login(reporter)
    response = client.post(reverse("detection:candidate_file", kwargs={"brand_slug": brand.slug, "pk": candidate.pk}))
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.FILED
    assert response["Location"] == reverse(
        "cases:case_detail", kwargs={"brand_slug": brand.slug, "pk": candidate.filed_case_id}
    )
    assert candidate.listing.url in client.get(url(brand, status="filed")).content.decode()
    assert "No possible re-listings right now" in client.get(url(brand)).content.decode()


def test_filing_twice_says_so_instead_of_failing(client, brand, reporter, candidates):
    [candidate] = candidates(1)
    client.force_login(reporter)
    action = reverse("detection:candidate_file", kwargs={"brand_slug": brand.slug, "pk": candidate.pk})
    client.post(action)
    response = client.post(action, follow=True)
    assert "already filed" in response.content.decode()
