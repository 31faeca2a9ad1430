"""Every registered model's admin pages open for a superuser; service-written models are view-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from core.admin.mixins import ReadOnlyAdminMixin
from core.audit.models import AuditEvent

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_changelist_and_add_pages_open(superuser_client, model, model_admin, file_case):
    file_case(2)  # something in most tables: cases, items, listings, audit events
    meta = model._meta
    changelist = superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert changelist.status_code == 200
    add = superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    assert add.status_code == (403 if isinstance(model_admin, ReadOnlyAdminMixin) else 200)


def test_every_model_is_registered():
    from django.apps import apps

    inline_only = {
        "PenaltyThreshold",
        "IPRightDocument",
        "ApplicationDocument",
        "InformationRequest",
        "FingerprintImageHash",
        "TestPurchaseFile",
        "CustodyEvent",
    }
    labels = {"accounts", "audit", "brands", "listings", "cases", "safeguards", "detection", "investigations"}
    ours = [m for m in apps.get_models() if m._meta.app_label in labels]
    missing = [m.__name__ for m in ours if m not in admin.site._registry and m.__name__ not in inline_only]
    assert not missing


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_or_deleted_in_the_admin(superuser_client, file_case):
    file_case()
    event = AuditEvent.objects.first()
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert superuser_client.post(change_url, {"reason": "rewritten"}).status_code == 403
    assert superuser_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.reason == ""
