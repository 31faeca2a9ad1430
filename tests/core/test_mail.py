"""E-mail never makes a request fail (issue 12, point 4): with SMTP down the request answers as usual and
a real worker retries the message until the mail server answers, then sends it once.

SMTP is a real connection attempt to a local port where nothing listens; once the worker has retried,
the mailer is switched to Django's in-memory backend (the mail server "is back") and the next retry
delivers. The broker and the worker are the suite's real ones (`tests.workers`).
"""

import re

import pytest
from celery.signals import task_retry
from django.core import mail
from django.urls import reverse

from brands.choices import Role
from core import tasks
from devtools.devenv import free_port
from tests import factories
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def smtp_down(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    return settings


@pytest.fixture
def mail_retries():
    """The exceptions `core.tasks.send_email` retried on, as the worker reported them."""
    seen: list[BaseException] = []

    def record(sender=None, reason=None, **_) -> None:
        if sender is not None and sender.name == tasks.send_email.name:
            seen.append(reason.exc)  # a celery Retry, carrying what the attempt raised

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


def invite(client, owner, brand):
    client.force_login(owner)
    return client.post(
        reverse("brands:team_invite", kwargs={"brand_slug": brand.slug}),
        {"email": "rita@example.test", "role": Role.REPORTER},
    )


def reset_password(client, owner, brand):
    factories.UserFactory(username="rita", email="rita@example.test")
    return client.post(reverse("password_reset"), {"email": "rita@example.test"})


@pytest.mark.parametrize(
    ("request_mail", "link"),
    [(invite, r"/invitations/[\w-]+/"), (reset_password, r"/accounts/password/reset/\w+/[\w-]+/")],
    ids=["invitation", "password reset"],
)
def test_a_request_made_while_smtp_is_down_answers_and_its_mail_is_sent_once_smtp_works(
    smtp_down, mail_retries, client, owner, brand, request_mail, link
):
    with running_worker():
        response = request_mail(client, owner, brand)

        assert response.status_code == 302, response.content[:500]
        wait_until(lambda: mail_retries, "the worker to retry the e-mail after SMTP refused it")
        assert isinstance(mail_retries[0], OSError)  # connection refused, not a bug
        assert mail.outbox == []

        smtp_down.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
        wait_until(lambda: mail.outbox, "the e-mail to be sent once SMTP answers")

    [message] = mail.outbox  # the worker has stopped: sent once, not once per attempt
    assert message.to == ["rita@example.test"]
    assert re.search(link, message.body)
