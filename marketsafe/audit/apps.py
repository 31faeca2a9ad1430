from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "marketsafe.audit"
    label = "audit"
    verbose_name = "Audit trail"
