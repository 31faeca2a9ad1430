"""Remembers the brand a member last opened in the portal, so their browser's API calls act in it."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from brands.api.authentication import SESSION_BRAND_KEY


class CurrentBrandMiddleware:
    """Stores the `brand_slug` of every brand page a signed-in user opens in their session.

    The slug is only a preference: the API checks the active membership on each request, so a slug
    of a brand the user cannot see (a mistyped URL that answered 404) chooses nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]) -> None:
        slug = kwargs.get("brand_slug")
        user = getattr(request, "user", None)
        if slug and user is not None and user.is_authenticated and request.session.get(SESSION_BRAND_KEY) != slug:
            request.session[SESSION_BRAND_KEY] = slug
