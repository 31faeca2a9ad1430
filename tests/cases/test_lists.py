"""The case list and the reported-listings (item) list: filters, sorting, capped pagination, empty states,
CSV exports of what is filtered, and query counts that do not grow with the rows."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import Case, CaseItem
from cases.services import case_submit
from listings.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db

S = ItemStatus


@pytest.fixture
def client(client: Client, reporter) -> Client:
    client.force_login(reporter)
    return client


@pytest.fixture
def items_url(brand) -> str:
    return reverse("cases:item_list", kwargs={"brand_slug": brand.slug})


@pytest.fixture
def cases_url(brand) -> str:
    return reverse("cases:case_list", kwargs={"brand_slug": brand.slug})


def listed_ids(response) -> list[int]:
    return [row.id for row in response.context["object_list"]]  # model instances (cases) or named tuples (items)


def export(client: Client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def three_items(file_case, moderator, reporter, marketplace):
    """A rejected item with a titled listing of a known seller, an accepted one, and a submitted one."""
    rejected, accepted, submitted = file_case(3).items.order_by("pk")
    seller = factories.SellerFactory(marketplace=marketplace, external_id="SHOP-77", name="Cheap Bags Ltd")
    Listing.objects.filter(pk=rejected.listing_id).update(title="Genuine leather tote", seller=seller)
    Listing.objects.filter(pk=accepted.listing_id).update(title="Silver watch")
    drive_item_to(rejected, S.REJECTED, moderator=moderator, brand_user=reporter)
    drive_item_to(accepted, S.ACCEPTED, moderator=moderator, brand_user=reporter)
    return rejected, accepted, submitted


# --- item list ------------------------------------------------------------------------------------


def test_the_item_list_shows_each_item_with_its_listing_and_next_deadline(client, items_url, three_items):
    rejected, accepted, submitted = three_items
    response = client.get(items_url)
    assert listed_ids(response) == [submitted.pk, accepted.pk, rejected.pk]  # newest first, then by id
    html = response.content.decode()
    assert "Genuine leather tote" in html and "Cheap Bags Ltd (SHOP-77)" in html
    assert "Seller may counter-notify until" in html  # the accepted item's deadline
    assert "Decision due" in html  # the submitted item's SLA
    assert "Showing 3 on this page." in html
    # The rows are read as tuples (no seller joined: no seller's columns), each field escaped.
    assert html.count("Seller not known yet") == 2
    submitted_listing = Listing.objects.get(pk=submitted.listing_id)
    assert f'<a href="{submitted_listing.url}" rel="noopener noreferrer nofollow">' in html
    Listing.objects.filter(pk=submitted.listing_id).update(title="")
    Listing.objects.filter(pk=accepted.listing_id).update(title='<b>"Tote" & bag</b>')
    html = client.get(items_url).content.decode()
    assert "(no title yet)" in html and "&lt;b&gt;&quot;Tote&quot; &amp; bag&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": S.REJECTED}, {"rejected"}),
        ({"status": [S.REJECTED, S.ACCEPTED]}, {"rejected", "accepted"}),
        ({"q": "leather"}, {"rejected"}),
        ({"q": "SILVER WATCH"}, {"accepted"}),
        ({"seller": "SHOP-77"}, {"rejected"}),
        ({"seller": "cheap bags"}, {"rejected"}),
        ({"reason_code": "copyright"}, set()),
        ({"lane": "standard"}, {"rejected", "accepted", "submitted"}),
        ({"lane": "expedited"}, set()),
    ],
)
def test_item_filters(client, items_url, three_items, query, expected):
    rejected, accepted, submitted = three_items
    names = {rejected.pk: "rejected", accepted.pk: "accepted", submitted.pk: "submitted"}
    response = client.get(items_url, query)
    assert response.status_code == 200
    assert {names[pk] for pk in listed_ids(response)} == expected


def test_a_pasted_url_matches_exactly_after_normalising_and_a_star_matches_a_prefix(client, items_url, three_items):
    rejected = three_items[0]
    url = rejected.listing.url  # https://shopnow.example/item/X1
    pasted = url.replace("https://shopnow.example", "HTTP://ShopNow.Example") + "/"
    assert listed_ids(client.get(items_url, {"q": pasted})) == [rejected.pk]
    assert len(listed_ids(client.get(items_url, {"q": "https://shopnow.example/item/X*"}))) == 3


def test_marketplace_and_date_range_filters(client, items_url, three_items):
    other_market = factories.MarketplaceFactory()
    assert len(listed_ids(client.get(items_url, {"marketplace": three_items[0].listing.marketplace_id}))) == 3
    assert listed_ids(client.get(items_url, {"marketplace": other_market.pk})) == []
    today = timezone.localdate()
    assert len(listed_ids(client.get(items_url, {"submitted_from": today, "submitted_to": today}))) == 3
    yesterday = today - timedelta(days=1)
    assert listed_ids(client.get(items_url, {"submitted_to": yesterday})) == []


def test_a_backwards_date_range_is_an_error_and_lists_nothing(client, items_url, three_items):
    today = timezone.localdate()
    response = client.get(items_url, {"submitted_from": today, "submitted_to": today - timedelta(days=3)})
    assert listed_ids(response) == []
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert "Correct the filters above" in html


def test_no_match_shows_an_empty_state_with_a_reset_link(client, items_url, three_items):
    html = client.get(items_url, {"q": "nothing like this"}).content.decode()
    assert "No reported listings match these filters." in html
    assert f'<a href="{items_url}">Reset the filters</a>' in html


def test_a_brand_without_items_is_told_so(client, items_url):
    assert "No reported listings yet" in client.get(items_url).content.decode()


def test_sorting_keeps_filters_and_toggles_direction(client, items_url, three_items):
    rejected, accepted, submitted = three_items
    response = client.get(items_url, {"ordering": "id", "lane": "standard"})
    assert listed_ids(response) == [rejected.pk, accepted.pk, submitted.pk]
    html = response.content.decode()
    assert 'aria-sort="ascending"' in html
    assert "?ordering=-id&amp;lane=standard" in html  # the header toggles and keeps the filter
    assert listed_ids(client.get(items_url, {"ordering": "-id"})) == [submitted.pk, accepted.pk, rejected.pk]


def test_only_the_brands_own_items_are_listed(client, items_url, three_items, other_brand, marketplace):
    outsider = factories.MembershipFactory(brand=other_brand).user
    right = factories.IPRightFactory(brand=other_brand)
    case_submit(
        request=factories.filing_request(
            brand=other_brand,
            actor=outsider,
            explanation="Theirs.",
            rights=[right],
            listing_urls=["https://shopnow.example/item/OTHER1"],
            signed_name="Other Owner",
        )
    )
    assert set(listed_ids(client.get(items_url))) == {item.pk for item in three_items}
    assert listed_ids(client.get(items_url, {"q": "https://shopnow.example/item/OTHER1"})) == []


def link(html: str, rel: str) -> str:
    """The href of the page's `rel` ("next", "prev") pagination link, unescaped."""
    start = html.index(f'rel="{rel}" href="') + len(f'rel="{rel}" href="')
    return html[start : html.index('"', start)].replace("&amp;", "&")


@pytest.mark.parametrize("ordering", [None, "id", "-status", "sla_due"])
def test_keyset_pages_walk_every_row_once_forwards_and_back(client, items_url, file_case, monkeypatch, ordering):
    file_case(4)
    file_case(3)
    monkeypatch.setattr("cases.views.lists.FilteredListView.paginate_by", 2)
    query = {"lane": "standard"} | ({"ordering": ordering} if ordering else {})
    pages = [client.get(items_url, query)]
    while 'rel="next"' in (html := pages[-1].content.decode()):
        assert "lane=standard" in link(html, "next")  # the filters are kept
        pages.append(client.get(items_url + link(html, "next")))
    seen = [pk for page in pages for pk in listed_ids(page)]
    expected = list(client.get(items_url, query | {"ordering": ordering or "-submitted"}).context["items"])
    assert len(pages) == 4 and sorted(seen) == sorted(CaseItem.objects.values_list("pk", flat=True))
    if ordering == "id":
        assert seen == sorted(seen)
    assert seen[:2] == [item.id for item in expected[:2]]
    # Back from the last page, one page at a time, to the first, which has no previous link.
    back = pages[-1]
    for page in reversed(pages[:-1]):
        back = client.get(items_url + link(back.content.decode(), "prev"))
        assert listed_ids(back) == listed_ids(page)
    assert 'rel="prev"' not in back.content.decode()


@pytest.mark.parametrize("cursor", ["garbage!", "W10", "WyJ4IiwibiIsMV0"])
def test_a_bad_cursor_shows_the_first_page_with_a_notice(client, items_url, file_case, cursor):
    file_case(2)
    response = client.get(items_url, {"cursor": cursor})
    assert response.status_code == 200
    assert len(listed_ids(response)) == 2
    assert "That page link is no longer valid" in response.content.decode()


def test_a_cursor_of_another_ordering_is_refused(client, items_url, file_case, monkeypatch):
    file_case(3)
    monkeypatch.setattr("cases.views.lists.FilteredListView.paginate_by", 1)
    cursor = link(client.get(items_url, {"ordering": "id"}).content.decode(), "next").split("cursor=")[1]
    assert "no longer valid" in client.get(items_url, {"cursor": cursor}).content.decode()


def test_the_export_has_exactly_the_filtered_items_with_formulas_escaped(client, brand, three_items):
    rejected = three_items[0]
    Listing.objects.filter(pk=rejected.listing_id).update(title='=HYPERLINK("http://evil")')
    url = reverse("cases:item_export", kwargs={"brand_slug": brand.slug})
    rows = export(client, f"{url}?status=rejected")
    assert rows[0][:4] == ["item", "case", "listing_url", "listing_title"]
    assert len(rows) == 2
    assert rows[1][0] == str(rejected.pk)
    assert rows[1][3] == '\'=HYPERLINK("http://evil")'
    assert rows[1][rows[0].index("seller_id")] == "SHOP-77"
    assert len(export(client, url)) == 4


def test_an_export_with_invalid_filters_goes_back_to_the_list(client, brand):
    url = reverse("cases:item_export", kwargs={"brand_slug": brand.slug})
    response = client.get(url, {"submitted_from": "not a date"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cases:item_list", kwargs={"brand_slug": brand.slug}))


# --- case list ------------------------------------------------------------------------------------


def test_the_case_list_counts_items_per_case(client, cases_url, file_case, moderator, reporter):
    case = file_case(3)
    first, second, _ = case.items.order_by("pk")
    drive_item_to(first, S.CLARIFICATION_REQUESTED, moderator=moderator, brand_user=reporter)
    drive_item_to(second, S.ACCEPTED, moderator=moderator, brand_user=reporter)
    response = client.get(cases_url)
    (listed,) = response.context["cases"]
    assert (listed.item_count, listed.open_count, listed.waiting_count) == (3, 2, 1)
    html = response.content.decode()
    assert f"Case #{case.pk}" in html
    assert '<strong class="attention">1</strong>' in html


def test_case_filters_match_cases_through_their_items(client, cases_url, file_case, marketplace):
    leather = file_case(2)
    watches = file_case(1, reason_code="trademark_title")
    Listing.objects.filter(pk=leather.items.first().listing_id).update(title="Leather belt")
    assert [c.pk for c in client.get(cases_url, {"q": "belt"}).context["cases"]] == [leather.pk]
    assert [c.pk for c in client.get(cases_url, {"reason_code": "trademark_title"}).context["cases"]] == [watches.pk]
    # Two matching items, one row: the item filter is an EXISTS, not a join.
    both = client.get(cases_url, {"marketplace": marketplace.pk}).context["cases"]
    assert sorted(c.pk for c in both) == sorted([leather.pk, watches.pk])


def test_the_case_export_streams_the_filtered_cases(client, brand, file_case):
    case = file_case(2)
    file_case(1, reason_code="trademark_title")
    url = reverse("cases:case_export", kwargs={"brand_slug": brand.slug})
    rows = export(client, f"{url}?reason_code=counterfeit")
    assert rows[0] == ["case", "submitted_at", "status", "reason_code", "lane", "channel", "items", "open_items",
                       "waiting_for_brand"]  # fmt: skip
    assert [row[0] for row in rows[1:]] == [str(case.pk)]
    assert rows[1][6:] == ["2", "2", "0"]


# --- query counts ---------------------------------------------------------------------------------


def page_queries(client: Client, url: str, django_assert_max_num_queries, limit: int) -> int:
    """GET `url` once to warm per-process caches (content types), then again counting its queries."""
    client.get(url)
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


#: Session, user, brand, membership, brand switcher, marketplaces of the filter form, and the page rows
#: (keyset: no count; no session save on a read). tests/query_counts.json pins the exact figures.
LIST_QUERIES = 7


@pytest.mark.parametrize("url_name", ["cases:item_list", "cases:case_list"])
def test_list_queries_do_not_grow_with_rows(client, brand, file_case, url_name, django_assert_max_num_queries):
    url = reverse(url_name, kwargs={"brand_slug": brand.slug}) + "?lane=standard&q=bag&seller=S"
    seller = factories.SellerFactory(external_id="S")
    for _ in range(5):
        file_case(1)
    Listing.objects.update(title="Bag", seller=seller)
    few = page_queries(client, url, django_assert_max_num_queries, LIST_QUERIES)
    for _ in range(5):
        file_case(9)
    Listing.objects.update(title="Bag", seller=seller)
    assert CaseItem.objects.count() == 50 and Case.objects.count() == 10
    many = page_queries(client, url, django_assert_max_num_queries, LIST_QUERIES)
    assert few == many


def test_rows_rendered_in_python_escape_what_the_marketplace_sent(client, items_url, cases_url, file_case):
    item = file_case(1).items.get()
    Listing.objects.filter(pk=item.listing_id).update(title='<script>alert("x")</script>')
    seller = factories.SellerFactory(name="A&B <Shop>", external_id='"quoted"')
    Listing.objects.filter(pk=item.listing_id).update(seller=seller)
    html = client.get(items_url).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "A&amp;B &lt;Shop&gt; (&quot;quoted&quot;)" in html
    assert f'href="/b/{item.brand.slug}/cases/{item.case_id}/#item-{item.pk}"' in html
    assert (
        f'<a href="/b/{item.brand.slug}/cases/{item.case_id}/">Case #{item.case_id}</a>'
        in client.get(cases_url).content.decode()
    )


def test_the_filter_form_is_cached_per_filters_and_follows_new_marketplaces(client, items_url, file_case, marketplace):
    file_case(1)
    client.get(items_url)  # renders and caches the unfiltered form
    factories.MarketplaceFactory(name="Brand-new bazaar")
    assert "Brand-new bazaar" in client.get(items_url).content.decode()  # a new marketplace bumps the version
    chosen = client.get(items_url, {"marketplace": marketplace.pk, "lane": "standard"}).content.decode()
    assert f'<option value="{marketplace.pk}" selected>' in chosen
    again = client.get(items_url, {"lane": "standard", "marketplace": marketplace.pk}).content.decode()
    assert f'<option value="{marketplace.pk}" selected>' in again  # same filters in another order: same entry
    assert f'<option value="{marketplace.pk}" selected>' not in client.get(items_url).content.decode()
    errors = client.get(items_url, {"submitted_from": "not a date"}).content.decode()
    assert "Enter a valid date." in errors


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    "moment",
    [
        "2026-01-05T03:04:00+00:00",
        "2026-07-31T23:59:59+00:00",
        "2026-03-29T01:30:00+00:00",
        "2026-12-15T12:00:00+05:00",
    ],
)
def test_datetime_text_writes_what_djangos_formatter_writes(zone, moment):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils.formats import date_format

    from cases.templatetags.cases_extras import datetime_text

    value = datetime.fromisoformat(moment)
    with timezone.override(ZoneInfo(zone)):
        assert datetime_text(value) == date_format(timezone.localtime(value), "DATETIME_FORMAT")


def test_datetime_text_leaves_other_formats_to_django(monkeypatch):
    from django.utils.formats import date_format

    from cases.templatetags import cases_extras

    monkeypatch.setattr(cases_extras, "get_format", lambda name: "d/m/Y H:i")
    monkeypatch.setattr(cases_extras, "date_format", lambda value, name: f"django:{date_format(value, 'd/m/Y')}")
    assert cases_extras.datetime_text(timezone.now()).startswith("django:")


def test_a_page_past_the_end_links_back_to_the_first(client, items_url, file_case, moderator, reporter, monkeypatch):
    newest = file_case(2).items.order_by("pk").last()
    drive_item_to(newest, S.REJECTED, moderator=moderator, brand_user=reporter)
    monkeypatch.setattr("cases.views.lists.FilteredListView.paginate_by", 1)
    after_newest = link(client.get(items_url, {"ordering": "-id"}).content.decode(), "next").split("cursor=")[1]
    # Only the newest item is rejected: after it, with that filter, nothing is left.
    response = client.get(items_url, {"ordering": "-id", "status": "rejected", "cursor": after_newest})
    assert listed_ids(response) == []
    assert 'No more reported listings here. <a href="?ordering=-id&amp;status=rejected">' in response.content.decode()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_rows_moments_read_as_the_template_filters_write_them(zone, language):
    """The rows' moments (cases_extras.PageMoments, clock, zone and format read once per page) are the text
    and markup of the `time_left` filter and of Django's `date` filter with DATETIME_FORMAT, which format_html
    wrote before: same escaping, past and future, in any zone and language."""
    from django.template import Context, Template
    from django.utils import translation
    from django.utils.formats import date_format
    from django.utils.html import format_html

    from cases.templatetags.cases_extras import PageMoments, time_left, time_left_text

    def format_html_time_left(due, now):  # the filter as it was written before PageMoments
        text, absolute = time_left_text(due, now), date_format(timezone.localtime(due), "DATETIME_FORMAT")
        if due < now:
            return format_html(
                '<time datetime="{}">{}</time> <span class="time-left overdue">({}, overdue)</span>',
                due.isoformat(),
                absolute,
                text,
            )
        return format_html(
            '<time datetime="{}">{}</time> <span class="time-left">({})</span>', due.isoformat(), absolute, text
        )

    template = Template('{% load cases_extras %}{{ due|time_left }}|{{ due|date:"DATETIME_FORMAT" }}')
    with timezone.override(zone), translation.override(language):
        moments = PageMoments()
        for due in (
            moments.now + timedelta(days=3, hours=5, minutes=30),
            moments.now - timedelta(hours=2, minutes=10, seconds=30),
            moments.now + timedelta(days=200, seconds=30),
            moments.now.replace(month=1, day=5) - timedelta(days=400, seconds=30),
        ):
            assert moments.time_left(due) == format_html_time_left(due, moments.now)
            assert f"{moments.time_left(due)}|{moments.text(due)}" == template.render(Context({"due": due}))
            assert str(time_left(due)) == moments.time_left(due)
