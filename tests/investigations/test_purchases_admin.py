"""Marketplace moderators read test purchases in the admin, with their files, chain of custody and its
verification; nobody changes or deletes them there."""

from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from investigations.services import purchases as service
from tests import factories
from tests.safeguards.groups import _state, make_staff_groups

pytestmark = pytest.mark.django_db


PURCHASES = ("investigations", "0002_purchases")


@pytest.fixture
def moderator_client(client):
    # The staff groups as the migrations make them (a transactional test may have emptied every table).
    make_staff_groups()
    with connection.schema_editor() as editor:
        import_module(f"{PURCHASES[0]}.migrations.{PURCHASES[1]}")._apply(_state(PURCHASES), editor, add=True)
    moderator = factories.UserFactory(username="mona", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(moderator)
    return client


def test_a_moderator_reads_a_purchase_with_its_verified_chain(moderator_client, counterfeit):
    purchase = counterfeit(order_id="ORD-ADMIN")
    changelist = moderator_client.get(reverse("admin:investigations_testpurchase_changelist"))
    assert changelist.status_code == 200 and "ORD-ADMIN" in changelist.content.decode()
    page = moderator_client.get(reverse("admin:investigations_testpurchase_change", args=[purchase.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Chain complete: 2 links verified" in body and "order.png" in body


def test_a_purchase_cannot_be_changed_or_deleted_in_the_admin(moderator_client, record):
    purchase = record()
    change = reverse("admin:investigations_testpurchase_change", args=[purchase.pk])
    assert moderator_client.post(change, {"order_id": "rewritten"}).status_code == 403
    delete = reverse("admin:investigations_testpurchase_delete", args=[purchase.pk])
    assert moderator_client.post(delete, {"post": "yes"}).status_code == 403
    purchase.refresh_from_db()
    assert purchase.order_id != "rewritten"


def test_the_item_page_shows_the_attached_test_purchase(moderator_client, counterfeit, file_case, listing, reporter):
    purchase = counterfeit(order_id="ORD-PANEL")
    item = file_case(listing_urls=[listing.url]).items.get()
    service.purchase_attach(purchase=purchase, item=item, actor=reporter)
    body = moderator_client.get(reverse("admin:cases_caseitem_change", args=[item.pk])).content.decode()
    assert "Test purchases" in body and "ORD-PANEL" in body and "Chain complete: 3 links verified" in body
