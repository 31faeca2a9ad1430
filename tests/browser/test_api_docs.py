"""The API's docs page in a real browser: Swagger UI from static files under the portal's CSP, and a
signed-in member trying a request with their session; the token pages."""

import pytest
from playwright.sync_api import expect

from brands.choices import Role
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_docs_run_under_the_csp_and_try_requests_with_the_session(login, live_server):
    brand = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=brand, user=factories.UserFactory(username="rita"), role=Role.REPORTER)
    page = login("rita")
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_role("heading", name="MarketSafe API")).to_be_visible()
    operation = page.locator("#operations-cases-cases_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    assert violations == []


@pytest.mark.django_db(transaction=True)
def test_a_member_creates_and_revokes_a_token(login, live_server):
    brand = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=brand, user=factories.UserFactory(username="rita"), role=Role.REPORTER)
    page = login("rita")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    page.get_by_role("link", name="Create a token").first.click()
    page.get_by_label("Name").fill("Nightly import")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token “Nightly import” created")).to_be_visible()
    assert page.get_by_label("Your token").input_value().startswith("ms_")
    page.get_by_role("link", name="Done").click()
    page.get_by_role("button", name="Revoke the token Nightly import").click()
    expect(page.get_by_text("revoked: it no longer works")).to_be_visible()
