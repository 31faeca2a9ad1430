"""Account forms: the password reset whose e-mail a worker sends (`core.mail`), so that a mail server that
is down or slow neither fails nor holds the request (Django's own form talks to SMTP inside the request)."""

from typing import Any

from django.contrib.auth import forms as auth_forms
from django.template import loader

from core.mail import mail_on_commit


class PasswordResetForm(auth_forms.PasswordResetForm):
    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # The templates are plain text (no HTML alternative is configured); a subject must be one line.
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        mail_on_commit(subject=subject, body=body, recipients=[to_email], from_email=from_email or "")
