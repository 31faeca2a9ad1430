"""The accounts app's configuration (label `accounts`: `AUTH_USER_MODEL = "accounts.User"`)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "core.accounts"
    label = "accounts"
    verbose_name = "Accounts"
