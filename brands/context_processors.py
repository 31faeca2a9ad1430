"""Template context for the brand switcher shown on every page."""

from django.http import HttpRequest

from brands.access import memberships_of


def brand_switcher(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_memberships": memberships_of(request)}
