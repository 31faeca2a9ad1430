"""Root URL configuration. Brand pages live under /b/<brand_slug>/, where the tenant is resolved."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from brands.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("b/<slug:brand_slug>/", include("brands.urls")),
    path("b/<slug:brand_slug>/", include("cases.urls")),
    path("admin/", admin.site.urls),
]
