"""The request-size cap: a request whose body is larger than `REQUEST_MAX_BYTES` is refused before the
body is read.

Django's own limits (`DATA_UPLOAD_MAX_MEMORY_SIZE`, the upload handlers) apply while a body is parsed, and
a multipart file is streamed to a temporary file first, whatever its size; the per-file size check
(`core.uploads`) answers only after that. Here, first in the middleware stack:

- a declared `Content-Length` over the cap answers 413 at once (the API's error shape under `/api/`,
  a short page elsewhere), without touching the body;
- a body without a length (`Transfer-Encoding: chunked`, which a WSGI server passes through with
  `wsgi.input_terminated`) is read through a stream that raises `RequestDataTooBig` once more than the
  cap has arrived: the API answers 413, a page 400, and nothing past the cap is buffered.

A reverse proxy in front of the portal should cap request bodies at the same size (see the README), so
oversized uploads do not even reach the application server.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

MiB = 1024 * 1024


def too_large_detail() -> str:
    return (
        f"The request body is larger than the portal accepts ({settings.REQUEST_MAX_BYTES // MiB} MB per "
        "request): send fewer rows or smaller files."
    )


class _CappedStream:
    """A body stream that refuses to deliver more than `limit` bytes (it reads at most limit + 1)."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.seen = 0

    def _count(self, data: bytes) -> bytes:
        self.seen += len(data)
        if self.seen > self.limit:
            raise RequestDataTooBig(too_large_detail())
        return data

    def _room(self, size: int | None) -> int:
        room = self.limit + 1 - self.seen
        return room if size is None or size < 0 else min(size, room)

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.read(self._room(size)))

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.readline(self._room(size)))


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                length = 0
            if length > limit:
                return self._refuse(request)
        elif request.META.get("wsgi.input_terminated") and "wsgi.input" in request.META:
            # No length: the server ends the stream itself (chunked); read it, but never past the cap.
            request._stream = _CappedStream(request.META["wsgi.input"], limit)  # type: ignore[attr-defined]
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        detail = too_large_detail()
        if request.path.startswith("/api/"):
            return JsonResponse({"status": 413, "code": "request_too_large", "detail": detail}, status=413)
        return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
