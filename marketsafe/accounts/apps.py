from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "marketsafe.accounts"
    label = "accounts"
    verbose_name = "Accounts"
