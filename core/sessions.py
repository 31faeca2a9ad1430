"""Sessions that are written when they change, not on every page view.

`SESSION_SAVE_EVERY_REQUEST` would write the session row (BEGIN, UPDATE, COMMIT) on every request, to slide
its expiry forward. Reading a list then costs a write, and two tabs of one user contend for the same row.
`SessionRefreshMiddleware` keeps the sliding expiry at a coarser grain instead: a session that was read
is saved again (new expiry, new cookie) only when its last refresh is older than `SESSION_REFRESH_SECONDS`
(default 300). A user active within the last `SESSION_COOKIE_AGE` stays signed in, give or take that
interval; a page view in between writes nothing.

It sits right after Django's `SessionMiddleware`, so it sees the response before the session is saved.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

#: When the session's expiry was last pushed forward (seconds since the epoch).
REFRESHED_AT_KEY = "_refreshed_at"


def refresh_interval() -> int:
    return getattr(settings, "SESSION_REFRESH_SECONDS", 300)


def stamp_on_login(sender: type, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    """At login the session is written anyway: it carries its first refresh time from the start."""
    session = getattr(request, "session", None)
    if session is not None:
        session[REFRESHED_AT_KEY] = int(time.time())


class SessionRefreshMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A session nobody read this request (static files, anonymous pages) is not loaded here either.
        if session is None or not session.accessed or session.is_empty():
            return response
        now = int(time.time())
        refreshed_at = session.get(REFRESHED_AT_KEY)
        if session.modified or not isinstance(refreshed_at, int) or now - refreshed_at >= refresh_interval():
            session[REFRESHED_AT_KEY] = now  # marks it modified: SessionMiddleware saves it and resets the cookie
        return response
