"""Celery tasks of the core app: sending the e-mails requests write to the outbox (`core.mail`)."""

from celery import shared_task

from core import mail
from core.queue import RETRY_ON_DATABASE_ERRORS


@shared_task(**mail.MAIL_RETRY)
def send_email(email_id: int) -> int:
    """Send one outbox e-mail; retried with back-off while SMTP is unreachable (`core.mail.MAIL_RETRY`)."""
    return mail.mail_send(email_id=email_id)


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def sweep_outgoing_email() -> dict[str, int]:
    """Re-publish e-mails whose message was lost, delete old sent ones; beat runs it every minute."""
    return mail.mail_sweep()
