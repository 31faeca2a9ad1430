"""The moderators' SLA page: queue, breaches, oldest items, decision times (median and 95th percentile
by PERCENTILE_CONT), decisions per moderator and per day, from items driven through the real services;
its queries do not grow with the data; only staff who may see case items reach it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from brands.choices import Lane
from cases import services, sla
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import CaseItem
from marketsafe.management.commands.seed_demo import ASSOCIATION_REVIEWERS, MODERATORS
from tests import factories
from tests.cases.test_lists import page_queries
from tests.cases.test_staff_groups import staff_groups  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

S = ItemStatus
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SLA_PAGE = "/admin/sla/"


def place(item: CaseItem, *, lane: str = Lane.STANDARD, submitted_ago: timedelta, took: timedelta | None = None):
    """Sets an item's lane and times: submitted `submitted_ago` before now, decided `took` later, with the
    lane's SLA from submission."""
    now = timezone.now()
    submitted = now - submitted_ago
    hours = 24 if lane == Lane.EXPEDITED else 72
    fields = {"lane": lane, "submitted_at": submitted, "sla_due_at": submitted + hours * HOUR}
    if took is not None:
        fields["decided_at"] = submitted + took
    CaseItem.objects.filter(pk=item.pk).update(**fields)


@pytest.fixture
def world(file_case, moderator, lead, reporter):
    """Every kind of item the page counts or leaves out; names say what they are.

    Standard lane, decided by `moderator` 1 day ago after 1, 2, 3 and 4 hours (the 4-hour rejection's
    appeal was upheld by `lead`), and 10 days ago after 5 hours (`moderator`) and 6 hours (`other`), all
    within the 72-hour SLA; expedited, decided by `moderator` 2 days ago after 30 hours (late). Left out:
    a decision 40 days ago, a rejection the deadline rule applied, a decision an appeal overturned.
    Queue: standard submitted 50 h ago (in time), 80 h ago (late) and 10 h ago (in review); expedited
    submitted 30 h ago (late); not in it: a clarification request (50 days ago) and a withdrawn item.
    """
    other = factories.UserFactory(username="otto", first_name="Otto", last_name="Olsen", is_staff=True)
    names = [
        "d1",
        "d2",
        "d3",
        "d4_upheld",
        "d5",
        "d6_other",
        "exp30",
        "old",
        "lapsed",
        "overturned",
        "q50",
        "q80",
        "q10",
        "exp_queue",
        "clarify",
        "withdrawn",
    ]
    items = dict(zip(names, file_case(len(names)).items.order_by("pk"), strict=True))

    def drive(name, status, by=moderator):
        return drive_item_to(items[name], status, moderator=by, brand_user=reporter)

    for name in ("d1", "d3", "d5", "exp30", "old"):
        drive(name, S.ACCEPTED)
    drive("d2", S.REJECTED)
    drive("d6_other", S.CLARIFICATION_REQUESTED, by=other)
    drive("d4_upheld", S.APPEALED)
    services.item_decide_appeal(item_id=items["d4_upheld"].pk, actor=lead, overturn=False, note="Rightly rejected.")
    drive("overturned", S.APPEALED)
    services.item_decide_appeal(item_id=items["overturned"].pk, actor=lead, overturn=True, note="The logo is fake.")
    drive("lapsed", S.CLARIFICATION_REQUESTED)
    due = CaseItem.objects.get(pk=items["lapsed"].pk).clarification_due_at
    services.item_lapse(item_id=items["lapsed"].pk, now=due + timedelta(seconds=1))
    drive("q10", S.IN_REVIEW)
    drive("clarify", S.CLARIFICATION_REQUESTED)
    drive("withdrawn", S.WITHDRAWN)

    for hours, name in enumerate(("d1", "d2", "d3", "d4_upheld"), start=1):
        place(items[name], submitted_ago=DAY + hours * HOUR, took=hours * HOUR)
    place(items["d5"], submitted_ago=10 * DAY + 5 * HOUR, took=5 * HOUR)
    place(items["d6_other"], submitted_ago=10 * DAY + 6 * HOUR, took=6 * HOUR)
    place(items["exp30"], lane=Lane.EXPEDITED, submitted_ago=2 * DAY + 30 * HOUR, took=30 * HOUR)
    place(items["old"], submitted_ago=40 * DAY + HOUR, took=HOUR)
    place(items["clarify"], submitted_ago=50 * DAY, took=HOUR)
    place(items["lapsed"], submitted_ago=3 * DAY, took=DAY)
    place(items["q50"], submitted_ago=50 * HOUR)
    place(items["q80"], submitted_ago=80 * HOUR)
    place(items["q10"], submitted_ago=10 * HOUR)
    place(items["exp_queue"], lane=Lane.EXPEDITED, submitted_ago=30 * HOUR)
    return {name: CaseItem.objects.get(pk=item.pk) for name, item in items.items()} | {"other": other}


def test_queue_breaches_and_oldest_item_per_lane(world):
    expedited, standard = sla.sla_figures().queues
    assert (expedited.lane, expedited.sla_hours, expedited.open, expedited.breached) == (Lane.EXPEDITED, 24, 1, 1)
    assert expedited.oldest.pk == world["exp_queue"].pk
    assert (standard.lane, standard.sla_hours, standard.open, standard.breached) == (Lane.STANDARD, 72, 3, 1)
    assert standard.oldest.pk == world["q80"].pk


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 6)


def test_time_to_decision_per_lane_and_window(world):
    rows = {row.label: row.windows for row in sla.sla_figures().times}
    assert list(rows) == [Lane.EXPEDITED.label, Lane.STANDARD.label, "All lanes"]

    def figures(label):
        return [(w.days, w.decided, w.within_sla, hours(w.median_seconds), hours(w.p95_seconds)) for w in rows[label]]

    # PERCENTILE_CONT interpolates: over 1…4 h the 95th percentile is 3 + 0.85 * 1 h; over 1…6 h, 5.75 h.
    assert figures(Lane.STANDARD.label) == [(7, 4, 4, 2.5, 3.85), (30, 6, 6, 3.5, 5.75)]
    assert figures(Lane.EXPEDITED.label) == [(7, 1, 0, 30, 30), (30, 1, 0, 30, 30)]
    # 1, 2, 3, 4, 30 h: median 3 h, 95th percentile 4 + 0.8 * 26 h; with 5 and 6 h: 4 h and 6 + 0.7 * 24 h.
    assert figures("All lanes") == [(7, 5, 4, 3, 24.8), (30, 7, 6, 4, 22.8)]
    assert rows["All lanes"][0].within_sla_rate == pytest.approx(4 / 5)


def test_a_lane_without_decisions_has_no_times(file_case):
    expedited = sla.sla_figures().times[0]
    assert [(w.decided, w.median_seconds, w.within_sla_rate) for w in expedited.windows] == [(0, None, None)] * 2


def test_decisions_per_moderator(world, moderator, lead):
    rows = [(row.name, row.items, row.appeals) for row in sla.sla_figures().moderators]
    assert rows == [
        (moderator.username, [5, 6], [0, 0]),
        (lead.username, [0, 0], [2, 2]),
        ("Otto Olsen", [0, 1], [0, 0]),
    ]


def test_decisions_per_day_within_and_past_the_deadline(world):
    days = sla.sla_figures(chart_days=14).days
    assert len(days) == 14 and days[-1].day == timezone.localdate()
    assert (sum(d.within_sla for d in days), sum(d.late for d in days)) == (6, 1)
    late_day = timezone.localdate(world["exp30"].decided_at)
    assert [d.late for d in days if d.day == late_day] == [1]


@pytest.fixture
def sla_moderator(moderator):
    moderator.groups.add(Group.objects.get(name=MODERATORS))
    return moderator


def test_the_page_shows_the_figures(client, world, sla_moderator):
    client.force_login(sla_moderator)
    response = client.get(SLA_PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Queue: 4 waiting, 2 past their deadline" in page
    assert reverse("admin:cases_caseitem_change", args=[world["q80"].pk]) in page
    assert "24.8 hours" in page  # all lanes, 95th percentile over 7 days
    assert "Otto Olsen" in page
    assert '<svg class="chart-svg"' in page
    assert "style=" not in page  # the chart's colours come from the nonce'd stylesheet, not inline styles


def test_the_admin_index_links_to_the_page(client, sla_moderator):
    client.force_login(sla_moderator)
    assert reverse("admin:sla") in client.get(reverse("admin:index")).content.decode()


#: Session, user, the user's and its groups' permissions, the seven figures' queries; no session write on a
#: read (core/sessions.py).
SLA_PAGE_QUERIES = 11


def test_the_page_queries_do_not_grow_with_the_data(
    client, sla_moderator, file_case, reporter, django_assert_max_num_queries
):
    client.force_login(sla_moderator)
    few = page_queries(client, SLA_PAGE, django_assert_max_num_queries, SLA_PAGE_QUERIES)
    moderators = [factories.UserFactory(username=f"mod{n}", is_staff=True) for n in range(4)]
    for n, item in enumerate(file_case(12).items.all()):
        drive_item_to(item, S.ACCEPTED if n % 2 else S.REJECTED, moderator=moderators[n % 4], brand_user=reporter)
    file_case(5)
    assert page_queries(client, SLA_PAGE, django_assert_max_num_queries, SLA_PAGE_QUERIES) == few


def test_only_staff_who_may_see_case_items_reach_the_page(client, member_of):
    reviewer = factories.UserFactory(username="rosa", is_staff=True)
    reviewer.groups.add(Group.objects.get(name=ASSOCIATION_REVIEWERS))
    client.force_login(reviewer)
    assert client.get(SLA_PAGE).status_code == 403
    assert reverse("admin:sla") not in client.get(reverse("admin:index")).content.decode()
    client.force_login(member_of())
    assert client.get(SLA_PAGE)["Location"].startswith(reverse("admin:login"))
