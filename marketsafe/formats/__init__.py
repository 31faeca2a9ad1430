"""Date formats of the portal and the admin console, in English (settings.FORMAT_MODULE_PATH)."""
