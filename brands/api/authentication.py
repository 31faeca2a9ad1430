"""Who calls the API, and in which brand.

Every brand endpoint acts in exactly one brand with one role, carried by `request.auth`, a `BrandCredential`:
- `ApiTokenAuthentication`: `Authorization: Token ms_…`; the brand and role are the token's membership's;
- `BrandSessionAuthentication`: a browser signed in to the portal (CSRF enforced on unsafe methods); the
  brand is the one the member last opened in the portal (`SESSION_BRAND_KEY`, kept by
  `CurrentBrandMiddleware`), or their only brand.

Both re-read the membership on every request, so a removed member's token or session stops working at once.
"""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from brands.api.models import ApiToken
from brands.api.services import token_authenticate
from brands.models import BrandMembership

#: The session key holding the slug of the brand the member last opened in the portal.
SESSION_BRAND_KEY = "api_brand_slug"


@dataclass(frozen=True)
class BrandCredential:
    """The brand and role a request acts in, and the token it came with (None for a browser session)."""

    membership: BrandMembership
    token: ApiToken | None = None

    @property
    def brand(self) -> Any:
        return self.membership.brand


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, BrandCredential] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must read “Token <your token>”.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The token contains characters a token never has.") from exc
        token = token_authenticate(raw)
        if token is None or not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.membership.user, BrandCredential(membership=token.membership, token=token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def session_membership(request: HttpRequest | Request, user: Any) -> BrandMembership | None:
    """The membership a signed-in browser acts in: the brand last opened in the portal, else the only one."""
    active = BrandMembership.objects.active_of(user).select_related("user")
    slug = request.session.get(SESSION_BRAND_KEY)
    if slug:
        chosen = active.filter(brand__slug=slug).first()
        if chosen is not None:
            return chosen
    memberships = list(active[:2])
    return memberships[0] if len(memberships) == 1 else None


class BrandSessionAuthentication(authentication.SessionAuthentication):
    """The portal's session, with CSRF; `request.auth` is None when no brand can be chosen (the
    permission then says how to choose one)."""

    def authenticate(self, request: Request) -> tuple[Any, BrandCredential | None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        membership = session_membership(request, user)
        return user, BrandCredential(membership=membership) if membership is not None else None
