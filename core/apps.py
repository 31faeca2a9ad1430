"""The core app's configuration (template tags and static files)."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    # Installed for its template tags (charts) and static files; its models live in core.accounts and core.audit.
    name = "core"
    verbose_name = "Core"
