"""DRF classes of the platform endpoints: marketplace systems authenticate with a service token.

`Authorization: Bearer mst_...`. The token authenticates a `MarketplaceService` principal (not a user:
no session, no brand, no admin), and `IsMarketplaceService` admits only requests authenticated this way,
so a service token is good for the platform endpoints alone and brand users cannot call them. The
brand-facing API does not list `ServiceTokenAuthentication`, so a service token gets nowhere there.
`ServiceTokenRateThrottle` limits each token separately (`MARKETSAFE["PLATFORM_API_RATE"]`).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from core.api.throttling import FailOpenThrottleMixin
from integrations.models import ServiceToken
from integrations.services import service_token_authenticate


@dataclass(frozen=True)
class MarketplaceService:
    """The principal of a service-token request, in the place DRF puts the user."""

    token: ServiceToken

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    @property
    def marketplace(self) -> Any:
        return self.token.marketplace

    def __str__(self) -> str:
        return f"service token {self.token.prefix} of {self.token.marketplace}"


class ServiceTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[MarketplaceService, ServiceToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Bearer <token>'.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from exc
        token = service_token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked service token.")
        return MarketplaceService(token), token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="marketsafe-platform"'


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    """Describes the service token in the OpenAPI schema (drf-spectacular finds it by `target_class`)."""

    target_class = ServiceTokenAuthentication
    name = "serviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A marketplace's service token (mst_...), created in the admin; platform endpoints only.",
        }


class IsMarketplaceService(permissions.BasePermission):
    message = "This endpoint is for marketplace systems, authenticated with a service token."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ServiceToken) and isinstance(request.user, MarketplaceService)


class ServiceTokenRateThrottle(FailOpenThrottleMixin, throttling.SimpleRateThrottle):
    """Requests per service token; the rate comes from the domain settings, not the global DRF ones.
    Skipped, with a warning, while the cache is unreachable (`core.api.throttling`)."""

    scope = "platform"

    def get_rate(self) -> str:
        return settings.MARKETSAFE["PLATFORM_API_RATE"]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ServiceToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
