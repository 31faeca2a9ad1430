"""API tokens: the token endpoint, the stored hash, expiry, revocation, a removed member, the portal pages
and the audit trail."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from brands.api.models import ApiToken
from brands.api.services import token_create, token_revoke
from brands.api.throttles import TokenObtainThrottle
from brands.choices import Role
from brands.services import team
from core.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"
CASES_URL = "/api/v1/cases/"


def _obtain(address: str = "127.0.0.1", **data):
    body = {"username": "rita", "password": "correct horse battery", "brand": "acme", **data}
    return APIClient().post(TOKEN_URL, body, format="json", REMOTE_ADDR=address)


@pytest.fixture
def rita(brand):
    return factories.MembershipFactory(brand=brand, user=factories.UserFactory(username="rita"), role=Role.REPORTER)


def test_token_endpoint_returns_a_token_bound_to_the_membership(rita, other_brand):
    response = _obtain(name="Import script", expires_in_days=30)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["brand"] == "acme" and body["role"] == "reporter" and body["name"] == "Import script"
    secret = body["token"]
    token = ApiToken.objects.get(prefix=body["prefix"])
    assert token.membership == rita
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    # Only a hash is stored.
    assert secret not in {token.secret_hash, token.prefix, token.name} and len(token.secret_hash) == 64
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(CASES_URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    event = AuditEvent.objects.get(action="api_token.create", target_id=token.pk)
    assert event.brand_id == rita.brand_id and event.actor == rita.user


def test_token_endpoint_refuses_wrong_passwords_and_other_brands(rita, other_brand):
    wrong = _obtain(password="not the password")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "status": 400,
        "code": "invalid",
        "detail": "Wrong username or password.",
        "errors": {"non_field_errors": ["Wrong username or password."]},
    }
    not_member = _obtain(brand="globex")
    assert not_member.status_code == 400
    assert not_member.json()["errors"]["brand"] == ["You are not an active member of a brand “globex”."]
    missing = APIClient().post(TOKEN_URL, {}, format="json")
    assert set(missing.json()["errors"]) == {"username", "password", "brand"}
    assert not ApiToken.objects.exists()


def test_token_endpoint_is_throttled_per_address(rita, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_auth": "2/minute"},
    }
    throttle = TokenObtainThrottle()
    cache.delete_many(
        [throttle.cache_format % {"scope": throttle.scope, "ident": ip} for ip in ("192.0.2.77", "192.0.2.78")]
    )
    responses = [_obtain(address="192.0.2.77", password="wrong") for _ in range(3)]
    assert [r.status_code for r in responses] == [400, 400, 429]
    assert responses[-1].json()["code"] == "throttled"
    assert _obtain(address="192.0.2.78", password="wrong").status_code == 400  # another address, its own budget


def test_bad_expired_and_revoked_tokens_are_refused(owner, brand):
    membership = owner.brand_memberships.get()
    token, secret = token_create(membership=membership, actor=owner, name="soon expired")
    client = APIClient()
    for header in ("Token", "Token a b", f"Token {secret}x", "Token ms_000000000000_nothing"):
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(CASES_URL)
        assert response.status_code == 401, header
        assert response.json()["code"] == "authentication_failed"
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(CASES_URL).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(CASES_URL).status_code == 401

    token, secret = token_create(membership=membership, actor=owner, name="revoked")
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(CASES_URL).status_code == 200
    token_revoke(token=token, actor=owner, reason="Leaked in a log")
    assert client.get(CASES_URL).status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke", target_id=token.pk)
    assert (event.actor, event.reason, event.brand_id) == (owner, "Leaked in a log", brand.pk)


def test_a_token_dies_with_its_membership(owner, reporter, brand):
    _, secret = token_create(membership=reporter.brand_memberships.get(), actor=reporter, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(CASES_URL).status_code == 200
    team.membership_remove(membership=reporter.brand_memberships.get(), actor=owner)
    assert client.get(CASES_URL).status_code == 401


def test_a_role_change_applies_to_existing_tokens(owner, reporter, brand):
    _, secret = token_create(membership=reporter.brand_memberships.get(), actor=reporter, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    team.membership_change_role(membership=reporter.brand_memberships.get(), role=Role.VIEWER, actor=owner)
    response = client.post(CASES_URL, {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role in Acme Leather (viewer) does not allow this."


# --- portal pages ---------------------------------------------------------------------------------


def test_token_pages_show_the_secret_once_and_revoke(client, reporter, owner, brand):
    client.force_login(reporter)
    create_url = reverse("api-tokens:token_create", kwargs={"brand_slug": brand.slug})
    response = client.post(create_url, {"name": "Nightly import", "expires_in_days": "90"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("ms_") and secret in response.content.decode()
    token = ApiToken.objects.get()
    assert token.membership.user == reporter and token.expires_at is not None

    listing = client.get(reverse("api-tokens:token_list", kwargs={"brand_slug": brand.slug}))
    assert "Nightly import" in listing.content.decode() and secret not in listing.content.decode()

    # An owner sees (and may revoke) every member's tokens; the reporter revokes their own.
    client.force_login(owner)
    assert "Nightly import" in client.get(listing.request["PATH_INFO"]).content.decode()
    client.force_login(reporter)
    revoke_url = reverse("api-tokens:token_revoke", kwargs={"brand_slug": brand.slug, "pk": token.pk})
    response = client.post(revoke_url, follow=True)
    assert "revoked: it no longer works" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_by == reporter
    again = client.post(revoke_url, follow=True)
    assert "already revoked" in again.content.decode()


def test_token_page_form_errors_name_the_field(client, reporter, brand):
    client.force_login(reporter)
    create_url = reverse("api-tokens:token_create", kwargs={"brand_slug": brand.slug})
    response = client.post(create_url, {"name": "", "expires_in_days": "0"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_members_do_not_see_each_others_tokens(client, reporter, member_of, brand):
    other = member_of(Role.REPORTER)
    token_create(membership=other.brand_memberships.get(), actor=other, name="Colleague's script")
    client.force_login(reporter)
    page = client.get(reverse("api-tokens:token_list", kwargs={"brand_slug": brand.slug}))
    assert "Colleague's script" not in page.content.decode()


def test_each_token_has_its_own_request_budget(owner, brand, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_token": "2/minute"},
    }
    membership = owner.brand_memberships.get()
    clients = []
    for name in ("first script", "second script"):
        token, secret = token_create(membership=membership, actor=owner, name=name)
        cache.delete(f"throttle_api_token_token-{token.pk}")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        clients.append(client)
    first, second = clients
    assert [first.get(CASES_URL).status_code for _ in range(3)] == [200, 200, 429]
    throttled = first.get(CASES_URL)
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) > 0
    assert second.get(CASES_URL).status_code == 200


def test_the_login_lockout_answers_in_the_api_error_shape(rita, settings):
    settings.AXES_ENABLED = True
    assert [_obtain(address="192.0.2.90", password="wrong").status_code for _ in range(4)] == [400] * 4
    locked = [_obtain(address="192.0.2.90", password=password) for password in ("wrong", "correct horse battery")]
    for response in locked:
        assert response.status_code == 429 and response["Content-Type"] == "application/json"
        body = response.json()
        assert (body["status"], body["code"]) == (429, "throttled")
        assert body["detail"].startswith("Too many failed sign-ins for this username from this address.")
        assert int(response["Retry-After"]) == 15 * 60
    assert not ApiToken.objects.exists()
