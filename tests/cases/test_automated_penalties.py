"""Issue 13 point 3: a brand user rejects counter-notices on the portal, the removals give the seller strikes
and the policy warns, then suspends it. The penalties and the suspension's delisting job are the policy's:
automated, no person as their actor, and their reason names the triggering strike and case item."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.choices import ItemStatus
from cases.demo import drive_item_to
from core.audit.models import AuditEvent
from listings import penalties
from listings.choices import PenaltyAction, SellerStatus
from listings.models import Listing, PenaltyPolicy, SellerPenalty, Strike
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lock_checks")]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_penalties_after_a_brand_rejects_counter_notices_are_the_policys(
    client, file_case, moderator, reporter, marketplace, django_capture_on_commit_callbacks
):
    penalties.penalty_policy_save(
        policy=PenaltyPolicy(name="Standard"),
        ladder={PenaltyAction.WARN: 1, PenaltyAction.SUSPEND: 2},
        actor=moderator,
    )
    seller = factories.SellerFactory(marketplace=marketplace)
    client.force_login(reporter)
    for _ in range(2):
        item = file_case(1).items.get()
        Listing.objects.filter(pk=item.listing_id).update(seller=seller)
        drive_item_to(item, ItemStatus.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)
        url = reverse("cases:item_answer", kwargs={"brand_slug": item.brand.slug, "pk": item.pk})
        data = {
            "answer": "reject",
            "note": "Test purchase.",
            "evidence": [SimpleUploadedFile("p.png", PNG)],
            "evidence_kind": "test_purchase",
        }
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, data).status_code == 302
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED

    last_strike = Strike.objects.filter(seller=seller).latest("pk")
    applied = list(SellerPenalty.objects.filter(seller=seller).order_by("pk"))
    assert [p.action for p in applied] == [PenaltyAction.WARN, PenaltyAction.SUSPEND]
    assert all(p.automated and p.applied_by is None for p in applied)
    suspension = applied[-1]
    assert f"strike #{last_strike.pk} for the final removal of case item #{last_strike.source_item_id}" in (
        suspension.reason
    )
    assert f"made final by {reporter}" in suspension.reason
    job = suspension.delist_job
    assert job.automated and job.actor.username == penalties.SYSTEM_USERNAME and job.actor != reporter
    events = AuditEvent.objects.filter(action="penalty.apply", target_id=seller.pk)
    assert all(e.automated and e.actor is None for e in events)

    # The admin's list shows the policy, not the brand user, as who applied them.
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get(reverse("admin:listings_sellerpenalty_changelist")).content.decode()
    assert "Repeat-infringer policy (automated)" in html
    assert str(reporter) not in html
