"""Rate limits that do not turn a cache outage into a failed request.

DRF's throttles count requests in the cache (Redis). When the cache cannot be reached, refusing every
request would make a cache restart an API outage, so the limit is skipped for that request, with a
warning in the log: a short window without rate limiting is the lesser harm.
"""

import logging
from typing import Any

import redis.exceptions
from rest_framework.request import Request

logger = logging.getLogger(__name__)

#: What the Redis cache backend raises when its server cannot be reached or does not answer in time.
CACHE_UNREACHABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,  # the built-in one: a socket refused or reset
    TimeoutError,
)


class FailOpenThrottleMixin:
    """Put before a `SimpleRateThrottle` subclass: a request it cannot count is let through."""

    scope: str | None

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_UNREACHABLE as exc:
            logger.warning("Rate limit %r skipped for %s, the cache is unreachable: %s", self.scope, request.path, exc)
            return True
