"""Changelist row links keep the list's filters, as Django's own links do, without resolving each row's URL
(core.admin.mixins.RowLinkChangeList)."""

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import reverse

from listings.admin.marketplace import SellerAdmin
from listings.choices import SellerStatus
from listings.models import Seller
from tests import factories

pytestmark = pytest.mark.django_db

SELLERS = reverse("admin:listings_seller_changelist")


def row_links(response) -> list[str]:
    """The hrefs of the result table's row links (to a change page)."""
    html = response.content.decode()
    table = html[html.index('id="result_list"') :]
    return [unescape(href) for href in re.findall(r'<a href="([^"]+/change/[^"]*)"', table)]


def djangos_link(seller: Seller, query: dict[str, str]) -> str:
    """The link Django's `add_preserved_filters` makes for a row, given the list's query string."""
    preserved = urlencode({"_changelist_filters": urlencode(query)}) if query else ""
    url = reverse("admin:listings_seller_change", args=[seller.pk])
    return add_preserved_filters({"preserved_filters": preserved, "opts": Seller._meta}, url)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"p": "2"},
        {"status": SellerStatus.ACTIVE, "p": "2", "q": "Shop & Co"},
    ],
    ids=["first-page", "page-2", "filtered-searched-page-2"],
)
def test_row_links_are_the_ones_django_makes(superuser_client, monkeypatch, query):
    monkeypatch.setattr(SellerAdmin, "list_per_page", 2)
    marketplace = factories.MarketplaceFactory()
    sellers = [
        factories.SellerFactory(marketplace=marketplace, name=f"Shop & Co {n}", status=SellerStatus.ACTIVE)
        for n in range(5)
    ]

    response = superuser_client.get(SELLERS, query)

    assert response.status_code == 200
    shown = response.context["cl"].result_list
    assert len(shown) == 2
    links = row_links(response)
    # Two links per row (id and name), each exactly Django's.
    assert links == [djangos_link(seller, query) for seller in shown for _ in range(2)]
    if query:
        assert all("_changelist_filters=" in link for link in links)
    assert {seller.pk for seller in shown} <= {seller.pk for seller in sellers}


def test_saving_from_a_filtered_page_returns_to_it(superuser_client):
    seller = factories.SellerFactory(name="Shop", status=SellerStatus.ACTIVE)
    query = {"status": SellerStatus.ACTIVE, "q": "Shop"}

    response = superuser_client.get(SELLERS, query)
    (link, *_) = row_links(response)
    change_page = superuser_client.get(link)

    assert change_page.status_code == 200
    assert change_page.context["preserved_filters"] == urlencode({"_changelist_filters": urlencode(query)})
    assert seller.pk == change_page.context["original"].pk


def test_row_links_resolve_no_url(superuser_client, monkeypatch):
    """The point of the subclass: Django's links resolve every row's URL again on a filtered page."""
    from django.contrib.admin.templatetags import admin_urls

    resolved = []
    original = admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda path: resolved.append(path) or original(path))
    monkeypatch.setattr(SellerAdmin, "list_per_page", 2)
    factories.SellerFactory.create_batch(5, status=SellerStatus.ACTIVE)

    response = superuser_client.get(SELLERS, {"status": SellerStatus.ACTIVE, "p": "2"})

    assert len(row_links(response)) == 4
    # (The page's "Add seller" button still resolves its one URL.)
    assert [path for path in resolved if "/change/" in path] == []
