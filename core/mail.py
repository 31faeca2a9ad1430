"""E-mail that never makes a request fail: written by the request, sent by a worker.

A request (an invitation, a program or verification decision, a password reset) renders its message and
hands it to `mail_on_commit`: once the transaction commits, `core.tasks.send_email` is published
(`core.queue.send_on_commit`, so a broker outage is a warning in the log, not an error of the request)
and a worker talks to SMTP. An SMTP server that is down, refuses the connection or times out makes the
task retry with back-off (`MAIL_RETRY`) until it answers; nothing waits for SMTP inside a request.

Delivery is at least once: a worker killed after the server accepted the message but before the task
was acknowledged sends it again (a duplicate e-mail is the lesser harm than a lost invitation).
"""

from collections.abc import Sequence
from smtplib import SMTPException
from typing import Any

from django.conf import settings

from core.queue import send_on_commit

#: `@shared_task(**MAIL_RETRY)`: SMTP errors and network errors (refused, reset, timed out) retry with
#: back-off 2, 4, 8 … 600 s (with jitter), 15 times: a mail server down for about two hours loses nothing.
MAIL_RETRY: dict[str, Any] = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 15,
}


def mail_on_commit(*, subject: str, body: str, recipients: Sequence[str], from_email: str = "") -> None:
    """Send a plain-text e-mail from a worker once the current transaction commits (nothing if it rolls
    back); at once outside a transaction."""
    from core.tasks import send_email  # the task module imports this one's retry policy

    if recipients:
        send_on_commit(send_email, subject, body, from_email or settings.DEFAULT_FROM_EMAIL, list(recipients))
