"""E-mail that never makes a request fail and is never lost: written by the request, sent by a worker.

A request (an invitation, a program or verification decision, a password reset) renders its message and
hands it to `mail_on_commit`, which writes it to the outbox table (`OutgoingEmail`) in the request's own
transaction: the e-mail exists exactly when the change it tells of was committed. After the commit
`core.tasks.send_email` is published with the row's id (`core.queue.send_on_commit`: a broker outage is a
warning in the log, not an error of the request), and a worker talks to SMTP. An SMTP server that is down,
refuses the connection or times out makes the task retry with back-off (`MAIL_RETRY`) until it answers;
nothing waits for SMTP inside a request. A message that never reached the broker (it was down when the
request committed) or whose retries ran out is re-published by `core.tasks.sweep_outgoing_email`
(`mail_sweep`), every minute from beat.

The task sends a row only while it holds the row's lock and finds it unsent, and marks it sent in the same
transaction, so two deliveries of the message (the sweep's and the first, or a redelivery) send it once.
Delivery is still at least once in one case: a worker killed after the mail server accepted the message
but before its transaction committed sends it again (a duplicate e-mail is the lesser harm than a lost
invitation). The message bodies stay in PostgreSQL, not in the broker.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.queue import DATABASE_UNAVAILABLE, send_on_commit

#: `@shared_task(**MAIL_RETRY)`: SMTP errors, network errors (refused, reset, timed out) and a database
#: outage retry with
#: back-off 2, 4, 8 … 600 s (with jitter), 15 times: a mail server down for about two hours loses nothing,
#: and the sweep takes over after that.
MAIL_RETRY: dict[str, Any] = {
    "autoretry_for": (SMTPException, OSError, *DATABASE_UNAVAILABLE),
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 15,
}

#: An unsent e-mail older than this is re-published by the sweep (at most once per RESEND_EVERY).
RESEND_AFTER = timedelta(minutes=2)
RESEND_EVERY = timedelta(hours=1)
#: Sent e-mails are deleted after this (their bodies hold one-time links).
KEEP_SENT = timedelta(days=1)


def mail_on_commit(*, subject: str, body: str, recipients: Sequence[str], from_email: str = "") -> None:
    """Write a plain-text e-mail to the outbox, to be sent by a worker once the current transaction commits
    (nothing is sent if it rolls back)."""
    from core.mail.models import OutgoingEmail
    from core.tasks import send_email  # the task module imports this one

    if not recipients:
        return
    email = OutgoingEmail.objects.create(
        subject=subject[:255],
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        recipients=list(recipients),
    )
    send_on_commit(send_email, email.pk)


def mail_send(*, email_id: int) -> int:
    """Send outbox row `email_id` unless it was sent already or another worker is sending it; returns the
    number of messages sent (0 or 1). SMTP errors propagate (the task retries)."""
    from core.mail.models import OutgoingEmail

    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id, sent_at=None).first()
        if email is None:
            return 0
        sent = send_mail(email.subject, email.body, email.from_email, email.recipients)
        email.sent_at = timezone.now()
        email.save(update_fields=["sent_at"])
        return sent


def mail_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-publish unsent e-mails whose message may be lost, and delete those sent long enough ago."""
    from core.mail.models import OutgoingEmail
    from core.tasks import send_email

    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(sent_at=None, created_at__lte=now - RESEND_AFTER)
            .filter(Q(swept_at=None) | Q(swept_at__lte=now - RESEND_EVERY))
            .values_list("pk", flat=True)[:1000]
        )
        OutgoingEmail.objects.filter(pk__in=stale).update(swept_at=now)
        for email_id in stale:
            send_on_commit(send_email, email_id)
    deleted, _ = OutgoingEmail.objects.filter(sent_at__lte=now - KEEP_SENT).delete()
    return {"resent": len(stale), "deleted": deleted}
