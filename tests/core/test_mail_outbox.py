"""The e-mail outbox (core.mail): an e-mail is a row committed with the change it tells of, sent once by a
worker, and re-published by the sweep when its message never reached the broker (issue 12, point 4).

The broker outage is real: the message is published to a Redis of the test's own that has been stopped
(`tests.outages`), as a request committing during an outage would; the sweep's message then goes to the
suite's broker and a real worker (`tests.workers`). Elsewhere the suite's conftest runs a published
`send_email` in this process.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core.mail import KEEP_SENT, RESEND_AFTER, RESEND_EVERY, mail_on_commit, mail_send, mail_sweep
from core.mail.models import OutgoingEmail
from tests.concurrency import held_in_another_session
from tests.outages import broker_at, own_redis  # noqa: F401 (fixture)
from tests.workers import running_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def write(subject="Welcome") -> None:
    mail_on_commit(subject=subject, body="Your link: https://portal.example/x", recipients=["rita@example.test"])


def test_an_email_is_written_with_its_transaction_and_sent_once_after_the_commit():
    with transaction.atomic():
        write()
        assert OutgoingEmail.objects.count() == 1 and mail.outbox == []  # nothing before the commit
    assert [message.subject for message in mail.outbox] == ["Welcome"]
    email = OutgoingEmail.objects.get()
    assert email.sent_at is not None
    assert mail_send(email_id=email.pk) == 0  # a second delivery of the message sends nothing
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_leaves_no_email():
    with pytest.raises(RuntimeError), transaction.atomic():
        write()
        raise RuntimeError("the change failed")
    assert not OutgoingEmail.objects.exists() and mail.outbox == []


def test_an_email_another_worker_is_sending_is_left_to_it():
    email = OutgoingEmail.objects.create(subject="s", body="b", from_email="f@example.test", recipients=["r@x.test"])
    with held_in_another_session(lambda: OutgoingEmail.objects.select_for_update().get(pk=email.pk)):
        assert mail_send(email_id=email.pk) == 0
    assert mail_send(email_id=email.pk) == 1
    assert len(mail.outbox) == 1


@pytest.mark.integration  # real publishing (the conftest's in-process sending is off) and a real worker
def test_a_message_lost_to_a_broker_outage_is_resent_by_the_sweep(own_redis):  # noqa: F811
    own_redis.stop()
    with broker_at(own_redis.url), transaction.atomic():
        write("During the outage")  # published after the commit to the stopped Redis: a warning, no error
    email = OutgoingEmail.objects.get()
    assert email.sent_at is None and mail.outbox == []

    assert mail_sweep(now=email.created_at + RESEND_AFTER / 2) == {"resent": 0, "deleted": 0}  # not yet
    with running_worker():
        assert mail_sweep(now=email.created_at + RESEND_AFTER) == {"resent": 1, "deleted": 0}
        wait_until(lambda: mail.outbox, "the worker to send the swept e-mail")
    assert [message.subject for message in mail.outbox] == ["During the outage"]
    email.refresh_from_db()
    assert email.sent_at is not None and email.swept_at is not None


def test_the_sweep_resends_an_unsent_email_at_most_once_an_hour():
    email = OutgoingEmail.objects.create(subject="s", body="b", from_email="f@example.test", recipients=["r@x.test"])
    now = email.created_at + RESEND_AFTER
    OutgoingEmail.objects.filter(pk=email.pk).update(swept_at=now)
    assert mail_sweep(now=now + RESEND_EVERY / 2)["resent"] == 0
    assert mail_sweep(now=now + RESEND_EVERY)["resent"] == 1


def test_sent_emails_are_deleted_a_day_later():
    sent = timezone.now()
    OutgoingEmail.objects.create(subject="s", body="b", from_email="f@example.test", recipients=["r"], sent_at=sent)
    assert mail_sweep(now=sent + KEEP_SENT - timedelta(seconds=1))["deleted"] == 0
    assert mail_sweep(now=sent + KEEP_SENT)["deleted"] == 1
    assert not OutgoingEmail.objects.exists()
