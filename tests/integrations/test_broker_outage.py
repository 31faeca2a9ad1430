"""Requests whose work is committed do not fail while the broker is down (`core.queue.send_on_commit`).

Each test points the Celery broker at a Redis of its own, stops that server for real, makes the request,
then starts it again and runs the sweep that re-sends the work from PostgreSQL: the message must then be
in the restarted broker's queue. The transactions are real (`transaction=True`), so the publish runs on
the request's commit as in production.
"""

import json
import logging
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import Client
from django.utils import timezone

from cases import importing
from cases import tasks as case_tasks
from cases.admin.forms import AcceptForm
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import CaseDraft
from devtools.devenv import RedisServer
from integrations import services
from integrations import tasks as integration_tasks
from integrations.choices import DeliveryState
from integrations.models import WebhookDelivery
from listings.choices import ListingStatus
from tests import factories
from tests.cases.test_admin_console import form_data, item_url
from tests.cases.test_filing_tasks import make_draft
from tests.outages import broker_at

pytestmark = pytest.mark.django_db(transaction=True)


def queued_tasks(server: RedisServer) -> list[tuple[str, str]]:
    """(task name, args repr) of the messages waiting in the queues of `server`, queue by queue."""
    client = redis.Redis.from_url(server.url)
    messages = [json.loads(raw) for queue in settings.QUEUE_NAMES for raw in client.lrange(queue, 0, -1)]
    return [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages]


@pytest.fixture
def broker_warnings(caplog):
    """broker_warnings() → the warnings `core.queue` logged (its own level: a real worker started by an
    earlier test leaves the root logger at ERROR)."""
    caplog.set_level(logging.WARNING, logger="core.queue")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "core.queue" and r.levelno == logging.WARNING]


def test_an_accept_in_the_admin_answers_as_usual_while_the_broker_is_down_and_the_sweep_sends_its_webhook(
    own_redis, webhook_settings, file_case, moderator, reporter, owner, brand, broker_warnings
):
    endpoint = services.webhook_endpoint_create(brand=brand, url="http://127.0.0.1:9/hook", actor=owner)
    item = drive_item_to(file_case().items.get(), ItemStatus.SUBMITTED, moderator=moderator, brand_user=reporter)
    client = Client()
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))

    with broker_at(own_redis.url):
        own_redis.stop()
        response = client.post(item_url(item, "decide", "accept"), form_data(AcceptForm, "accept"))

        assert response.status_code == 302, response.content[:500]
        item.refresh_from_db()
        assert item.status == ItemStatus.ACCEPTED
        assert item.listing.status == ListingStatus.REMOVED
        delivery = WebhookDelivery.objects.get(endpoint=endpoint, event__item_id=item.pk, event__to_status=item.status)
        assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)
        [warning] = broker_warnings()
        assert "integrations.tasks.dispatch_webhook_deliveries" in warning

        own_redis.start()
        assert queued_tasks(own_redis) == []
        requeue_after = webhook_settings.MARKETSAFE["WEBHOOK_REQUEUE_AFTER_SECONDS"]
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=requeue_after + 1)
        )
        assert integration_tasks.sweep_webhook_deliveries() == 1

    assert queued_tasks(own_redis) == [("integrations.tasks.deliver_webhook", f"({delivery.pk},)")]


def test_a_large_filing_made_while_the_broker_is_down_is_saved_and_the_sweep_sends_its_check(
    own_redis, settings, brand, reporter, right, marketplace, broker_warnings
):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 10}

    with broker_at(own_redis.url):
        own_redis.stop()
        draft = make_draft(brand=brand, reporter=reporter, right=right, count=20)

        assert CaseDraft.objects.get(pk=draft.pk).state == CaseDraft.State.CHECKING
        [warning] = broker_warnings()
        assert "cases.tasks.preview_case_draft" in warning

        own_redis.start()
        assert case_tasks.sweep_case_drafts() == {"deleted": 0, "requeued": 0}  # too early to call it lost
        CaseDraft.objects.filter(pk=draft.pk).update(
            updated_at=timezone.now() - importing.UNSTARTED_AFTER - timedelta(seconds=1)
        )
        assert case_tasks.sweep_case_drafts() == {"deleted": 0, "requeued": 1}

    assert queued_tasks(own_redis) == [("cases.tasks.preview_case_draft", f"('{draft.pk}',)")]
