from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "marketsafe.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from marketsafe.api import schema  # noqa: F401  (registers the schema extensions)
