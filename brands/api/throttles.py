"""Request rates per API token (per user for browser sessions, per address for the token endpoint).

The rates are settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, from `API_THROTTLE_RATE` and
`API_AUTH_THROTTLE_RATE`); they are read on each request, so a changed setting applies without a reload.
With the cache (Redis) unreachable the limits are skipped, with a warning (`core.api.throttling`).
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from brands.api.authentication import BrandCredential
from core.api.throttling import FailOpenThrottleMixin


class _SettingsRateThrottle(FailOpenThrottleMixin, SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_SettingsRateThrottle):
    """One budget per token: two scripts of one member with two tokens do not starve each other."""

    scope = "api_token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        credential = request.auth
        if isinstance(credential, BrandCredential) and credential.token is not None:
            ident = f"token-{credential.token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenObtainThrottle(_SettingsRateThrottle):
    """Password guessing through the token endpoint (the login lockout applies there too)."""

    scope = "api_auth"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
