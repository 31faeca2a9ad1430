"""The core app's configuration (template tags, static files, the session refresh stamp at login)."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    # Installed for its template tags (charts) and static files; its models live in core.accounts and core.audit.
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core.sessions import stamp_on_login

        # A session starts out refreshed: the first page after signing in writes nothing more.
        user_logged_in.connect(stamp_on_login, dispatch_uid="core-session-stamp-on-login")
