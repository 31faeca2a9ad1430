"""Staff sign-in: the admin's second factor (django-otp) and its enrolment page, and the login lockout
(django-axes), each switched on and off by its setting."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from brands.choices import Role
from core.accounts.lockout import client_ip
from core.accounts.views import BACKUP_CODE_COUNT
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the factories' password
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def two_factor(settings):
    settings.STAFF_REQUIRE_2FA = True


@pytest.fixture
def staff():
    return factories.UserFactory(username="mona", is_staff=True, is_superuser=True)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def admin_login(client, code: str | None = None, *, username: str = "mona", password: str = PASSWORD):
    data = {"username": username, "password": password, "next": "/admin/"}
    if code is not None:
        data["otp_token"] = code
    return client.post(ADMIN_LOGIN, data)


def admin_opens(client) -> bool:
    response = client.get("/admin/")
    assert response.status_code in {200, 302}
    return response.status_code == 200


# --- second factor --------------------------------------------------------------------------------


def test_with_2fa_off_the_admin_needs_the_password_only(client, staff, settings):
    settings.STAFF_REQUIRE_2FA = False
    assert "otp_token" not in client.get(ADMIN_LOGIN).content.decode()
    assert admin_login(client)["Location"] == "/admin/"
    assert admin_opens(client)


def test_with_2fa_on_a_password_session_does_not_open_the_admin(client, staff, two_factor):
    client.force_login(staff)  # e.g. through the portal's login page
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)
    page = client.get(response["Location"]).content.decode()
    assert 'name="otp_token"' in page
    assert reverse("two_factor") in page  # the way to enrol


def test_with_2fa_on_the_admin_login_refuses_a_password_without_a_code(client, staff, two_factor):
    TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    response = admin_login(client)
    assert response.status_code == 200
    assert "Enter the 6-digit code from your authenticator app" in response.content.decode()
    assert not admin_opens(client)


def test_with_2fa_on_a_wrong_code_is_refused(client, staff, two_factor):
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    assert "That code is wrong" in admin_login(client, wrong).content.decode()
    assert not admin_opens(client)


def test_with_2fa_on_a_valid_code_opens_the_admin(client, staff, two_factor):
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    assert admin_login(client, code_for(device))["Location"] == "/admin/"
    assert admin_opens(client)


def test_a_backup_code_opens_the_admin_once(client, staff, two_factor):
    TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    backup = StaticDevice.objects.create(user=staff, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcd2345")
    assert admin_login(client, " ABCD 2345 ")["Location"] == "/admin/"  # case and spaces do not matter
    assert admin_opens(client)
    client.logout()
    assert "That code is wrong" in admin_login(client, "abcd2345").content.decode()


def test_staff_without_a_device_are_told_how_to_enrol(client, staff, two_factor):
    page = admin_login(client, "123456").content.decode()
    assert "no authenticator app yet" in page
    assert not admin_opens(client)


def enrolment_code(client) -> tuple[str, TOTPDevice]:
    page = client.get(reverse("two_factor")).content.decode()
    assert "<svg" in page
    device = TOTPDevice.objects.get(user__username="mona", confirmed=False)
    return page, device


def test_enrolment_confirms_the_app_issues_backup_codes_and_opens_the_admin(client, staff, two_factor, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    client.force_login(staff)
    page, device = enrolment_code(client)
    secret = re.search(r'class="mono"><strong>([A-Z2-7 ]+)</strong>', page)[1]
    assert len(secret.replace(" ", "")) == 32  # the 20-byte key in base32, for typing in by hand
    # Reloading keeps the same pending device: a QR code already scanned stays valid.
    assert enrolment_code(client)[1] == device

    response = client.post(reverse("two_factor"), {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert "That code does not match" in response.content.decode()

    time_machine.shift(timedelta(seconds=30))  # the next code, past django-otp's throttle after a failure
    response = client.post(reverse("two_factor"), {"token": code_for(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == BACKUP_CODE_COUNT
    assert set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True)) == set(codes)
    assert response["Cache-Control"].startswith("max-age=0")
    # Confirming verified the session: the admin opens without logging in again.
    assert admin_opens(client)
    # The page now shows the status, and no new QR code.
    status = client.get(reverse("two_factor")).content.decode()
    assert "Two-factor authentication is on" in status and "<svg" not in status
    assert f"Backup codes left: <strong>{BACKUP_CODE_COUNT}</strong>" in status

    # A backup code signs in later.
    client.logout()
    assert admin_login(client, codes[0])["Location"] == "/admin/"


def test_the_enrolment_page_is_for_staff_only(client, member_of):
    login_url = reverse("login")
    assert client.get(reverse("two_factor"))["Location"].startswith(login_url)
    client.force_login(member_of(Role.OWNER))
    assert client.get(reverse("two_factor")).status_code == 403
    assert client.post(reverse("two_factor_backup_codes")).status_code == 403


def test_the_qr_code_passes_the_content_security_policy(client, staff):
    client.force_login(staff)
    page = client.get(reverse("two_factor")).content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.DOTALL)[0]
    assert "<script" not in svg and "style=" not in svg and "href" not in svg


def test_new_backup_codes_need_a_session_verified_with_a_code(client, staff, two_factor):
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    client.force_login(staff)
    assert client.post(reverse("two_factor_backup_codes")).status_code == 403
    assert "sign in to the admin with a code" in client.get(reverse("two_factor")).content.decode()

    client.logout()
    admin_login(client, code_for(device))
    response = client.post(reverse("two_factor_backup_codes"))
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == BACKUP_CODE_COUNT
    response = client.post(reverse("two_factor_backup_codes"))
    newer = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    # The previous set stopped working.
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(newer) and not set(codes) & set(newer)


# --- lockout --------------------------------------------------------------------------------------


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def rita():
    return factories.UserFactory(username="rita")


def portal_login(client, password: str, *, username: str = "rita", address: str = "192.0.2.10"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, times: int, **kwargs) -> list[int]:
    return [portal_login(client, "wrong password", **kwargs).status_code for _ in range(times)]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, rita, lockout):
    assert fail(client, 4) == [200] * 4
    assert fail(client, 1) == [429]
    response = portal_login(client, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page and "try again in 15 minutes" in page
    assert not logged_in(client)


def test_the_lockout_is_per_username_and_address(client, rita, lockout):
    fail(client, 5)
    assert portal_login(client, PASSWORD, address="198.51.100.7").status_code == 302
    assert logged_in(client)


def test_the_admin_login_is_locked_too(client, lockout):
    factories.UserFactory(username="mona", is_staff=True)
    for _ in range(5):
        admin_login(client, password="wrong password")
    assert admin_login(client).status_code == 429
    assert not logged_in(client)


def test_the_lockout_ends_after_the_cool_off(client, rita, lockout, time_machine):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    fail(client, 5)
    time_machine.move_to(start + timedelta(minutes=14), tick=False)
    assert portal_login(client, PASSWORD).status_code == 429  # and this attempt restarts the cool-off
    time_machine.move_to(start + timedelta(minutes=14 + 16), tick=False)
    assert portal_login(client, PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_successful_login_resets_the_failure_count(client, rita, lockout):
    fail(client, 4)
    assert portal_login(client, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, 4) == [200] * 4
    assert portal_login(client, PASSWORD).status_code == 302


def test_with_the_lockout_off_failures_never_lock(client, rita, settings):
    settings.AXES_ENABLED = False
    assert fail(client, 10) == [200] * 10
    assert portal_login(client, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.1"),  # no proxy: the header is the client's own claim
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "198.51.100.66, 203.0.113.5", "203.0.113.5"),  # the left entry was sent by the client
        (2, "198.51.100.66, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_the_client_address_comes_from_the_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
