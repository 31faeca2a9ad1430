"""The dashboard's figures, computed by the database from items in every outcome, and its page."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import selectors, services
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import CaseItem
from tests import factories
from tests.cases.test_lists import page_queries

pytestmark = pytest.mark.django_db

S = ItemStatus
HOUR = timedelta(hours=1)


def last_week_monday_noon() -> datetime:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday() + 7)
    return timezone.make_aware(datetime.combine(monday, time(12)))


@pytest.fixture
def outcomes(file_case, moderator, reporter):
    """Items of the acme brand in every outcome; the decided ones took 1 to 9 hours, filed last week.

    accepted: a (accepted), b (final), c (reinstated: brand accepted the counter-notice), d (upheld),
    l (reinstated: the brand let the counter-notice lapse), m (counter-noticed), j (trademark_title);
    rejected: e (rejected), f (under appeal against the rejection); no decision: g (clarification),
    h (withdrawn), i (submitted); k: accepted 100 days ago, outside the 90-day window.
    """
    statuses = {
        "a": S.ACCEPTED,
        "b": S.FINAL,
        "c": S.REINSTATED,
        "d": S.UPHELD,
        "e": S.REJECTED,
        "f": S.APPEALED,
        "g": S.CLARIFICATION_REQUESTED,
        "h": S.WITHDRAWN,
        "i": S.SUBMITTED,
        "k": S.ACCEPTED,
        "l": S.COUNTER_NOTICED,
        "m": S.COUNTER_NOTICED,
    }
    items = dict(zip(statuses, file_case(len(statuses)).items.order_by("pk"), strict=True))
    items["j"] = file_case(1, reason_code="trademark_title").items.get()
    statuses["j"] = S.ACCEPTED
    for name, status in statuses.items():
        drive_item_to(items[name], status, moderator=moderator, brand_user=reporter)
    due = CaseItem.objects.get(pk=items["l"].pk).brand_answer_due_at
    services.item_lapse(item_id=items["l"].pk, now=due + timedelta(seconds=1))

    base = last_week_monday_noon()
    CaseItem.objects.exclude(pk=items["k"].pk).update(submitted_at=base)
    for hours, name in enumerate("abcdefjlm", start=1):
        CaseItem.objects.filter(pk=items[name].pk).update(decided_at=base + hours * HOUR)
    now = timezone.now()
    CaseItem.objects.filter(pk=items["k"].pk).update(
        submitted_at=now - timedelta(days=101), decided_at=now - timedelta(days=100)
    )
    return {name: CaseItem.objects.get(pk=item.pk) for name, item in items.items()}


def test_accuracy_overall_and_per_reason(outcomes, brand, reporter):
    figures = selectors.dashboard(user=reporter, brand=brand)
    overall = figures.overall
    assert (overall.decided, overall.accepted, overall.successful_counter_notices) == (9, 7, 2)
    assert overall.acceptance_rate == pytest.approx(7 / 9)
    assert overall.counter_notice_rate == pytest.approx(2 / 7)
    # PERCENTILE_CONT over 1…9 hours: the median is 5 h, the 95th percentile 8.6 h (interpolated).
    assert overall.median_seconds == pytest.approx(5 * 3600)
    assert overall.p95_seconds == pytest.approx(8.6 * 3600)
    assert [(r.reason_code, r.decided, r.accepted, r.successful_counter_notices) for r in figures.by_reason] == [
        ("counterfeit", 8, 6, 2),
        ("trademark_title", 1, 1, 0),
    ]
    assert figures.by_reason[1].label == "Trademark misuse in title or description"


def test_open_items_and_what_waits_for_the_brand(outcomes, brand, reporter):
    figures = selectors.dashboard(user=reporter, brand=brand)
    assert figures.active_by_status == [
        ("submitted", "Submitted", 1),
        ("clarification_requested", "Clarification requested", 1),
        ("accepted", "Accepted: listing removed", 3),
        ("counter_noticed", "Counter-notice received", 1),
        ("appealed", "Under appeal", 1),
    ]
    # The counter-notice (10 days to answer) comes before the clarification request (14 days).
    assert [item.pk for item in figures.waiting] == [outcomes["m"].pk, outcomes["g"].pk]
    assert figures.waiting_total == 2


def test_the_weekly_series_covers_twelve_weeks(outcomes, brand, reporter):
    weeks = selectors.dashboard(user=reporter, brand=brand).weeks
    assert len(weeks) == 12
    assert weeks[-2].week == last_week_monday_noon().date()
    assert (weeks[-2].filed, weeks[-2].decided) == (12, 9)
    assert sum(w.filed for w in weeks) == 12 and sum(w.decided for w in weeks) == 9


def test_another_brands_items_do_not_count(outcomes, brand, other_brand, reporter, moderator):
    outsider = factories.MembershipFactory(brand=other_brand).user
    case = services.case_submit(
        request=factories.filing_request(
            brand=other_brand,
            actor=outsider,
            explanation="Theirs.",
            rights=[factories.IPRightFactory(brand=other_brand)],
            listing_urls=["https://shopnow.example/item/OTHER1"],
            signed_name="Other Owner",
        )
    )
    drive_item_to(case.items.get(), S.REJECTED, moderator=moderator, brand_user=outsider)
    assert selectors.dashboard(user=reporter, brand=brand).overall.decided == 9


def test_the_page_shows_the_figures_and_an_accessible_chart(client: Client, outcomes, brand, reporter):
    client.force_login(reporter)
    html = client.get(reverse("cases:dashboard", kwargs={"brand_slug": brand.slug})).content.decode()
    assert "77.8%" in html and "28.6%" in html
    assert "5.0 hours" in html and "8.6 hours" in html
    assert 'role="img"' in html and '<title id="weekly-title">' in html
    assert "Filed: 12 in total; Decided: 9 in total" in html
    assert f"#item-{outcomes['m'].pk}" in html
    assert "Answer the seller's counter-notice" in html


def test_an_empty_dashboard_says_so(client: Client, brand, reporter):
    client.force_login(reporter)
    html = client.get(reverse("cases:dashboard", kwargs={"brand_slug": brand.slug})).content.decode()
    assert "Nothing waits for you." in html
    assert "No decisions in the last 90 days." in html
    assert "n/a" in html


#: Session, user, brand, membership, switcher; open items by status, the waiting items, accuracy overall
#: and per reason, filed and decided per week; the MarketSafe membership (for its warning). No session write
#: on a read (core/sessions.py).
DASHBOARD_QUERIES = 12


def test_dashboard_queries_do_not_grow_with_items(
    client: Client, brand, reporter, moderator, file_case, django_assert_max_num_queries
):
    client.force_login(reporter)
    url = reverse("cases:dashboard", kwargs={"brand_slug": brand.slug})

    def add(n: int) -> None:
        for item in file_case(n).items.all():
            drive_item_to(item, S.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)

    add(5)
    few = page_queries(client, url, django_assert_max_num_queries, DASHBOARD_QUERIES)
    add(45)
    many = page_queries(client, url, django_assert_max_num_queries, DASHBOARD_QUERIES)
    assert few == many
