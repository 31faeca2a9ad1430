"""The listings app's configuration."""

from django.apps import AppConfig


class ListingsConfig(AppConfig):
    name = "listings"
    verbose_name = "Marketplace data"
