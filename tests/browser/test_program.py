"""An owner applies to the MarketSafe program, answers the association's request for information and
resubmits; the association approves; the brand sees its membership and the expedited lane. The brand's
side in a real browser; the association's decisions through its services (the admin pages have their own
tests). The live server runs in this process, so the e-mails sent on commit are in the outbox."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from brands.choices import ApplicationStatus, Role
from brands.models import ProgramApplication
from brands.services import applications
from tests import factories

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.django_db(transaction=True)
def test_an_owner_applies_answers_a_request_and_becomes_a_member(login, live_server, tmp_path):
    acme = factories.BrandFactory(name="Acme Leather", slug="acme", legal_name="Acme Leather Ltd")
    ada = factories.UserFactory(username="ada", email="ada@acme.example", first_name="Ada", last_name="Lovelace")
    factories.MembershipFactory(brand=acme, user=ada, role=Role.OWNER)
    right = factories.IPRightFactory(brand=acme, name="ACME")
    reviewer = factories.UserFactory(username="rosa", is_staff=True)
    certificate = tmp_path / "membership.pdf"
    certificate.write_bytes(PDF)

    page = login("ada")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="MarketSafe program").click()
    expect(page.get_by_text("Acme Leather has not applied yet.")).to_be_visible()
    page.get_by_role("link", name="Apply to the program").click()

    expect(page.get_by_label("Company name")).to_have_value("Acme Leather Ltd")
    page.get_by_label("Association membership number (optional)").fill("IACC-7")
    page.get_by_label("Contact e-mail address").fill("brand-protection@acme.example")
    page.get_by_label("Your enforcement practice").fill("We check every listing with a test purchase.")
    page.get_by_role("checkbox", name=re.compile(r"ACME \(EUIPO")).check()
    page.get_by_label("Supporting document (optional)").set_input_files(str(certificate))
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Your draft was saved")

    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_role("alert")).to_contain_text("Confirm the attestation to submit the application.")
    page.get_by_label(re.compile("^I attest")).check()
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator(".messages")).to_contain_text("Your application was submitted")
    expect(page.get_by_role("link", name="membership.pdf")).to_be_visible()
    application = ProgramApplication.objects.get(brand=acme)
    assert application.status == ApplicationStatus.SUBMITTED
    assert list(application.rights.all()) == [right]

    applications.application_start_review(application_id=application.pk, actor=reviewer)
    applications.application_request_info(
        application_id=application.pk, actor=reviewer, message="Which lab runs your test purchases?"
    )
    [asked] = mail.outbox
    assert sorted(asked.to) == ["ada@acme.example", "brand-protection@acme.example"]

    page.reload()
    request = page.locator("li", has_text="The association asked")
    expect(request).to_contain_text("Which lab runs your test purchases?")
    expect(request).to_contain_text("Waiting for your answer")
    page.get_by_role("link", name="Answer and resubmit").click()
    page.get_by_label(re.compile("^I attest")).check()
    page.get_by_role("button", name="Resubmit application").click()
    expect(page.get_by_role("alert")).to_contain_text("Answer the association's request before resubmitting.")
    page.get_by_label("Your answer to the association's request").fill("Our own lab in Milan.")
    page.get_by_label(re.compile("^I attest")).check()
    page.get_by_role("button", name="Resubmit application").click()
    expect(page.locator(".messages")).to_contain_text("Your application was submitted")
    expect(page.locator("li", has_text="The association asked")).to_contain_text("answered")
    expect(page.locator("li", has_text="The association asked")).to_contain_text("Our own lab in Milan.")

    applications.application_approve(application_id=application.pk, actor=reviewer, reason="Welcome aboard.")
    page.reload()
    expect(page.locator("p", has_text="The association's reason:")).to_contain_text("Welcome aboard.")
    expect(page.locator(".lead")).to_contain_text("expedited lane")
    expect(page.get_by_role("link", name="Apply to renew")).to_be_visible()
    assert mail.outbox[-1].subject == "MarketSafe: your application is approved"


@pytest.mark.django_db(transaction=True)
def test_a_reporter_sees_the_program_but_cannot_apply(login, live_server):
    acme = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=acme, user=factories.UserFactory(username="rita"), role=Role.REPORTER)
    page = login("rita")
    page.goto(f"{live_server.url}/b/acme/program/")
    expect(page.get_by_text("Only the brand's owners apply")).to_be_visible()
    expect(page.get_by_role("link", name="Apply to the program")).to_have_count(0)
