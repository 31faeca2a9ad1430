"""The API's root, mounted at /api/v1/: its own endpoints (namespace "api") and each app's endpoints
(namespaces "cases-api", "brands-api"), and the marketplace systems' platform endpoints under platform/
(namespace "platform-api", service tokens only). Any other address ending in a slash answers the API's
JSON 404 (without the slash, Django's APPEND_SLASH redirects there first)."""

from django.urls import include, path, re_path

from brands.api import token_views
from core.api import views

api_patterns = (
    [
        path("auth/token/", token_views.TokenObtainView.as_view(), name="token-obtain"),
        path("schema/", views.SchemaView.as_view(), name="schema"),
        path("docs/", views.DocsView.as_view(), name="docs"),
    ],
    "api",
)

urlpatterns = [
    path("", include(api_patterns)),
    path("", include("cases.api.urls")),
    path("", include("brands.api.urls")),
    path("", include("detection.api.urls")),  # stay-down: the re-listing candidates feed
    path("", include("investigations.api.urls")),  # test purchases
    path("platform/", include("integrations.platform.urls")),
    re_path(r"^(?:[\s\S]*/)?$", views.EndpointNotFoundView.as_view(), name="api-not-found"),
]
