"""Outgoing e-mail in the admin: what is waiting to be sent, for an operator chasing a stall. View-only,
and without the bodies (they hold invitation and password-reset links)."""

from django.contrib import admin

from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin
from core.mail.models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "subject", "recipients", "created_at", "swept_at", "sent_at")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    fields = ("subject", "from_email", "recipients", "created_at", "swept_at", "sent_at")
    ordering = ("-pk",)
    sortable_by = ()
