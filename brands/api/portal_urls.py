"""Token pages of the portal, mounted under /b/<brand_slug>/ (namespace "api-tokens")."""

from django.urls import path

from brands.api import token_views as views

app_name = "api-tokens"

urlpatterns = [
    path("api-tokens/", views.ApiTokenListView.as_view(), name="token_list"),
    path("api-tokens/new/", views.ApiTokenCreateView.as_view(), name="token_create"),
    path("api-tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="token_revoke"),
]
