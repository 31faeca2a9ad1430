"""The brands app's configuration."""

from django.apps import AppConfig


class BrandsConfig(AppConfig):
    name = "brands"
    verbose_name = "Brands and the MarketSafe program"
