"""Staff sign-in and the staff console's own pages: the admin site, which asks for a second factor when
`STAFF_REQUIRE_2FA` is on; the two-factor enrolment pages; the login lockout page; the SLA page; and the
MarketSafe program report.

Second factor (django-otp): an authenticator app (TOTP) plus single-use backup codes for a lost phone.
A staff member signs in to the portal with the password, enrols at `/accounts/2fa/` by scanning a QR code
and typing one code, receives backup codes once, and from then on the admin's login asks for the
password and a code. The setting is read on every request (not when the site is built), so one process
serves either mode and tests can switch it.

Lockout (django-axes): see the `AXES_*` settings. Here are its two hooks: the lockout page, and how the
client's address is found behind the proxy.

This module is project wiring, like `urls.py`: the SLA page reads `cases.sla`, the program report reads
`brands.selectors` and `cases.selectors`.
"""

import ipaddress
import logging
from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from django_otp import login as otp_login
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from brands.choices import Lane
from brands.selectors import program_overview
from cases import sla
from cases.selectors import lane_figures
from marketsafe.csvexport import csv_response
from marketsafe.templatetags.charts import Series

logger = logging.getLogger(__name__)

#: Backup codes issued at once; a new set replaces the old one.
BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"


# --- the admin site -------------------------------------------------------------------------------


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
    """`admin.site` (through `marketsafe.apps.StaffAdminConfig`): django-otp's admin site, whose second
    factor applies only while `STAFF_REQUIRE_2FA` is on. Off, it is Django's plain admin site.

    It also serves the SLA page (`admin:sla`) and the MarketSafe program report (`admin:program_report`).
    """

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

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

    def get_urls(self) -> list[URLPattern]:
        sla_page = path("sla/", self.admin_view(SLAView.as_view(admin_site=self)), name="sla")
        program = path("program/", self.admin_view(ProgramReportView.as_view(admin_site=self)), name="program_report")
        return [sla_page, program, *super().get_urls()]


# --- two-factor enrolment -------------------------------------------------------------------------


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


# --- lockout --------------------------------------------------------------------------------------


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The lockout page (`AXES_LOCKOUT_CALLABLE`), with the time from which a login is accepted again.

    Every attempt during the lockout restarts the cool-off (django-axes' default), so that time is now
    plus the cool-off.
    """
    context = {
        "retry_at": timezone.now() + settings.AXES_COOLOFF_TIME,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "axes/lockout.html", context, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for the lockout (`AXES_CLIENT_IP_CALLABLE`).

    Behind `TRUSTED_PROXY_COUNT` proxies, each appending the address it received the request from to
    X-Forwarded-For, the client's address is that many entries from the right; entries further left are
    whatever the client sent. Without proxies only REMOTE_ADDR is trusted. Reading the header's left end,
    or trusting it without a proxy, would let a client pick a new address for every attempt.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote


# --- the SLA page ---------------------------------------------------------------------------------


class SLAView(TemplateView):
    """The moderation SLA (`cases.sla`), for staff who may see case items."""

    template_name = "admin/sla.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("cases.view_caseitem"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        figures = sla.sla_figures()
        return {
            **super().get_context_data(**kwargs),
            **self.admin_site.each_context(self.request),
            "title": "Review SLA",
            "sla": figures,
            "chart_labels": [date_format(point.day, "j M") for point in figures.days],
            "chart_series": [
                Series("Within SLA", [point.within_sla for point in figures.days]),
                Series("Late", [point.late for point in figures.days]),
            ],
            "item_changelist": reverse("admin:cases_caseitem_changelist"),
        }


# --- the MarketSafe program report ----------------------------------------------------------------


class ProgramReportView(TemplateView):
    """Program-wide figures for association staff (`brands.view_program_report`): members, applications and
    the time to decide them, items per month and lane, acceptance rates and time to decision per lane.

    Aggregates only: no case item, listing, seller or evidence of any brand appears here or in the CSV.
    """

    template_name = "admin/program_report.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("brands.view_program_report"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        overview = program_overview()
        lanes = lane_figures()
        if request.GET.get("format") == "csv":
            return csv_response("marketsafe-program.csv", PROGRAM_CSV_HEADER, program_csv_rows(overview, lanes))
        return self.render_to_response(self.get_context_data(overview=overview, lanes=lanes))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        lanes = kwargs["lanes"]
        labels = [date_format(month, "M Y") for month in lanes.months]
        per_month = kwargs["overview"].applications_per_month

        def series(name: str, lane: str, field: str) -> Series:
            return Series(name, [getattr(p, field) for p in lanes.per_month if p.lane == lane])

        return {
            **super().get_context_data(**kwargs),
            **self.admin_site.each_context(self.request),
            "title": "MarketSafe program",
            "now": timezone.now(),
            "chart_labels": labels,
            "filed_series": [
                series("Expedited", Lane.EXPEDITED, "filed"),
                series("Standard", Lane.STANDARD, "filed"),
            ],
            "decided_series": [
                series("Expedited", Lane.EXPEDITED, "decided"),
                series("Standard", Lane.STANDARD, "decided"),
            ],
            "application_labels": [date_format(month, "M Y") for month, _, _ in per_month],
            "application_series": [
                Series("Submitted", [n for _, n, _ in per_month]),
                Series("Decided", [n for _, _, n in per_month]),
            ],
            "month_rows": [
                (label, [p for p in lanes.per_month if p.month == month])
                for label, month in zip(labels, lanes.months, strict=True)
            ],
        }


PROGRAM_CSV_HEADER = ("figure", "lane_or_status", "month", "value")


def program_csv_rows(overview: Any, lanes: Any) -> list[tuple[Any, ...]]:
    """The report's figures in long form: one row per figure, lane or status, and month (empty for totals)."""
    rows: list[tuple[Any, ...]] = [("members", status, "", n) for status, _, n in overview.members]
    rows += [("applications", status, "", n) for status, _, n in overview.applications]
    rows.append(("applications_decided", "", "", overview.decided))
    median_days = overview.median_days_to_decide
    rows.append(("median_days_to_decide_application", "", "", "" if median_days is None else round(median_days, 2)))
    for month, submitted, decided in overview.applications_per_month:
        rows += [("applications_submitted", "", f"{month:%Y-%m}", submitted)]
        rows += [("applications_decided", "", f"{month:%Y-%m}", decided)]
    for point in lanes.per_month:
        month = f"{point.month:%Y-%m}"
        rows += [
            ("items_filed", point.lane, month, point.filed),
            ("items_decided", point.lane, month, point.decided),
            ("items_accepted", point.lane, month, point.accepted),
        ]
    for lane in lanes.lanes:
        rate = lane.acceptance_rate
        hours = lane.median_seconds / 3600 if lane.median_seconds is not None else None
        rows += [
            ("acceptance_rate", lane.lane, "", "" if rate is None else round(rate, 4)),
            ("median_hours_to_decision", lane.lane, "", "" if hours is None else round(hours, 2)),
        ]
    return rows
