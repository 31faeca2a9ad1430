"""Oversized requests are refused before their body is read (issue 14.2): by Content-Length at once, and
by a streaming cap for bodies without one (chunked); files per request are capped."""

import io

import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory

from cases.forms import MAX_EVIDENCE_FILES
from core.middleware import RequestSizeLimitMiddleware

MiB = 1024 * 1024


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_an_api_request_declaring_300_mb_answers_413_in_the_error_shape_without_reading_the_body(client):
    response = client.generic(
        "POST",
        "/api/v1/ip-rights/1/documents/",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(300 * MiB),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    limit = settings.REQUEST_MAX_BYTES // MiB
    assert response.json() == {
        "status": 413,
        "code": "request_too_large",
        "detail": f"The request body is larger than the portal accepts ({limit} MB per request): "
        "send fewer rows or smaller files.",
    }


def test_a_page_request_declaring_too_large_a_body_answers_413(client):
    response = client.generic(
        "POST",
        "/cases/new/",
        data=b"",
        CONTENT_LENGTH=str(settings.REQUEST_MAX_BYTES + 1),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert b"larger than the portal accepts" in response.content


def test_a_body_at_the_limit_passes_the_middleware():
    request = RequestFactory().post("/x/", data=b"a" * 10, content_type="text/plain")
    middleware = RequestSizeLimitMiddleware(lambda r: HttpResponse(r.body))
    assert middleware(request).content == b"a" * 10


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 1000
    request = RequestFactory().post("/api/v1/x/", data=b"", content_type="application/octet-stream")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(b"x" * 5000)
    request.META["wsgi.input_terminated"] = True
    seen = {}

    def view(req):
        try:
            req.read()
        except RequestDataTooBig as exc:
            seen["refused"] = str(exc)
        return HttpResponse()

    RequestSizeLimitMiddleware(view)(request)
    assert "larger than the portal accepts" in seen["refused"]


def test_files_per_request_are_capped_at_what_a_filing_takes():
    """The evidence, the CSV, and one more so the filing form can name its own limit."""
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == MAX_EVIDENCE_FILES + 2


@pytest.mark.django_db
def test_more_files_than_the_cap_answer_400_naming_the_limit(owner_api, right):
    files = [SimpleUploadedFile(f"d{n}.pdf", b"%PDF-1.4") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = owner_api.post(f"/api/v1/ip-rights/{right.pk}/documents/", {"file": files}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request."
