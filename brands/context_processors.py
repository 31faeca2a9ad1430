"""Template context for the brand switcher shown on every page."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from brands.access import memberships_of


def brand_switcher(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages without the switcher (the admin's) never query it; brand pages reuse the request's rows.
    return {"my_memberships": SimpleLazyObject(lambda: memberships_of(request))}
