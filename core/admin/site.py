"""The staff admin site: django-otp's admin site, whose second factor applies only while
`STAFF_REQUIRE_2FA` is on (read on every request, so one process serves either mode and tests can switch it).

Staff pages that are not model admins (the SLA page, the program report) are registered on the site by the
app that owns them (`admin.site.register_page(...)` in its admin module), so the site knows no app.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.urls import URLPattern, path
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


def device_for_token(user: Any, token: str) -> Device | None:
    """The user's confirmed device a code is meant for: six digits come from the authenticator app,
    anything else is a backup code. Trying the code on every device instead would count a failed
    attempt, and so throttle, on each device it was not meant for."""
    model = TOTPDevice if len(token) == 6 and token.isdigit() else StaticDevice
    return model.objects.filter(user=user, confirmed=True).order_by("pk").first()


class StaffOTPAuthenticationForm(OTPAdminAuthenticationForm):
    """The admin's login with a second factor: username, password and one code field.

    django-otp asks the user to pick a device in a second round trip; here the code's shape picks it.
    """

    otp_token = forms.CharField(
        required=False, label="Code", widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the 6-digit code from your authenticator app, or one of your backup codes.",
        "invalid_token": "That code is wrong or was already used. Wait for the next code and try again.",
        "device_required": "This account has no authenticator app yet: set one up first (see the link below).",
    }

    def clean_otp(self, user: Any) -> None:
        if user is not None and not self.cleaned_data.get("otp_device"):
            token = "".join((self.cleaned_data.get("otp_token") or "").split()).lower()
            self.cleaned_data["otp_token"] = token
            device = device_for_token(user, token)
            if device is not None:
                self.cleaned_data["otp_device"] = device.persistent_id
        super().clean_otp(user)


class StaffAdminSite(OTPAdminSite):
    """`admin.site` (through `core.admin.apps.StaffAdminConfig`): django-otp's admin site, whose second
    factor applies only while `STAFF_REQUIRE_2FA` is on. Off, it is Django's plain admin site.

    It also serves the staff pages other apps register (`register_page`).
    """

    site_header = "MarketSafe moderation"
    site_title = "MarketSafe moderation"
    index_title = "Moderation console"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._pages: list[tuple[str, Any, str]] = []

    @property
    def login_form(self) -> type[forms.Form] | None:  # type: ignore[override]
        return StaffOTPAuthenticationForm if settings.STAFF_REQUIRE_2FA else None

    @property
    def login_template(self) -> str | None:  # type: ignore[override]
        return "marketsafe/two_factor_admin_login.html" if settings.STAFF_REQUIRE_2FA else None

    def has_permission(self, request: HttpRequest) -> bool:
        if settings.STAFF_REQUIRE_2FA:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)

    def register_page(self, route: str, view: Callable[..., Any], *, name: str) -> None:
        """Serve a staff page at `<admin>/<route>` as `admin:<name>`, behind the site's login check. `view`
        is a class-based view with an `admin_site` attribute (it renders the admin's chrome)."""
        self._pages.append((route, view, name))

    def get_urls(self) -> list[URLPattern]:
        pages = [
            path(route, self.admin_view(view.as_view(admin_site=self)), name=name) for route, view, name in self._pages
        ]
        return [*pages, *super().get_urls()]
