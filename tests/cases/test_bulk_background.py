"""Issue 13 point 6: a moderator's decision on more than a few dozen queue items runs in the background.
The confirmation answers at once with a progress page; the worker decides every item and the page then
shows the outcome, each refused item with its reason. Only the moderator who decided sees the page."""

import pytest
from django.test import Client
from django.urls import reverse

from cases import services
from cases.admin.forms import AcceptForm, RejectForm
from cases.choices import ItemStatus, RejectionCode
from cases.models import BulkDecision, StatementOfReasons
from listings.choices import ListingStatus
from tests.cases import test_admin_console as console
from tests.cases.test_admin_queue import apply_decision
from tests.workers import running_worker, wait_until

pytestmark = pytest.mark.django_db

# The console's fixtures (the staff groups and their members, items driven to a status) and helpers.
staff_groups, staff, client_for, item_in = console.staff_groups, console.staff, console.client_for, console.item_in
refreshed = console.refreshed

S = ItemStatus


@pytest.fixture
def few(settings):
    """Background decisions from 3 items on (the default is a few dozen)."""
    settings.MARKETSAFE = {**settings.MARKETSAFE, "ADMIN_BACKGROUND_DECISION_MIN": 2}


def progress_url(bulk: BulkDecision) -> str:
    return reverse("admin:cases_caseitem_bulk", args=[bulk.pk])


def test_a_large_acceptance_answers_at_once_and_the_worker_decides_the_items(
    few, client_for, item_in, staff, django_capture_on_commit_callbacks
):
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    decided_elsewhere = item_in(S.SUBMITTED)
    services.item_reject(item_id=decided_elsewhere.pk, actor=staff["moderator2"], code=RejectionCode.DUPLICATE)
    client = client_for("moderator")

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = apply_decision(
            client, "accept_items", [*items, decided_elsewhere], AcceptForm, "accept", message="Counterfeits."
        )
    bulk = BulkDecision.objects.get()
    assert response.redirect_chain[-1][0] == progress_url(bulk)
    assert len(enqueued) == 1  # the task, sent once the request commits
    html = response.content.decode()
    assert "0 of 4 items processed (0%)" in html and 'http-equiv="refresh"' in html
    assert refreshed(items[0]).status == S.SUBMITTED  # nothing decided inside the request

    services.bulk_decision_run(bulk_id=str(bulk.pk))  # what the worker does

    for item in items:
        item = refreshed(item)
        assert (item.status, item.decided_by) == (S.ACCEPTED, staff["moderator"])
        assert item.listing.status == ListingStatus.REMOVED
        assert StatementOfReasons.objects.get(item=item).facts == "Counterfeits."
    page = client.get(progress_url(bulk)).content.decode()
    assert "4 of 4 items processed (100%): 3 accepted, 1 refused." in page
    assert f"#{decided_elsewhere.pk}" in page and 'http-equiv="refresh"' not in page
    assert services.bulk_decision_run(bulk_id=str(bulk.pk)) is None  # a second delivery does nothing


def test_a_refused_form_runs_nothing(few, client_for, item_in):
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    response = apply_decision(client_for("moderator"), "reject_items", items, RejectForm, "reject", code="")
    assert response.status_code == 200
    assert not BulkDecision.objects.exists()


def test_only_the_moderator_who_decided_sees_the_progress(few, client_for, item_in, staff):
    bulk = services.bulk_decision_start(
        actor=staff["moderator"], decision="clarify", item_ids=[item_in().pk], message="Which mark?"
    )
    assert client_for("moderator2").get(progress_url(bulk)).status_code == 403
    assert client_for("reviewer").get(progress_url(bulk)).status_code == 403
    assert client_for("superuser").get(progress_url(bulk)).status_code == 200
    anonymous = Client().get(progress_url(bulk))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_background_rejection(few, client_for, item_in):
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    client = client_for("lead")
    with running_worker():
        apply_decision(client, "reject_items", items, RejectForm, "reject", code=RejectionCode.INSUFFICIENT_EVIDENCE)
        bulk = BulkDecision.objects.get()
        wait_until(lambda: BulkDecision.objects.get(pk=bulk.pk).state == BulkDecision.State.DONE, what="decided")
    assert {refreshed(item).status for item in items} == {S.REJECTED}
