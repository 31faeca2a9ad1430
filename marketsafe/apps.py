"""The wiring's app configuration: installed only for its `seed_demo` command."""

from django.apps import AppConfig


class MarketsafeConfig(AppConfig):
    # Wiring, installed for its management command `seed_demo`, which names every app (demo data for all of them).
    name = "marketsafe"
    verbose_name = "MarketSafe"
