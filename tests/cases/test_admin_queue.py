"""The review queue (the case item changelist): its order, filters and search, its bounded queries, and
its actions (assign, release, accept, reject, request clarification) posted as each staff group, including
a large acceptance whose listings a delisting job removes."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from brands.choices import Role
from cases import services
from cases.admin import queue as queue_admin
from cases.admin.forms import AcceptForm, ClarifyForm, RejectForm
from cases.choices import ItemStatus, RejectionCode
from cases.delisting import CASE_ITEMS
from cases.models import CaseItem, StatementOfReasons
from core.admin.mixins import EstimatedCountPaginator
from core.audit.models import AuditEvent
from listings import delisting
from listings.choices import DelistJobStatus, ListingStatus
from listings.models import DelistJob, Listing
from tests import factories
from tests.cases import test_admin_console as console

pytestmark = pytest.mark.django_db

# The console's fixtures (the staff groups and their members, items driven to a status) and helpers.
staff_groups, staff, client_for, item_in = console.staff_groups, console.staff, console.client_for, console.item_in
DECIDERS, form_data = console.DECIDERS, console.form_data
messages_of, refreshed = console.messages_of, console.refreshed

S = ItemStatus
NOW = timezone.now


def queue_url() -> str:
    return reverse("admin:cases_caseitem_changelist")


def shown(client: Client, **params) -> list[int]:
    """The ids the queue lists for `params`, in its order."""
    response = client.get(queue_url(), params)
    assert response.status_code == 200, response
    return [item.pk for item in response.context["cl"].result_list]


def pks(*items: CaseItem) -> list[int]:
    return [item.pk for item in items]


def set_item(item: CaseItem, **fields) -> CaseItem:
    """Set columns the test needs (lane, SLA, age) without a service: they describe how the item came."""
    CaseItem.objects.filter(pk=item.pk).update(**fields)
    return refreshed(item)


def start_action(client: Client, action: str, items, **extra):
    """Choose an action for the ticked items in the changelist, as its action bar posts it."""
    data = {"action": action, ACTION_CHECKBOX_NAME: pks(*items), "index": 0, **extra}
    return client.post(queue_url(), data)


def apply_decision(client: Client, action: str, items, form_class, prefix: str, **fields):
    """Post the confirmation page's form back, as its "apply" button does."""
    data = {
        "action": action,
        ACTION_CHECKBOX_NAME: pks(*items),
        "apply": "1",
        **form_data(form_class, prefix, **fields),
    }
    return client.post(queue_url(), data, follow=True)


def listing_removals(listing: Listing) -> list[AuditEvent]:
    listing_type = ContentType.objects.get_for_model(Listing)
    return list(AuditEvent.objects.filter(action="listing.remove", target_type=listing_type, target_id=listing.pk))


# --- order and default view -----------------------------------------------------------------------


def test_the_queue_shows_items_waiting_for_a_decision_by_lane_then_sla(client_for, item_in):
    later = set_item(item_in(S.SUBMITTED), sla_due_at=NOW() + timedelta(days=3))
    sooner = set_item(item_in(S.IN_REVIEW), sla_due_at=NOW() + timedelta(hours=1))
    member = set_item(item_in(S.SUBMITTED), lane="expedited", sla_due_at=NOW() + timedelta(hours=20))
    accepted = item_in(S.ACCEPTED)
    clarification = item_in(S.CLARIFICATION_REQUESTED)
    client = client_for("moderator")

    assert shown(client) == pks(member, sooner, later)
    assert shown(client, status="all") == pks(clarification, accepted, member, sooner, later)  # newest first
    assert shown(client, status="accepted") == pks(accepted)
    assert shown(client, status="clarification_requested") == pks(clarification)


def test_an_unknown_status_is_refused_rather_than_ignored(client_for):
    response = client_for("moderator").get(queue_url(), {"status": "gone"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_queue_shows_the_time_left_and_breaches_in_red(client_for, item_in):
    set_item(item_in(S.SUBMITTED), sla_due_at=NOW() - timedelta(hours=5))
    set_item(item_in(S.SUBMITTED), sla_due_at=NOW() + timedelta(hours=30))
    page = client_for("moderator").get(queue_url()).content.decode()
    assert '5 h ago<span class="visually-hidden">, breached</span>' in page
    assert 'class="sla sla-breached"' in page
    assert ">in 29 h</time>" in page
    assert "<h1>Review queue</h1>" in page
    assert "css/admin-console.css" in page


def test_the_case_page_links_all_its_items(client_for, item_in):
    item = item_in(S.ACCEPTED)
    page = client_for("moderator").get(reverse("admin:cases_case_change", args=[item.case_id])).content.decode()
    assert f"case__id__exact={item.case_id}&amp;status=all" in page
    assert shown(client_for("moderator"), case__id__exact=item.case_id, status="all") == [item.pk]


# --- filters and search ---------------------------------------------------------------------------


def test_filters_by_lane_reason_and_brand(client_for, item_in, file_case, other_brand, member_of):
    ours = item_in(S.SUBMITTED)
    member = set_item(item_in(S.SUBMITTED), lane="expedited")
    copyright_item = file_case(reason_code="copyright").items.get()
    theirs = file_case(
        brand=other_brand,
        actor=member_of(Role.REPORTER, of=other_brand),
        rights=[factories.IPRightFactory(brand=other_brand)],
    ).items.get()
    client = client_for("moderator")

    assert shown(client, lane__exact="expedited") == [member.pk]
    assert set(shown(client, reason_code__exact="copyright")) == {copyright_item.pk}
    assert shown(client, brand="Globex") == [theirs.pk]  # part of the name
    assert set(shown(client, brand="acme")) == {ours.pk, member.pk, copyright_item.pk}  # the slug
    assert shown(client, brand="nobody") == []


def test_filters_by_marketplace_and_seller(client_for, item_in, marketplace):
    seller = factories.SellerFactory(marketplace=marketplace, external_id="SELLER-9")
    sold = item_in(S.SUBMITTED, listing=factories.ListingFactory(marketplace=marketplace, seller=seller))
    other_market = factories.MarketplaceFactory(slug="bazaar", hosts=["bazaar.example"])
    elsewhere = item_in(S.SUBMITTED, listing=factories.ListingFactory(marketplace=other_market))
    client = client_for("moderator")

    assert shown(client, seller="SELLER-9") == [sold.pk]
    assert shown(client, listing__marketplace__id__exact=other_market.pk) == [elsewhere.pk]
    page = client.get(queue_url()).content.decode()
    assert 'placeholder="Marketplace&#x27;s seller id"' in page  # an input, not a list of sellers
    assert "bazaar" in page.lower()  # marketplaces are few: listed


def test_filters_by_age_sla_and_assignee(client_for, item_in, staff):
    fresh = set_item(item_in(S.SUBMITTED), submitted_at=NOW() - timedelta(hours=2))
    two_days = set_item(item_in(S.IN_REVIEW), submitted_at=NOW() - timedelta(days=2))  # the moderator's
    old = set_item(item_in(S.SUBMITTED), submitted_at=NOW() - timedelta(days=10), sla_due_at=NOW() - timedelta(days=7))
    theirs = item_in(S.SUBMITTED)
    services.item_assign(item_id=theirs.pk, actor=staff["moderator2"])
    client = client_for("moderator")

    assert fresh.pk in shown(client, age="1d") and two_days.pk not in shown(client, age="1d")
    assert shown(client, age="3d") == [two_days.pk]
    assert shown(client, age="7d") == []
    assert shown(client, age="older") == [old.pk]
    assert shown(client, sla="breached") == [old.pk]
    assert old.pk not in shown(client, sla="on_time")
    assert shown(client, assigned="me") == [two_days.pk]
    assert shown(client, assigned="others") == [theirs.pk]
    assert set(shown(client, assigned="none")) == {fresh.pk, old.pk}


@pytest.mark.parametrize("param", ["age", "sla", "assigned"])
def test_unknown_filter_values_are_refused(client_for, param):
    assert client_for("moderator").get(queue_url(), {param: "bogus"}).status_code == 302


def test_search_by_url_title_and_seller(client_for, item_in, marketplace):
    seller = factories.SellerFactory(marketplace=marketplace, name="Bargain Bags Ltd", external_id="BB-77")
    tote = item_in(S.SUBMITTED, listing=factories.ListingFactory(marketplace=marketplace, title="Leather TOTE"))
    by_seller = item_in(S.SUBMITTED, listing=factories.ListingFactory(marketplace=marketplace, seller=seller))
    client = client_for("moderator")

    assert shown(client, q=tote.listing.url) == [tote.pk]
    assert shown(client, q=tote.listing.url.replace("https://", "http://") + "/") == [tote.pk]  # normalised
    assert shown(client, q="https://shopnow.example/item/nothing") == []
    assert shown(client, q="http://") == []
    assert shown(client, q="leather to") == [tote.pk]  # part of the title, any case
    assert shown(client, q="bargain") == [by_seller.pk]  # part of the seller's name
    assert shown(client, q="BB-77") == [by_seller.pk]  # the marketplace's seller id
    assert shown(client, q="unheard of") == []


# --- bounded queries ------------------------------------------------------------------------------

#: Session and user, the user's permissions (own and through groups), the marketplace filter's choices,
#: the filtered count, the page's rows, and the session save (three statements): whatever the rows.
QUEUE_QUERIES = 10
FILTERED = {"q": "bag", "lane__exact": "standard", "assigned": "none", "sla": "on_time", "age": "1d", "brand": "acme"}


def queue_queries(client: Client, params: dict, django_assert_max_num_queries) -> list[str]:
    client.get(queue_url(), params)  # warm per-process caches (content types)
    with django_assert_max_num_queries(QUEUE_QUERIES) as captured:
        response = client.get(queue_url(), params)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def full_counts(queries: list[str]) -> list[str]:
    """Counts over the item table with no WHERE clause: the full COUNT(*) the queue must never run."""
    return [
        sql
        for sql in queries
        if sql.upper().startswith("SELECT COUNT(") and "cases_caseitem" in sql and "WHERE" not in sql
    ]


@pytest.mark.parametrize("params", [{}, FILTERED], ids=["queue", "filtered"])
def test_queue_queries_do_not_grow_with_rows_and_never_count_the_whole_table(
    client_for, file_case, params, django_assert_max_num_queries
):
    client = client_for("moderator")
    file_case(3)
    Listing.objects.update(title="Designer bag")
    few = queue_queries(client, params, django_assert_max_num_queries)
    file_case(27)
    Listing.objects.update(title="Designer bag")
    many = queue_queries(client, params, django_assert_max_num_queries)

    assert len(few) == len(many)
    assert not full_counts(many)
    assert len(client.get(queue_url(), params).context["cl"].result_list) == 30


def test_all_items_of_a_large_table_are_estimated_not_counted(client_for, file_case, monkeypatch):
    """Unfiltered, the list counts from the planner's statistics once the table is large (here: any size)."""
    file_case(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_caseitem")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 0)
    client = client_for("moderator")
    client.get(queue_url(), {"status": "all"})
    with CaptureQueriesContext(connection) as captured:
        assert client.get(queue_url(), {"status": "all"}).status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


# --- access ---------------------------------------------------------------------------------------


def test_a_reviewer_sees_no_queue_and_runs_no_action(client_for, item_in):
    item = item_in(S.SUBMITTED)
    reviewer = client_for("reviewer")
    assert reviewer.get(queue_url()).status_code == 403
    assert start_action(reviewer, "assign_to_me", [item]).status_code == 403
    assert apply_decision(reviewer, "accept_items", [item], AcceptForm, "accept").status_code == 403
    assert refreshed(item).status == S.SUBMITTED


def test_staff_who_may_only_view_items_get_no_decision_actions(client_for, item_in, staff_groups):
    item = item_in(S.SUBMITTED)
    viewer = factories.UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(*staff_groups["Moderators"].permissions.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(viewer)

    assert "accept_items" not in client.get(queue_url()).content.decode()
    response = apply_decision(client, "accept_items", [item], AcceptForm, "accept")
    assert response.status_code == 200  # the list again: no action of theirs has that name
    assert refreshed(item).status == S.SUBMITTED


# --- assign and release ---------------------------------------------------------------------------


def test_assign_to_me_and_release_in_bulk(client_for, item_in, staff):
    submitted, theirs, mine = item_in(S.SUBMITTED), item_in(S.SUBMITTED), item_in(S.SUBMITTED)
    services.item_assign(item_id=theirs.pk, actor=staff["moderator2"])
    client = client_for("moderator")

    response = client.post(
        queue_url(),
        {"action": "assign_to_me", ACTION_CHECKBOX_NAME: pks(submitted, theirs, mine), "index": 0},
        follow=True,
    )

    said = messages_of(response)
    assert f"2 items assigned to you: #{submitted.pk}, #{mine.pk}." in said
    assert any(f"Item #{theirs.pk} is assigned to moderator2" in m for m in said)
    assert [refreshed(i).assigned_to for i in (submitted, theirs, mine)] == [
        staff["moderator"],
        staff["moderator2"],
        staff["moderator"],
    ]
    assert refreshed(submitted).status == S.IN_REVIEW

    response = client.post(
        queue_url(), {"action": "release", ACTION_CHECKBOX_NAME: pks(submitted, theirs), "index": 0}, follow=True
    )
    said = messages_of(response)
    assert f"1 item released: #{submitted.pk}." in said
    assert any("only they can release it" in m for m in said)
    assert refreshed(submitted).assigned_to is None
    assert refreshed(theirs).assigned_to == staff["moderator2"]


# --- deciding in bulk -----------------------------------------------------------------------------


def test_a_decision_action_asks_for_confirmation_first(client_for, item_in):
    first, second = item_in(S.SUBMITTED), item_in(S.SUBMITTED)

    response = start_action(client_for("moderator"), "accept_items", [first, second])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Accept: 2 items" in page
    for item in (first, second):
        assert f'name="{ACTION_CHECKBOX_NAME}" value="{item.pk}"' in page
    assert "Statement of reasons for the seller" in page
    assert 'name="accept-take_over"' in page
    assert "delisting job" not in page  # a small selection removes its listings directly
    assert {refreshed(first).status, refreshed(second).status} == {S.SUBMITTED}


@pytest.mark.parametrize("role", DECIDERS)
def test_bulk_accept_of_a_few_items_removes_their_listings_directly(client_for, item_in, staff, role):
    first, second = item_in(S.SUBMITTED), item_in(S.IN_REVIEW)
    take_over = {} if role == "moderator" else {"take_over": True}  # the second is the moderator's

    response = apply_decision(
        client_for(role), "accept_items", [first, second], AcceptForm, "accept", message="Fake logo.", **take_over
    )

    assert f"2 items accepted: #{first.pk}, #{second.pk}." in messages_of(response)
    for item in (first, second):
        item = refreshed(item)
        assert (item.status, item.decided_by) == (S.ACCEPTED, staff[role])
        assert item.listing.status == ListingStatus.REMOVED
        assert len(listing_removals(item.listing)) == 1
        assert StatementOfReasons.objects.get(item=item).facts == "Fake logo."
    assert not DelistJob.objects.exists()


def test_bulk_accept_of_many_items_removes_their_listings_through_one_job(client_for, item_in, settings, staff):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "ADMIN_DIRECT_ACCEPT_MAX": 2, "DELIST_CHUNK_SIZE": 2}
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    client = client_for("moderator")
    assert "one delisting job" in start_action(client, "accept_items", items).content.decode()

    response = apply_decision(client, "accept_items", items, AcceptForm, "accept", message="Counterfeits.")

    job = DelistJob.objects.get()
    [success] = [m for m in response.context["messages"] if "accepted" in str(m)]
    assert reverse("admin:listings_delistjob_change", args=[job.pk]) in str(success)
    assert f"removed in the background by delisting job #{job.pk}." in strip_tags(str(success))
    assert (job.selection_kind, job.actor, job.status) == (
        CASE_ITEMS,
        staff["moderator"],
        DelistJobStatus.PLANNING,
    )
    assert job.selection["item_ids"] == sorted(pks(*items))
    assert job.selection["listing_ids"] == sorted(item.listing_id for item in items)
    for item in items:
        item = refreshed(item)
        assert item.status == S.ACCEPTED
        assert StatementOfReasons.objects.filter(item=item).count() == 1
        assert item.listing.status == ListingStatus.ACTIVE  # until the job runs
        assert listing_removals(item.listing) == []

    assert delisting.delist_job_plan(job_id=job.pk)
    for chunk_id in job.chunks.order_by("seq").values_list("pk", flat=True):
        assert delisting.delist_chunk_process(chunk_id=chunk_id) == delisting.ChunkRun.DONE

    assert refreshed(job).status == DelistJobStatus.COMPLETED
    for item in items:
        listing = refreshed(item.listing)
        assert listing.status == ListingStatus.REMOVED
        [removal] = listing_removals(listing)
        assert (removal.actor, removal.data) == (staff["moderator"], {"delist_job": job.pk})


def test_bulk_reject_and_clarify(client_for, item_in, staff):
    rejected = [item_in(S.SUBMITTED) for _ in range(2)]
    asked = [item_in(S.SUBMITTED) for _ in range(2)]
    client = client_for("lead")

    apply_decision(client, "reject_items", rejected, RejectForm, "reject", code=RejectionCode.AUTHORISED_SELLER)
    apply_decision(client, "clarify_items", asked, ClarifyForm, "clarify", message="Which mark?")

    for item in rejected:
        item = refreshed(item)
        assert (item.status, item.rejection_code, item.decided_by) == (
            S.REJECTED,
            RejectionCode.AUTHORISED_SELLER,
            staff["lead"],
        )
        assert item.listing.status == ListingStatus.ACTIVE
    for item in asked:
        assert (refreshed(item).status, refreshed(item).moderator_message) == (S.CLARIFICATION_REQUESTED, "Which mark?")


def test_a_bulk_decision_reports_refusals_without_aborting_the_others(client_for, item_in, staff):
    waiting = item_in(S.SUBMITTED)
    decided = item_in(S.REJECTED)
    theirs = item_in(S.SUBMITTED)
    services.item_assign(item_id=theirs.pk, actor=staff["moderator2"])
    client = client_for("moderator")

    response = apply_decision(client, "accept_items", [waiting, decided, theirs], AcceptForm, "accept")

    said = messages_of(response)
    assert f"1 item accepted: #{waiting.pk}." in said
    [warning] = [m for m in said if m.startswith("Not accepted")]
    assert "Not accepted: 2 items." in warning
    assert f"Cannot accept item #{decided.pk}: it is rejected" in warning
    assert f"Item #{theirs.pk} is assigned to moderator2; take it over to decide it." in warning
    assert [refreshed(i).status for i in (waiting, decided, theirs)] == [S.ACCEPTED, S.REJECTED, S.IN_REVIEW]

    apply_decision(client, "accept_items", [theirs], AcceptForm, "accept", take_over=True)
    assert (refreshed(theirs).status, refreshed(theirs).decided_by) == (S.ACCEPTED, staff["moderator"])


def test_an_invalid_confirmation_is_shown_again_with_its_errors(client_for, item_in):
    item = item_in(S.SUBMITTED)
    response = apply_decision(client_for("moderator"), "reject_items", [item], RejectForm, "reject")
    assert response.status_code == 200
    assert response.redirect_chain == []
    assert "This field is required." in response.content.decode()
    assert refreshed(item).status == S.SUBMITTED


def test_a_selection_across_pages_takes_the_filtered_queue(client_for, item_in):
    member = set_item(item_in(S.SUBMITTED), lane="expedited")
    standard = item_in(S.SUBMITTED)
    data = {"action": "reject_items", ACTION_CHECKBOX_NAME: [member.pk], "select_across": "1", "index": 0}
    client = client_for("moderator")

    response = client.post(queue_url() + "?lane__exact=expedited", data)
    assert response.status_code == 200
    assert "Reject: 1 item" in response.content.decode()

    apply = {"action": "reject_items", ACTION_CHECKBOX_NAME: [member.pk], "apply": "1"}
    client.post(queue_url() + "?lane__exact=expedited", {**apply, **form_data(RejectForm, "reject", code="duplicate")})
    assert (refreshed(member).status, refreshed(standard).status) == (S.REJECTED, S.SUBMITTED)


def test_a_selection_beyond_the_bulk_limit_is_refused(client_for, item_in, monkeypatch):
    monkeypatch.setattr(queue_admin, "BULK_DECIDE_MAX", 2)
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    data = {"action": "accept_items", ACTION_CHECKBOX_NAME: [items[0].pk], "select_across": "1", "index": 0}

    response = client_for("moderator").post(queue_url(), data, follow=True)

    assert any("Select at most 2 items for one decision" in m for m in messages_of(response))
    assert {refreshed(item).status for item in items} == {S.SUBMITTED}


def test_the_sla_breached_filter_lists_only_items_still_waiting_for_a_decision(client_for, item_in):
    """Issue 14.10: decided items keep their old `sla_due_at`; a breach is of an item not yet decided."""
    past = NOW() - timedelta(hours=1)
    waiting = set_item(item_in(S.SUBMITTED), sla_due_at=past)
    reviewing = set_item(item_in(S.IN_REVIEW), sla_due_at=past)
    accepted = set_item(item_in(S.ACCEPTED), sla_due_at=past)
    rejected = set_item(item_in(S.REJECTED), sla_due_at=NOW() + timedelta(hours=1))
    on_time = set_item(item_in(S.SUBMITTED), sla_due_at=NOW() + timedelta(hours=1))
    client = client_for("moderator")

    assert set(shown(client, sla="breached", status="all")) == {waiting.pk, reviewing.pk}
    assert shown(client, sla="on_time", status="all") == [on_time.pk]
    assert accepted.pk not in shown(client, sla="breached", status="accepted")
    assert rejected.pk not in shown(client, sla="on_time", status="all")
