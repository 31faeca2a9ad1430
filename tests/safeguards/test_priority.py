"""A live "lower priority" rule moves its items down the review queue, never past their SLA (issue 18,
point 1's action): the flag is set through the cases' service, the order is `cases.querysets.QUEUE_ORDERING`;
the deadline sweep gives the place back once the SLA is close."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseItem
from cases.services import items_apply_deadlines, items_lower_priority
from cases.tasks import apply_item_deadlines
from core.audit.models import AuditEvent
from tests import factories
from tests.workers import running_worker, wait_until

pytestmark = pytest.mark.django_db


def _queue(*items: CaseItem) -> list[int]:
    return list(CaseItem.objects.filter(pk__in=[i.pk for i in items]).in_queue_order().values_list("pk", flat=True))


def _due_in(item: CaseItem, delta: timedelta) -> None:
    CaseItem.objects.filter(pk=item.pk).update(sla_due_at=timezone.now() + delta)


def test_a_live_lower_priority_hit_moves_the_item_behind_its_lane_but_keeps_its_sla(make_rule, file_case):
    make_rule("listing.title == 'cheap copy'", action="lower_priority", reason="Low value")
    lowered_listing = factories.ListingFactory(title="cheap copy")
    first = file_case(listing_urls=[lowered_listing.url]).items.get()
    later = file_case(2)
    second, third = later.items.order_by("pk")
    first.refresh_from_db()
    due = first.sla_due_at
    assert first.priority_lowered and not second.priority_lowered
    assert first.sla_due_at == due  # the SLA clock is untouched
    # Filed first, so due first; lowered, so behind the later items of its lane.
    assert _queue(first, second, third) == [second.pk, third.pk, first.pk]
    event = AuditEvent.objects.get(action="item.lower_priority", target_id=first.pk)
    assert event.automated and "Low value" in event.reason and event.from_state == event.to_state == "submitted"


def test_a_lowered_item_close_to_its_sla_comes_first_again(file_case, settings, django_capture_on_commit_callbacks):
    settings.MARKETSAFE = settings.MARKETSAFE | {"QUEUE_LOWERED_PRIORITY_GUARD": timedelta(hours=4)}
    lowered, normal, urgent_normal = (file_case().items.get() for _ in range(3))
    _due_in(lowered, timedelta(hours=5))
    _due_in(normal, timedelta(hours=10))
    _due_in(urgent_normal, timedelta(hours=2))
    assert items_lower_priority(item_ids=[lowered.pk], reason="test") == [lowered.pk]
    # Further from its deadline than the guard: behind the normal item, though due earlier.
    assert _queue(lowered, normal, urgent_normal) == [urgent_normal.pk, normal.pk, lowered.pk]
    # The deadline sweep an hour and a half later: its SLA is within the guard, it is ordered by SLA again.
    later = timezone.now() + timedelta(hours=1, minutes=30)
    assert items_apply_deadlines(now=later - timedelta(hours=1)) == {"finalise": 0, "lapse": 0, "skipped": 0}
    assert items_apply_deadlines(now=later)["priority_restored"] == 1
    assert _queue(lowered, normal, urgent_normal) == [urgent_normal.pk, lowered.pk, normal.pk]
    event = AuditEvent.objects.get(action="item.restore_priority", target_id=lowered.pk)
    assert event.automated and "SLA due within" in event.reason
    # An item already within the guard is not lowered at all.
    assert items_lower_priority(item_ids=[urgent_normal.pk], reason="test") == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_sweep_task_restores_priorities_in_a_real_worker(file_case):
    """The Celery task of the deadline sweep, run by a real worker against PostgreSQL and Redis."""
    item = file_case().items.get()
    _due_in(item, timedelta(hours=10))
    items_lower_priority(item_ids=[item.pk], reason="test")
    _due_in(item, timedelta(hours=1))
    with running_worker():
        apply_item_deadlines.delay()
        wait_until(lambda: not CaseItem.objects.get(pk=item.pk).priority_lowered, what="priority restored")
    assert AuditEvent.objects.filter(action="item.restore_priority", target_id=item.pk).count() == 1


def test_lowering_leaves_decided_and_already_lowered_items_alone(file_case, rules_moderator):
    from cases.services import item_reject

    decided, open_item = (file_case().items.get() for _ in range(2))
    item_reject(item_id=decided.pk, actor=rules_moderator, code="wrong_reason")
    assert items_lower_priority(item_ids=[decided.pk, open_item.pk], reason="test") == [open_item.pk]
    assert items_lower_priority(item_ids=[open_item.pk], reason="again") == []
    assert AuditEvent.objects.filter(action="item.lower_priority").count() == 1
    decided.refresh_from_db()
    assert not decided.priority_lowered


def test_the_admin_queue_lists_lowered_items_last_with_the_reason(client, make_rule, file_case):
    make_rule("listing.title == 'cheap copy'", action="lower_priority", reason="Low value")
    lowered = file_case(listing_urls=[factories.ListingFactory(title="cheap copy").url]).items.get()
    normal = file_case().items.get()
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:cases_caseitem_changelist"))
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [normal, lowered]
    assert "Lower priority: Low value" in page.text
