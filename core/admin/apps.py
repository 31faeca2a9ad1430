"""The admin app with the project's own admin site (see `core.admin.site.StaffAdminSite`).

`default_site` is the supported way to replace `admin.site`: every `@admin.register` call and every
third-party admin module registers on the project's site, and `admin.site.urls` serves it, with nothing
swapped at import time. The site class is named by its dotted path because this module is imported
while the app registry is being populated, before any model (django-otp's included) may be imported.
"""

from django.contrib.admin import apps as admin_apps


class StaffAdminConfig(admin_apps.AdminConfig):
    default_site = "core.admin.site.StaffAdminSite"
