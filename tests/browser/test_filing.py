"""Filing a case in a real browser: pasted URLs, a CSV with bad rows fixed after the preview, and a
large filing whose progress bar htmx polls while a real Celery worker checks and files it."""

import re

import pytest
from playwright.sync_api import expect

from brands.choices import Role
from cases.models import Case, Declaration
from tests import factories
from tests.workers import running_worker

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def acme(live_server):
    brand = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=brand, user=factories.UserFactory(username="rita"), role=Role.REPORTER)
    factories.IPRightFactory(brand=brand, name="ACME", office="EUIPO", registration_number="018000001")
    factories.MarketplaceFactory(name="ShopNow", slug="shopnow", hosts=["shopnow.example"])
    return brand


@pytest.fixture
def console_errors(page):
    """Console errors of the page (a CSP violation would show here); the missing favicon is not ours."""
    errors: list[str] = []

    def record(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", record)
    return errors


def fill_case(page, *, urls: str = ""):
    page.get_by_label("ACME (EUIPO 018000001)").check()
    page.get_by_label("Reason").select_option("counterfeit")
    page.get_by_label("Explanation").fill("Counterfeit straps with our logo, a tenth of the retail price.")
    page.get_by_label("Evidence files").set_input_files(
        files=[{"name": "proof.png", "mimeType": "image/png", "buffer": PNG}]
    )
    if urls:
        page.get_by_label("Listing URLs").fill(urls)
    page.get_by_label(re.compile("good-faith belief")).check()
    page.get_by_label(re.compile("accurate and complete")).check()
    page.get_by_label(re.compile("authorised to act")).check()
    page.get_by_label("Your full name, as your signature").fill("Rita Reporter")


@pytest.mark.django_db(transaction=True)
def test_file_a_case_by_pasting_urls(login, live_server, acme, console_errors):
    factories.ProgramMembershipFactory(brand=acme)  # the expedited lane: evidence optional for some reasons
    page = login("rita")
    page.get_by_role("link", name="File a case").click()
    expect(page.get_by_role("heading", name="File a case")).to_be_visible()
    hint = page.locator("#evidence-hint")
    expect(hint).to_contain_text("Evidence is optional for some reasons in the Expedited (MarketSafe) lane")
    page.get_by_label("Reason").select_option("patent")
    expect(hint).to_have_text("Evidence is required for this reason in the Expedited (MarketSafe) lane.")
    page.get_by_label("Reason").select_option("counterfeit")
    expect(hint).to_have_text("Evidence is optional for this reason in the Expedited (MarketSafe) lane.")
    fill_case(page, urls="https://shopnow.example/item/A1\n\nhttps://shopnow.example/item/A2\n")
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#preview-counts")).to_contain_text("2 of 2 listings can be filed")
    assert not Case.objects.exists()
    page.get_by_role("button", name="File 2 listings").click()

    case = Case.objects.get()
    expect(page).to_have_url(f"{live_server.url}/b/acme/cases/{case.pk}/")
    expect(page.get_by_role("link", name="https://shopnow.example/item/A1")).to_be_visible()
    expect(page.get_by_role("link", name="https://shopnow.example/item/A2")).to_be_visible()
    assert sorted(case.items.values_list("listing__url", flat=True)) == [
        "https://shopnow.example/item/A1",
        "https://shopnow.example/item/A2",
    ]
    assert set(Declaration.objects.filter(case=case).values_list("signed_name", "ip_address")) == {
        ("Rita Reporter", "127.0.0.1")
    }
    assert console_errors == []


@pytest.mark.django_db(transaction=True)
def test_upload_a_csv_read_the_row_errors_fix_and_file(login, live_server, acme, tmp_path):
    bad = tmp_path / "listings.csv"
    bad.write_text(
        "url,note\r\n"
        "https://shopnow.example/item/B1,Fake strap\r\n"
        "shopnow.example/item/B2,\r\n"
        "https://elsewhere.example/item/B3,\r\n"
        "https://shopnow.example/item/B1/,again\r\n"
        "https://shopnow.example/item/B4,=SUM(A1:A2)\r\n"
    )
    page = login("rita")
    page.goto(f"{live_server.url}/b/acme/cases/new/")
    fill_case(page)
    page.get_by_label("Or a CSV file").set_input_files(bad)
    page.get_by_role("button", name="Preview").click()

    problems = page.get_by_role("table", name="Rows with problems")
    expect(problems.get_by_role("row", name=re.compile(r"^3 "))).to_contain_text("Not a listing URL")
    expect(problems.get_by_role("row", name=re.compile(r"^4 "))).to_contain_text(
        "no marketplace in the portal hosts elsewhere.example"
    )
    expect(problems.get_by_role("row", name=re.compile(r"^5 "))).to_contain_text("Duplicate of row 2.")
    expect(problems.get_by_role("row", name=re.compile(r"^6 "))).to_contain_text("kept as text and never evaluated")
    expect(page.locator("#preview-counts")).to_contain_text("2 of 5 listings can be filed")

    page.get_by_role("link", name="Back to the form to fix").click()
    expect(page.get_by_label("Explanation")).to_have_value(
        "Counterfeit straps with our logo, a tenth of the retail price."
    )
    expect(page.get_by_text("Kept from your preview: proof.png")).to_be_visible()
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        "url,note\r\nhttps://shopnow.example/item/B1,Fake strap\r\nhttps://shopnow.example/item/B2,\r\n"
        "https://shopnow.example/item/B4,=SUM(A1:A2)\r\n"
    )
    page.get_by_label("Or a CSV file").set_input_files(fixed)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-counts")).to_contain_text("3 of 3 listings can be filed")
    page.get_by_role("button", name="File 3 listings").click()

    case = Case.objects.get()
    expect(page).to_have_url(f"{live_server.url}/b/acme/cases/{case.pk}/")
    assert sorted(case.items.values_list("listing__url", "brand_note")) == [
        ("https://shopnow.example/item/B1", "Fake strap"),
        ("https://shopnow.example/item/B2", ""),
        ("https://shopnow.example/item/B4", "=SUM(A1:A2)"),
    ]
    assert case.evidence.count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_large_filing_shows_a_live_progress_bar(login, live_server, acme, settings, console_errors):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 5}
    page = login("rita")
    page.goto(f"{live_server.url}/b/acme/cases/new/")
    fill_case(page, urls="\n".join(f"https://shopnow.example/item/C{n}" for n in range(40)))
    # Requests, not navigations: when the worker wins the race, the progress page redirects at once and the
    # browser never settles on it, but it still requested it.
    visited: list[str] = []
    page.on("request", lambda request: request.is_navigation_request() and visited.append(request.url))
    with running_worker():
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#preview-counts")).to_contain_text("40 of 40 listings can be filed", timeout=20_000)
        page.get_by_role("button", name="File 40 listings").click()
        expect(page).to_have_url(re.compile(r"/b/acme/cases/\d+/$"), timeout=20_000)
    assert Case.objects.get().items.count() == 40
    # Both steps went through the progress page, whose htmx polling then moved on by itself.
    assert sum(url.endswith("/progress/") for url in visited) == 2
    assert console_errors == []
