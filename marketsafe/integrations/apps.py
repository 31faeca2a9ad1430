from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "marketsafe.integrations"
    label = "integrations"
    verbose_name = "Integrations"
