"""Issue 13 point 1: marketplace staff verify or refuse the brands' IP rights in the admin.

A lead opens the verification queue (pending rights, oldest first, each document a click away), verifies
or refuses a right with a reason; the brand's owners are e-mailed, the portal shows the reason and how to
resubmit, and a document added to a refused right sends it back to the queue. Moderators may look, not
decide; the permission comes from migration `cases.0005_workflow_permissions`.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from brands.choices import IPRightStatus
from brands.models import IPRight
from brands.services import rights
from core.audit.models import AuditEvent
from core.uploads import check_upload
from marketsafe.management.commands import seed_demo
from tests import factories
from tests.brands.test_rights import pdf
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

QUEUE = "/admin/brands/ipright/queue/"


@pytest.fixture
def lead_client(client):
    client.force_login(staff_in(seed_demo.MODERATION_LEADS, "leo"))
    return client


@pytest.fixture
def pending(brand, owner) -> IPRight:
    return factories.IPRightFactory(brand=brand, name="ACME TRAVELLER", status=IPRightStatus.PENDING, verified_at=None)


def act_url(right: IPRight, action: str) -> str:
    return reverse("admin:brands_ipright_act", args=[right.pk, action])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_queue_lists_pending_rights_oldest_first_with_their_documents(lead_client, brand, owner):
    older = factories.IPRightFactory(brand=brand, name="OLDER", status=IPRightStatus.PENDING, verified_at=None)
    newer = factories.IPRightFactory(brand=brand, name="NEWER", status=IPRightStatus.PENDING, verified_at=None)
    IPRight.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    factories.IPRightFactory(brand=brand, name="ALREADY VERIFIED")
    document = rights.ip_right_add_document(right=newer, actor=owner, upload=check_upload(pdf()))

    page = lead_client.get(QUEUE, follow=True)
    assert page.status_code == 200
    listed = [right.name for right in page.context["cl"].result_list]
    assert listed == ["OLDER", "NEWER"]
    document_url = reverse("admin:brands_ipright_document", args=[newer.pk, document.pk])
    assert document_url in page.content.decode()
    download = lead_client.get(document_url)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_a_lead_verifies_a_pending_right_and_the_owners_hear_of_it(
    lead_client, pending, owner, django_capture_on_commit_callbacks
):
    page = lead_client.get(reverse("admin:brands_ipright_change", args=[pending.pk]))
    assert [action.name for action, _, _ in page.context["action_forms"]] == ["verify", "refuse"]
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(act_url(pending, "verify"), {"verify-note": "Checked on eSearch."}, follow=True)
    assert "Verified: ACME TRAVELLER" in " ".join(messages_of(response))
    pending.refresh_from_db()
    assert pending.status == IPRightStatus.VERIFIED and pending.verified_at is not None
    assert pending.verified_by.username == "leo"
    event = AuditEvent.objects.get(action="ip_right.verify", target_id=pending.pk)
    assert (event.from_state, event.to_state, event.reason) == ("pending", "verified", "Checked on eSearch.")
    [message] = mail.outbox
    assert message.to == [owner.email] and "is verified" in message.subject


def test_an_expired_right_is_not_verified(lead_client, pending):
    IPRight.objects.filter(pk=pending.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    response = lead_client.post(act_url(pending, "verify"), {}, follow=True)
    assert "its validity ended on" in " ".join(messages_of(response))
    pending.refresh_from_db()
    assert pending.status == IPRightStatus.PENDING


def test_refusing_needs_a_reason_which_the_brand_then_reads(
    lead_client, client, pending, owner, brand, django_capture_on_commit_callbacks
):
    response = lead_client.post(act_url(pending, "refuse"), {"refuse-reason": ""}, follow=True)
    assert "Reason, shown to the brand This field is required." in " ".join(messages_of(response))
    reason = "The certificate is for class 18; upload the class 25 one."
    with django_capture_on_commit_callbacks(execute=True):
        lead_client.post(act_url(pending, "refuse"), {"refuse-reason": reason})
    pending.refresh_from_db()
    assert (pending.status, pending.decision_reason) == (IPRightStatus.REJECTED, reason)
    assert AuditEvent.objects.filter(action="ip_right.refuse", target_id=pending.pk, reason=reason).exists()
    assert reason in mail.outbox[0].body

    client.force_login(owner)
    detail = reverse("brands:right_detail", kwargs={"brand_slug": brand.slug, "pk": pending.pk})
    html = client.get(detail).content.decode()
    assert reason in html
    assert "To send it for verification again" in html
    assert reverse("brands:right_document_create", kwargs={"brand_slug": brand.slug, "pk": pending.pk}) in html


def test_a_document_added_to_a_refused_right_sends_it_back_to_the_queue(client, brand, owner):
    refused = factories.IPRightFactory(
        brand=brand, status=IPRightStatus.REJECTED, verified_at=None, decision_reason="Missing certificate."
    )
    client.force_login(owner)
    url = reverse("brands:right_document_create", kwargs={"brand_slug": brand.slug, "pk": refused.pk})
    response = client.post(url, {"kind": "certificate", "file": pdf()})
    assert response.status_code == 302
    refused.refresh_from_db()
    assert refused.status == IPRightStatus.PENDING
    assert AuditEvent.objects.filter(action="ip_right.resubmit", target_id=refused.pk).exists()


def test_a_moderator_sees_the_queue_but_cannot_verify(client, pending):
    client.force_login(staff_in(seed_demo.MODERATORS, "mona"))
    assert client.get(QUEUE, follow=True).status_code == 200
    page = client.get(reverse("admin:brands_ipright_change", args=[pending.pk]))
    assert page.context["action_forms"] == []
    assert client.post(act_url(pending, "verify"), {}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == IPRightStatus.PENDING


def test_a_brand_user_cannot_reach_the_queue(client, owner, pending):
    client.force_login(owner)
    response = client.post(act_url(pending, "verify"), {})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
