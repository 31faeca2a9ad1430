"""The brand API's app (label `api`, kept from its first home so its tables and migrations stay): tokens bound to
brand memberships."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "brands.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from brands.api import schema  # noqa: F401  (registers the schema extensions)
