"""Logging in and switching between brands, in a real browser."""

import pytest
from playwright.sync_api import expect

from brands.choices import Role
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_agent_logs_in_and_switches_brand(login, live_server):
    acme = factories.BrandFactory(name="Acme Leather", slug="acme")
    globex = factories.BrandFactory(name="Globex Watches", slug="globex")
    agent = factories.UserFactory(username="agent")
    factories.MembershipFactory(brand=acme, user=agent, role=Role.REPORTER)
    factories.MembershipFactory(brand=globex, user=agent, role=Role.REPORTER)

    page = login("agent")
    expect(page.get_by_role("heading", name="Your brands")).to_be_visible()
    page.get_by_role("link", name="Acme Leather").click()
    expect(page.locator(".current-brand")).to_have_text("Acme Leather")

    page.get_by_text("Switch brand").click()
    page.get_by_role("link", name="Globex Watches").click()
    expect(page.locator(".current-brand")).to_have_text("Globex Watches")
    expect(page).to_have_url(f"{live_server.url}/b/globex/")


@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_an_error(login):
    factories.UserFactory(username="rita")
    page = login("rita", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")
