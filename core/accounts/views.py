"""Two-factor enrolment for staff (django-otp): an authenticator app (TOTP) plus single-use backup codes.

A staff member signs in to the portal with the password, enrols at `/accounts/2fa/` by scanning a QR code
and typing one code, receives backup codes once, and from then on the admin's login asks for the password
and a code (`core.admin.site.StaffAdminSite`).
"""

import logging
from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger(__name__)

#: Backup codes issued at once; a new set replaces the old one.
BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"


class StaffOnlyMixin(UserPassesTestMixin):
    """Staff only: anonymous visitors are sent to the login page, signed-in brand users get 403."""

    def test_func(self) -> bool:
        user = self.request.user
        return user.is_authenticated and user.is_staff


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from the app",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not (len(token) == 6 and token.isdigit()):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return token


def _confirmed_authenticator(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _replace_backup_codes(user: Any) -> list[str]:
    """A new set of backup codes for `user`; the previous ones stop working. Returns the codes, which
    are shown once."""
    device = StaticDevice.objects.filter(user=user, name=BACKUP_CODES_NAME).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=BACKUP_CODES_NAME, confirmed=True)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@method_decorator(never_cache, name="dispatch")
class TwoFactorView(StaffOnlyMixin, View):
    """Two-factor status, or enrolment: a pending authenticator's QR code and the code that confirms it.

    An account without a confirmed authenticator gets one pending device, reused until confirmed so a
    reload does not invalidate a QR code already scanned. Confirming also verifies the session, so the
    admin opens straight away, and issues backup codes. Replacing an authenticator (a lost phone) is an
    administrator's job: they delete the device in the admin and the member enrols again.
    """

    template_name = "marketsafe/two_factor.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, TokenForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self._page(request, form)
        with transaction.atomic():
            if _confirmed_authenticator(request.user) is not None:  # confirmed meanwhile (another tab)
                return redirect("two_factor")
            pending = TOTPDevice.objects.select_for_update().filter(user=request.user, confirmed=False)
            device = next((d for d in pending.order_by("pk") if d.verify_token(form.cleaned_data["token"])), None)
            if device is not None:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                pending.exclude(pk=device.pk).delete()
                codes = _replace_backup_codes(request.user)
        if device is None:
            # Also after a wrong code tried too soon: django-otp throttles failed attempts (1 s, 2 s, 4 s...).
            form.add_error("token", "That code does not match. Wait for the app's next code and enter it.")
            return self._page(request, form)
        otp_login(request, device)
        logger.info("Staff member %s enrolled an authenticator app", request.user.pk)
        return render(request, "marketsafe/two_factor_codes.html", {"codes": codes, "enrolled": True})

    def _page(self, request: HttpRequest, form: TokenForm) -> HttpResponse:
        authenticator = _confirmed_authenticator(request.user)
        if authenticator is not None:
            backup = StaticDevice.objects.filter(user=request.user, name=BACKUP_CODES_NAME).first()
            context = {
                "authenticator": authenticator,
                "backup_codes_left": backup.token_set.count() if backup else 0,
                "verified": request.user.is_verified(),
            }
            return render(request, self.template_name, context)
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=request.user, name=AUTHENTICATOR_NAME, confirmed=False)
        context = {
            "form": form,
            # An SVG of rects and paths only: nothing the Content Security Policy would block.
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(
                scale=5, light="#fff", title="QR code to scan with your authenticator app"
            ),
            "secret": _grouped(b32encode(device.bin_key).decode()),
        }
        return render(request, self.template_name, context)


@method_decorator(never_cache, name="dispatch")
class BackupCodesView(StaffOnlyMixin, View):
    """New backup codes. Only in a session verified with a code, so a password alone cannot mint them."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_verified():
            raise PermissionDenied("Sign in to the admin with a code before making new backup codes.")
        with transaction.atomic():
            codes = _replace_backup_codes(request.user)
        logger.info("Staff member %s replaced their backup codes", request.user.pk)
        return render(request, "marketsafe/two_factor_codes.html", {"codes": codes, "enrolled": False})
