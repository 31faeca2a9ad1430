"""The outgoing e-mail app's configuration (label `mail`)."""

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "core.mail"
    label = "mail"
    verbose_name = "Outgoing e-mail"
