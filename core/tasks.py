"""Celery tasks of the core app: sending the e-mails requests write (`core.mail`)."""

from celery import shared_task
from django.core.mail import send_mail

from core.mail import MAIL_RETRY


@shared_task(**MAIL_RETRY)
def send_email(subject: str, body: str, from_email: str, recipients: list[str]) -> int:
    """Send one e-mail; retried with back-off while SMTP is unreachable (`core.mail.MAIL_RETRY`)."""
    return send_mail(subject, body, from_email, recipients)
