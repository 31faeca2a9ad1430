"""Root URL configuration. Brand pages live under /b/<brand_slug>/, where the tenant is resolved."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from brands.views import HomeView, InvitationAcceptView
from core import health, metrics
from core.accounts.forms import PasswordResetForm
from core.accounts.views import BackupCodesView, TwoFactorView

urlpatterns = [
    # Liveness and readiness for load balancers and monitoring (no authentication, nothing leaked).
    path("healthz", health.liveness, name="healthz"),
    path("readyz", health.readiness, name="readyz"),
    # Prometheus: operator's network or bearer token only, 404 for anyone else (core/metrics.py).
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),  # e-mailed by a worker
        name="password_reset",
    ),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Staff enrol their second factor here, signed in with the password only (README, "Staff security").
    path("accounts/2fa/", TwoFactorView.as_view(), name="two_factor"),
    path("accounts/2fa/backup-codes/", BackupCodesView.as_view(), name="two_factor_backup_codes"),
    # Not under /b/<brand_slug>/: whoever opens the link is not a member of the brand yet.
    path("invitations/<str:token>/", InvitationAcceptView.as_view(), name="invitation_accept"),
    path("b/<slug:brand_slug>/", include("brands.urls")),
    path("b/<slug:brand_slug>/", include("cases.urls")),
    path("b/<slug:brand_slug>/", include("detection.urls")),  # stay-down: possible re-listings
    path("b/<slug:brand_slug>/", include("investigations.urls")),  # test purchases
    path(
        "b/<slug:brand_slug>/", include("investigations.urls_networks")
    ),  # seller networks, as far as the brand reported
    path("b/<slug:brand_slug>/", include("brands.api.portal_urls")),
    # The REST API (marketsafe/api_urls.py mounts each app's endpoints).
    path("api/v1/", include("marketsafe.api_urls")),
    path("b/<slug:brand_slug>/webhooks/", include("integrations.urls")),
    path("admin/", admin.site.urls),
]

# A refused page is a page of the portal or of the admin console, with its navigation and a way back.
handler403 = "marketsafe.error_views.permission_denied"
