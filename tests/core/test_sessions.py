"""A page view reads the session without writing it; the sliding expiry is refreshed at most every
SESSION_REFRESH_SECONDS (core/sessions.py)."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import sessions

pytestmark = pytest.mark.django_db


def session_writes(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]]


@pytest.fixture
def items_url(brand) -> str:
    return reverse("cases:item_list", kwargs={"brand_slug": brand.slug})


def test_reading_a_list_does_not_write_the_session(client, reporter, items_url, file_case):
    file_case(2)
    client.force_login(reporter)
    client.get(items_url)  # the first visit stores the brand chosen (a real change of the session)
    assert session_writes(client, items_url) == []
    assert session_writes(client, items_url) == []


def test_the_expiry_is_refreshed_once_the_interval_has_passed(client, reporter, items_url, monkeypatch):
    client.force_login(reporter)
    client.get(items_url)
    session = Session.objects.get()
    expiry = session.expire_date
    now = sessions.time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: now + sessions.refresh_interval() + 1)
    writes = session_writes(client, items_url)
    assert any(sql.startswith("UPDATE") for sql in writes)
    assert Session.objects.get().expire_date > expiry
    assert session_writes(client, items_url) == []  # and not again within the interval


def test_save_every_request_is_off(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert "core.sessions.SessionRefreshMiddleware" in settings.MIDDLEWARE


def test_the_first_page_after_signing_in_writes_nothing(client, reporter):
    client.force_login(reporter)  # as a login does: the session is written here, with its refresh time
    assert session_writes(client, reverse("password_change")) == []
