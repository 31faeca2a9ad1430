"""An owner invites a colleague who joins through the e-mailed link, and an owner adds a right with its
certificate, in a real browser. The live server runs in this process, so the sent e-mail is in the outbox."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from brands.choices import Role
from brands.models import BrandMembership, IPRight
from core.accounts.models import User
from tests import factories

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.django_db(transaction=True)
def test_owner_invites_a_colleague_who_joins_through_the_e_mailed_link(login, live_server):
    acme = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=acme, user=factories.UserFactory(username="ada"), role=Role.OWNER)

    page = login("ada")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Invite a member").click()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the e-mail address.")

    page.get_by_label("E-mail address").fill("rita@example.test")
    page.get_by_label("Reporter: ").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to rita@example.test as reporter")
    expect(page.get_by_role("cell", name="rita@example.test", exact=True)).to_be_visible()

    [message] = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", message.body)[0]
    page.get_by_role("button", name="Log out").click()

    page.goto(link)
    expect(page.get_by_role("heading", name="Join Acme Leather on MarketSafe")).to_be_visible()
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password", exact=True).fill("a long unguessable phrase")
    page.get_by_label("Password again").fill("a long unguessable phrase")
    page.get_by_role("button", name="Create account and join").click()

    expect(page.locator(".messages")).to_contain_text("Welcome to Acme Leather: you are reporter of this brand.")
    expect(page.locator(".current-brand")).to_have_text("Acme Leather")
    rita = User.objects.get(username="rita")
    assert BrandMembership.objects.get(user=rita, brand=acme).role == Role.REPORTER

    page.goto(link)
    expect(page.get_by_role("heading", name="This invitation has already been used")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_owner_adds_a_right_with_its_certificate(login, live_server, tmp_path):
    acme = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=acme, user=factories.UserFactory(username="ada"), role=Role.OWNER)
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(PDF)

    page = login("ada")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="IP rights").click()
    expect(page.get_by_role("heading", name="No IP rights yet")).to_be_visible()
    page.get_by_role("link", name="Add your first right").click()

    page.get_by_label("Kind of right").select_option("trademark")
    page.get_by_label("Name", exact=True).fill("ACME")
    page.get_by_label("Registration number").fill("018000001")
    page.get_by_label("Office or jurisdiction").fill("EUIPO")
    page.get_by_label("Registered owner").fill("Acme Leather Ltd")
    page.get_by_label("Nice classes").fill("18, 25")
    page.get_by_label("Valid from").fill("2020-01-01")
    page.get_by_label("Valid until").fill("2030-01-01")
    page.get_by_label("Registration certificate").set_input_files(str(certificate))
    page.get_by_role("button", name="Add right").click()

    expect(page.get_by_role("heading", name=re.compile("^ACME"))).to_be_visible()
    expect(page.locator(".notice-blocked")).to_contain_text("Cannot be used in a new case")
    expect(page.get_by_role("link", name="certificate.pdf")).to_be_visible()
    right = IPRight.objects.get(brand=acme)
    assert right.status == "pending"
    assert right.documents.get().sha256

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="IP rights").click()
    expect(page.get_by_role("row", name=re.compile("ACME.*Pending verification"))).to_be_visible()
