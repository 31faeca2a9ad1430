"""The role check of brand endpoints: the member's role must have the capability the action needs."""

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from brands.api.authentication import BrandCredential


class BrandRolePermission(permissions.BasePermission):
    """Requires a `BrandCredential` whose membership `can` the view's `required_capability(request)`.

    Runs before any object is looked up, as the portal's pages do: a role that may not act gets 403
    whatever the id; an id outside the brand then answers 404 from the scoped queryset.
    """

    #: Read by `core.api.schema.ApiAutoSchema`: operations behind this permission document a 403.
    refuses_by_role = True

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # DRF answers 401 with the authentication challenge
        credential = request.auth
        if not isinstance(credential, BrandCredential):
            raise exceptions.PermissionDenied(
                "No brand chosen: use an API token (POST /api/v1/auth/token/), or open one of your brands in the "
                "portal first so this browser session acts in it."
            )
        capability = view.required_capability(request)
        if not credential.membership.can(capability):
            role = credential.membership.get_role_display().lower()
            raise exceptions.PermissionDenied(f"Your role in {credential.brand} ({role}) does not allow this.")
        return True
