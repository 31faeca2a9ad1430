"""Parsing and checking the listing rows of a filing (cases.importing), before anything is saved."""

import codecs

import pytest
from django.core.exceptions import ValidationError

from cases import importing
from cases.importing import PreviewRow, parse_csv, parse_pasted, preview_rows
from cases.services import item_withdraw
from listings.models import Listing
from tests import factories


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    data = "\r\n".join(lines).encode()
    return codecs.BOM_UTF8 + data if bom else data


def problem(exc_info: pytest.ExceptionInfo) -> str:
    return " ".join(exc_info.value.messages)


# --- pasted text ----------------------------------------------------------------------------------


def test_pasted_lines_are_numbered_like_the_textarea_and_blank_lines_are_skipped():
    rows = parse_pasted("  https://shopnow.example/item/1  \n\n   \nhttps://shopnow.example/item/2\n")
    assert [(row.number, row.raw) for row in rows] == [
        (1, "https://shopnow.example/item/1"),
        (4, "https://shopnow.example/item/2"),
    ]
    assert all(row.status == "ok" for row in rows)


def test_pasted_text_needs_a_url():
    with pytest.raises(ValidationError, match="at least one listing URL"):
        parse_pasted("\n  \n")


def test_pasted_text_holds_at_most_a_case_of_listings(settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "MAX_ITEMS_PER_CASE": 3}
    with pytest.raises(ValidationError, match="more than 3 listings") as exc_info:
        parse_pasted("\n".join(f"https://shopnow.example/item/{n}" for n in range(4)))
    assert exc_info.value.code == "too_many_rows"


@pytest.mark.django_db
def test_a_pasted_line_that_starts_like_a_formula_is_flagged_and_refused(brand):
    (row,) = preview_rows(brand=brand, rows=parse_pasted('=HYPERLINK("https://evil.example")')).rows
    assert row.raw == '=HYPERLINK("https://evil.example")'
    assert row.status == "error"
    assert any("starts with “=”" in w and "never evaluated" in w for w in row.warnings)


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_rows_are_numbered_like_the_spreadsheet_with_the_header_as_row_1():
    rows = parse_csv(
        csv_bytes("url,note", "https://shopnow.example/item/1,Fake logo", ",", "https://shopnow.example/item/2"),
        name="list.csv",
    )
    assert [(row.number, row.raw, row.note) for row in rows] == [
        (2, "https://shopnow.example/item/1", "Fake logo"),
        (3, "", ""),  # the blank row, said to be skipped (issue 14.7)
        (4, "https://shopnow.example/item/2", ""),
    ]


def test_csv_with_a_byte_order_mark_any_column_order_and_extra_columns():
    rows = parse_csv(
        csv_bytes("Price, NOTE ,URL", "12,Copied photos,https://shopnow.example/item/1", bom=True), name="list.csv"
    )
    assert [(row.raw, row.note, row.status) for row in rows] == [
        ("https://shopnow.example/item/1", "Copied photos", "ok")
    ]


def test_csv_quoted_cells_keep_their_commas_and_line_breaks():
    rows = parse_csv(csv_bytes("url,note", '"https://shopnow.example/item/1","Logo, strap\nand box"'), name="list.csv")
    assert rows[0].note == "Logo, strap\nand box"


def test_csv_needs_its_header():
    with pytest.raises(ValidationError) as exc_info:
        parse_csv(csv_bytes("https://shopnow.example/item/1,note"), name="list.csv")
    assert "Row 1 of list.csv must be the header “url,note”" in problem(exc_info)


def test_csv_with_only_a_header_has_nothing_to_file():
    with pytest.raises(ValidationError, match=r"list\.csv has no listing rows"):
        parse_csv(csv_bytes("url,note", ""), name="list.csv")


def test_csv_in_another_encoding_names_the_row_of_the_first_bad_byte():
    data = "url,note\r\nhttps://shopnow.example/item/1,ok\r\nhttps://shopnow.example/item/2,Sac contrefait été\r\n"
    with pytest.raises(ValidationError) as exc_info:
        parse_csv(data.encode("latin-1"), name="list.csv")
    assert exc_info.value.code == "encoding"
    assert "list.csv is not UTF-8 (row 3, byte" in problem(exc_info)
    assert "CSV UTF-8" in problem(exc_info)


def test_csv_saved_as_utf16_is_named_as_such():
    data = codecs.BOM_UTF16_LE + "url\r\nhttps://shopnow.example/item/1\r\n".encode("utf-16-le")
    with pytest.raises(ValidationError, match=r"list\.csv is UTF-16 text, not UTF-8"):
        parse_csv(data, name="list.csv")


def test_malformed_csv_names_the_row():
    with pytest.raises(ValidationError) as exc_info:
        parse_csv(csv_bytes("url,note", "https://shopnow.example/item/1,ok", '"https://x"y,bad'), name="list.csv")
    assert exc_info.value.code == "malformed"
    assert problem(exc_info).startswith("Row 3 of list.csv is not valid CSV")


def test_an_unclosed_quote_names_the_row_it_opens():
    with pytest.raises(ValidationError, match=r"Row 2 of list\.csv is not valid CSV"):
        parse_csv(csv_bytes("url,note", '"https://shopnow.example/item/1,never closed', "next,row"), name="list.csv")


def test_csv_rows_beyond_a_case_are_refused_without_reading_on(settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "MAX_ITEMS_PER_CASE": 2}
    lines = ["url", *(f"https://shopnow.example/item/{n}" for n in range(3)), '"unclosed']
    with pytest.raises(ValidationError, match="more than 2 listings"):
        parse_csv(csv_bytes(*lines), name="list.csv")


def test_a_thousand_rows_are_accepted():
    lines = ["url", *(f"https://shopnow.example/item/{n}" for n in range(1000))]
    assert len(parse_csv(csv_bytes(*lines), name="list.csv")) == 1000


def test_a_row_with_more_cells_than_the_header_is_an_error_of_that_row():
    rows = parse_csv(csv_bytes("url,note", "https://shopnow.example/item/1,a,b", "https://x.example/2,"), name="l.csv")
    assert rows[0].errors == ["The row has 3 cells but the header 2; check its commas."]
    assert rows[1].status == "ok"


def test_a_row_without_url_and_an_overlong_note_are_errors_of_their_rows():
    rows = parse_csv(csv_bytes("url,note", ",orphan note", f"https://x.example/1,{'n' * 2001}"), name="l.csv")
    assert rows[0].errors == ["No listing URL in this row."]
    assert rows[1].errors == ["The note has 2,001 characters; the limit is 2,000."]


@pytest.mark.parametrize("cell", ["=1+2", "+44 20 7946 0000", "-2", "@SUM(A1:A9)"])
def test_cells_that_start_like_formulas_are_kept_as_text_with_a_warning(cell):
    (row,) = parse_csv(csv_bytes("url,note", f"https://shopnow.example/item/1,{cell}"), name="l.csv")
    assert row.note == cell
    assert row.status == "warning"
    assert row.warnings == [f"The note starts with “{cell[0]}”: it is kept as text and never evaluated as a formula."]


# --- checks against the database ------------------------------------------------------------------


def rows(*urls: str) -> list[PreviewRow]:
    return parse_pasted("\n".join(urls))


@pytest.mark.django_db
def test_each_row_is_resolved_to_its_canonical_url_and_marketplace(brand, marketplace):
    preview = preview_rows(
        brand=brand, rows=rows("HTTP://www.ShopNow.example/item/1/", "https://shopnow.example/item/2?b=1&utm_source=x")
    )
    assert [(row.url, row.marketplace, row.status) for row in preview.rows] == [
        ("https://www.shopnow.example/item/1", "ShopNow", "ok"),
        ("https://shopnow.example/item/2?b=1", "ShopNow", "ok"),
    ]


@pytest.mark.django_db
def test_bad_urls_and_unknown_marketplaces_are_errors_of_their_rows(brand, marketplace):
    factories.MarketplaceFactory(slug="closed", hosts=["closed.example"], is_active=False)
    preview = preview_rows(
        brand=brand,
        rows=rows(
            "shopnow.example/item/1",
            "ftp://shopnow.example/1",
            "https://elsewhere.example/1",
            "https://closed.example/1",
        ),
    )
    assert [row.errors for row in preview.rows] == [
        ["Not a listing URL: it must start with http:// or https:// and name a host."],
        ["Not a listing URL: it must start with http:// or https:// and name a host."],
        ["Unknown marketplace: no marketplace in the portal hosts elsewhere.example."],
        ["Unknown marketplace: no marketplace in the portal hosts closed.example."],
    ]
    assert preview.valid == []
    assert preview.invalid_count == 4


@pytest.mark.django_db
def test_a_look_alike_host_is_shown_in_punycode_so_the_difference_shows(brand, marketplace):
    # "shopnow.example" with a Cyrillic "o" (U+043E): it reads as ShopNow's host, but is not.
    preview = preview_rows(brand=brand, rows=rows("https://shopn\u043ew.example/item/1"))
    assert preview.rows[0].errors == [
        "Unknown marketplace: no marketplace in the portal hosts xn--shopnw-0qf.example (shown as "
        "shopn\u043ew.example, but written with look-alike letters that are not plain Latin ones)."
    ]


@pytest.mark.django_db
def test_later_occurrences_of_the_same_listing_are_duplicates_of_the_first(brand, marketplace):
    preview = preview_rows(
        brand=brand,
        rows=rows(
            "https://shopnow.example/item/1",
            "https://shopnow.example/item/2",
            "http://SHOPNOW.example/item/1/",
            "https://shopnow.example/item/1#reviews",
        ),
    )
    assert [row.errors for row in preview.rows] == [[], [], ["Duplicate of row 1."], ["Duplicate of row 1."]]
    assert [row.number for row in preview.valid] == [1, 2]


@pytest.mark.django_db
def test_listings_already_in_an_open_case_of_the_brand_are_refused(brand, marketplace, file_case, other_brand):
    case = file_case(1)
    open_url = case.items.get().listing.url
    withdrawn = file_case(1).items.get()
    item_withdraw(item_id=withdrawn.pk, actor=case.filed_by)
    other = factories.IPRightFactory(brand=other_brand)
    file_case(1, brand=other_brand, rights=[other], actor=factories.MembershipFactory(brand=other_brand).user)
    other_url = Listing.objects.exclude(url__in=[open_url, withdrawn.listing.url]).get().url

    preview = preview_rows(brand=brand, rows=rows(open_url, withdrawn.listing.url, other_url))
    assert [row.errors for row in preview.rows] == [[f"Already reported in your open case #{case.pk}."], [], []]


@pytest.mark.django_db
def test_checking_costs_the_same_queries_for_ten_rows_and_a_thousand(
    brand, marketplace, file_case, django_assert_num_queries
):
    file_case(5)
    for count in (10, 1000):
        listing_rows = rows(*(f"https://shopnow.example/item/N{n}" for n in range(count)))
        with django_assert_num_queries(2):  # the active marketplaces, the brand's open items among the URLs
            preview = preview_rows(brand=brand, rows=listing_rows)
        assert len(preview.valid) == count


@pytest.mark.django_db
def test_a_checker_finds_duplicates_across_the_chunks_it_is_given(brand, marketplace):
    checker = importing.RowChecker(brand=brand)
    first, second = rows("https://shopnow.example/item/1"), rows("https://shopnow.example/item/1/")
    second[0].number = 300
    checker.check(first)
    checker.check(second)
    assert second[0].errors == ["Duplicate of row 1."]


def test_a_preview_survives_its_json_round_trip():
    preview = importing.Preview(rows=parse_csv(csv_bytes("url,note", "https://x.example/1,=cmd", ",x"), name="l.csv"))
    again = importing.Preview.from_json(preview.to_json())
    assert again == preview
    assert (again.warning_count, again.invalid_count, len(again.problems)) == (1, 1, 2)


def test_a_header_error_shows_control_characters_escaped_not_raw():
    """Issue 14.7: a NUL byte from the file is never echoed into the page."""
    with pytest.raises(ValidationError) as exc_info:
        parse_csv(csv_bytes("link\x00,no\x07te", "https://shopnow.example/item/1"), name="list.csv")
    message = problem(exc_info)
    assert "\x00" not in message and "\x07" not in message
    assert "it reads “link\\x00,no\\x07te”" in message


def test_a_blank_row_between_listings_is_reported_as_skipped():
    rows = parse_csv(
        csv_bytes("url,note", "https://shopnow.example/item/1", ",", "https://shopnow.example/item/2", "", ""),
        name="list.csv",
    )
    assert [(row.number, row.raw, row.errors) for row in rows] == [
        (2, "https://shopnow.example/item/1", []),
        (3, "", ["Blank row: skipped."]),
        (4, "https://shopnow.example/item/2", []),
    ]
