"""Accounts: logging in, resetting a forgotten password by e-mail, changing the password; and the rules
every portal page follows (CSRF tokens in forms, no inline scripts or styles, which the CSP would block)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from brands.choices import Role
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def test_login_page_offers_the_password_reset(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page
    assert "Forgot your password?" in page


def test_login_errors_are_shown(client):
    factories.UserFactory(username="rita")
    response = client.post(reverse("login"), {"username": "rita", "password": "wrong"})
    assert "enter a correct username and password" in response.content.decode()
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert response.content.decode().count("This field is required.") == 2


def reset_link() -> str:
    [message] = mail.outbox
    return re.search(r"http://testserver(/accounts/password/reset/\S+/\S+/)", message.body)[1]


def test_a_forgotten_password_is_reset_through_the_e_mailed_link(client, django_capture_on_commit_callbacks):
    factories.UserFactory(username="rita", email="rita@example.test")

    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes to the worker on commit
        response = client.post(reverse("password_reset"), {"email": "RITA@example.test"})
    assert response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == ["rita@example.test"]
    assert message.subject == "Reset your MarketSafe password"
    assert "Your username is rita." in message.body

    form_page = client.get(reset_link(), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")

    assert client.login(username="rita", password=NEW_PASSWORD)
    assert not client.login(username="rita", password=PASSWORD)
    # The link worked once.
    assert "This link no longer works" in client.get(reset_link(), follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_e_mail(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_change_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_password_change_explains_its_errors(client):
    client.force_login(factories.UserFactory(username="rita"))
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in page
    assert "This password is too short" in page
    assert "There are 2 problems" in page


def test_password_change_keeps_this_session(client):
    factories.UserFactory(username="rita")
    assert client.login(username="rita", password=PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200  # still logged in
    assert client.login(username="rita", password=NEW_PASSWORD)


# --- every page of this area: CSRF in forms, nothing the CSP would block --------------------------


@pytest.fixture
def pages(brand, owner, member_of):
    right = factories.IPRightFactory(brand=brand)
    member = factories.MembershipFactory(brand=brand, role=Role.REPORTER)
    member_of(Role.OWNER)
    kwargs = {"brand_slug": brand.slug}
    return [
        reverse("password_change"),
        reverse("brands:team", kwargs=kwargs),
        reverse("brands:team_invite", kwargs=kwargs),
        reverse("brands:member_update", kwargs={**kwargs, "pk": member.pk}),
        reverse("brands:member_remove", kwargs={**kwargs, "pk": member.pk}),
        reverse("brands:right_list", kwargs=kwargs),
        reverse("brands:right_create", kwargs=kwargs),
        reverse("brands:right_detail", kwargs={**kwargs, "pk": right.pk}),
        reverse("brands:right_update", kwargs={**kwargs, "pk": right.pk}),
        reverse("brands:right_retire", kwargs={**kwargs, "pk": right.pk}),
        reverse("brands:right_document_create", kwargs={**kwargs, "pk": right.pk}),
    ]


def test_pages_have_csrf_tokens_labels_and_nothing_inline(client, owner, pages):
    client.force_login(owner)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert " style=" not in page and "<style" not in page, url
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, url
        assert re.search(r"<[^>]+\son[a-z]+\s*=", page) is None, url
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", page, flags=re.S):
            assert "csrfmiddlewaretoken" in form, url
        for field_id in re.findall(r"<(?:input(?![^>]*type=\"hidden\")|select|textarea)[^>]*\bid=\"([^\"]+)\"", page):
            assert f'for="{field_id}"' in page, f"{url}: #{field_id} has no label"
