"""The DSA transparency report (`reports.dsa`, `admin:dsa_report`): every figure against hand-computed values
from items driven through the real services and placed at known times, the marketplace scope, the medians
(PERCENTILE_CONT), the period's default, the exports (CSV one row per field, JSON by section and field id),
who may read it, that no brand or listing appears in it, and that its queries do not grow with the data."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from brands.choices import Lane
from cases.choices import (
    AppealStatus,
    AppellantSide,
    AutomatedDecision,
    DecisionGround,
    ItemStatus,
    ReasonCode,
    SourceType,
)
from cases.demo import drive_item_to
from cases.models import Appeal, Case, CaseItem, StatementOfReasons
from listings.choices import PenaltyAction
from listings.models import SellerPenalty
from marketsafe.management.commands import seed_demo
from reports.dsa import CSV_HEADER, NOT_APPLICABLE, Period, dsa_report, last_full_year, recent_periods
from tests import factories
from tests.cases.test_lists import page_queries
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

S = ItemStatus
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
URL = "/admin/dsa/"


def at(month: int, day: int, hour: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def place(item: CaseItem, *, submitted: datetime, took_hours: float | None = None) -> None:
    """Sets when an item was submitted and, if decided, when (its statements are dated with the decision)."""
    fields = {"submitted_at": submitted}
    if took_hours is not None:
        fields["decided_at"] = submitted + timedelta(hours=took_hours)
        StatementOfReasons.objects.filter(item=item).update(created_at=fields["decided_at"])
    CaseItem.objects.filter(pk=item.pk).update(**fields)


@pytest.fixture
def world(file_case, moderator, reporter, marketplace):
    """On ShopNow in 2025 (names say what happens to each item):

    - a standard counterfeit filing of four listings: `a` accepted after 2 h, `b` accepted after 4 h, `c`
      rejected after 10 h, `d` waiting;
    - a trusted flagger's (expedited) copyright filing of two: `e` accepted after 1 h, `f` accepted after 9 h,
      on the terms and conditions, partially automated, detected by automated means;
    - `g` accepted in 2024 (out of the period).

    Actions' medians: all (1, 2, 4, 9) → 3 h; trusted (1, 9) → 5 h; other (2, 4) → 3 h; decisions (1, 2, 4,
    9, 10) → 4 h. Complaints: a seller's on `a` (filed 1 Mar, upheld after 6 h), the notifier's on `c` (1
    Apr, reversed after 24 h), a seller's on `b` (30 Dec, open), a seller's on `e` filed in 2024 and upheld
    after 26 h on 1 Jan 2025: received 3, decided 3 (6, 24, 26 → median 24 h), pending at the end 1.
    Penalties in 2025: a warning, an automated suspension, a termination; a suspension in 2024.
    Elsewhere: one listing on another marketplace, accepted in 2025.
    """
    standard = list(file_case(4).items.order_by("pk"))
    trusted_case = file_case(2, reason_code=ReasonCode.COPYRIGHT)
    Case.objects.filter(pk=trusted_case.pk).update(lane=Lane.EXPEDITED)
    CaseItem.objects.filter(case=trusted_case).update(lane=Lane.EXPEDITED)
    trusted = list(trusted_case.items.order_by("pk"))
    (g,) = file_case(1).items.all()
    factories.MarketplaceFactory(name="Elsewhere", slug="elsewhere", hosts=["elsewhere.example"])
    (other,) = file_case(listing_urls=["https://elsewhere.example/item/E1"]).items.all()
    a, b, c, d = standard
    e, f = trusted
    plan = [(a, S.ACCEPTED, 2), (b, S.ACCEPTED, 4), (c, S.REJECTED, 10), (e, S.ACCEPTED, 1), (f, S.ACCEPTED, 9)]
    for item, status, _ in [*plan, (g, S.ACCEPTED, 0), (other, S.ACCEPTED, 0)]:
        drive_item_to(item, status, moderator=moderator, brand_user=reporter)
    for n, (item, _, hours) in enumerate(plan):
        place(item, submitted=at(2, 1 + n), took_hours=hours)
    place(d, submitted=at(6, 1))
    place(g, submitted=at(3, 1, year=2024), took_hours=5)
    place(other, submitted=at(5, 1), took_hours=100)
    for filed, when in ((standard[0].case_id, at(2, 1)), (trusted_case.pk, at(2, 4)), (g.case_id, at(3, 1, year=2024))):
        Case.objects.filter(pk=filed).update(submitted_at=when)
    Case.objects.filter(pk=other.case_id).update(submitted_at=at(5, 1))
    StatementOfReasons.objects.filter(item=f).update(
        decision_ground=DecisionGround.INCOMPATIBLE_CONTENT,
        automated_decision=AutomatedDecision.PARTIALLY,
        automated_detection=True,
        source_type=SourceType.TRUSTED_FLAGGER,
    )

    def appeal(item, side, contested, filed, hours=None, status=AppealStatus.OPEN):
        decided = filed + timedelta(hours=hours) if hours is not None else None
        Appeal.objects.create(
            item=item,
            appellant=side,
            grounds="Grounds.",
            contested_status=contested,
            filed_at=filed,
            status=status,
            decided_at=decided,
            decided_by=moderator if decided else None,
        )

    appeal(a, AppellantSide.SELLER, S.ACCEPTED, at(3, 1, 10), 6, AppealStatus.UPHELD)
    appeal(c, AppellantSide.BRAND, S.REJECTED, at(4, 1), 24, AppealStatus.OVERTURNED)
    appeal(b, AppellantSide.SELLER, S.ACCEPTED, at(12, 30))
    appeal(e, AppellantSide.SELLER, S.ACCEPTED, at(1, 1, 2) - timedelta(hours=26), 26, AppealStatus.UPHELD)
    seller = a.listing.seller or factories.SellerFactory(marketplace=marketplace)
    for action, when, automated in [
        (PenaltyAction.WARN, at(1, 10), True),
        (PenaltyAction.SUSPEND, at(2, 10), True),
        (PenaltyAction.TERMINATE, at(3, 10), False),
        (PenaltyAction.SUSPEND, at(3, 10, year=2024), True),
    ]:
        SellerPenalty.objects.create(
            seller=seller, action=action, active_strikes=1, applied_at=when, automated=automated
        )
    return {"marketplace": marketplace}


def values(report) -> dict:
    return {figure.id: figure.value for _, figure in report.figures()}


def test_every_figure_matches_the_hand_computed_values(world):
    got = values(dsa_report(period=YEAR, marketplace=world["marketplace"]))
    expected = {
        "orders.act_against_illegal_content": NOT_APPLICABLE,
        "notices.received.total": 6,
        "notices.received.filings": 2,
        "notices.received.trusted_flaggers": 2,
        "notices.by_category.STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": 6,
        "notices.by_category_specification.KEYWORD_TRADEMARK_INFRINGEMENT": 4,
        "notices.by_category_specification.KEYWORD_COPYRIGHT_INFRINGEMENT": 2,
        "notices.by_category_specification.KEYWORD_PATENT_INFRINGEMENT": 0,
        "notices.decided": 5,
        "notices.actions.total": 4,
        "notices.actions.trusted_flaggers": 2,
        "notices.no_action": 1,
        "notices.actions.legal_ground": 3,
        "notices.actions.terms_and_conditions": 1,
        "notices.actions.automated": 1,
        "notices.median_hours_to_action": 3.0,
        "notices.median_hours_to_action.trusted_flaggers": 5.0,
        "notices.median_hours_to_action.other_notifiers": 3.0,
        "notices.median_hours_to_decision": 4.0,
        "own_initiative.actions.legal_ground": 0,
        "complaints.received": 3,
        "complaints.received.from_recipients": 2,
        "complaints.received.from_notifiers": 1,
        "complaints.basis.against_removal": 2,
        "complaints.basis.against_refusal": 1,
        "complaints.decided": 3,
        "complaints.outcome.upheld": 2,
        "complaints.outcome.reversed": 1,
        "complaints.pending_at_end": 1,
        "complaints.median_hours_to_decide": 24.0,
        "out_of_court.disputes": 0,
        "out_of_court.outcomes": NOT_APPLICABLE,
        "suspensions.manifestly_illegal_content": 2,
        "suspensions.manifestly_illegal_content.temporary": 1,
        "suspensions.manifestly_illegal_content.terminations": 1,
        "suspensions.manifestly_illegal_content.automated": 1,
        "suspensions.prior_warnings": 1,
        "suspensions.manifestly_unfounded_notices": 0,
        "suspensions.manifestly_unfounded_complaints": 0,
        "automated.detection": 1,
        "automated.decision.partially": 1,
        "automated.decision.not_automated": 3,
    }
    assert {key: got[key] for key in expected} == expected


def test_all_marketplaces_add_the_other_one_and_an_empty_period_has_no_median(world):
    everywhere = values(dsa_report(period=YEAR))
    assert everywhere["notices.received.total"] == 7
    assert everywhere["notices.received.filings"] == 3
    assert everywhere["notices.actions.total"] == 5
    assert everywhere["notices.median_hours_to_action"] == 4.0  # 1, 2, 4, 9, 100
    empty = values(dsa_report(period=Period(date(2023, 1, 1), date(2023, 12, 31))))
    assert empty["notices.received.total"] == 0
    assert empty["notices.median_hours_to_action"] is None


def test_the_report_runs_six_queries_whatever_the_data(world, django_assert_num_queries, file_case):
    with django_assert_num_queries(6):
        dsa_report(period=YEAR, marketplace=world["marketplace"])
    for _ in range(3):
        file_case(5)
    with django_assert_num_queries(6):
        dsa_report(period=YEAR)


def test_the_default_period_is_the_last_full_calendar_year():
    assert last_full_year(date(2026, 3, 15)) == Period(date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(ValueError):
        Period(date(2025, 2, 1), date(2025, 1, 1))


@pytest.fixture
def moderator_client(client):
    client.force_login(staff_in(seed_demo.MODERATORS, "mona"))
    return client


QUERY = {"start": "2025-01-01", "end": "2025-12-31"}


def test_the_page_shows_every_section_and_charts_and_names_no_brand_or_listing(moderator_client, world, brand):
    page = moderator_client.get(URL, {**QUERY, "marketplace": world["marketplace"].pk})
    assert page.status_code == 200
    html = page.content.decode()
    for heading in ("1.2 ", "1.3 ", "1.4 ", "1.5 ", "1.6 "):
        assert f">{heading}" in html
    assert [chart in html for chart in ("dsa-reasons", "dsa-grounds", "dsa-medians")] == [True] * 3
    assert brand.name not in html and "shopnow.example/item" not in html
    assert "notices.median_hours_to_action" in html


def test_the_page_defaults_to_the_last_full_year(moderator_client):
    page = moderator_client.get(URL)
    default = last_full_year()
    assert page.status_code == 200
    assert page.context["report"].period == default
    assert page.context["form"]["start"].value() == default.start


def test_a_bad_period_is_refused_on_the_form(moderator_client):
    page = moderator_client.get(URL, {"start": "2025-06-01", "end": "2025-01-01"})
    assert page.status_code == 400
    assert page.context["form"].errors["end"] == ["The period ends on or after its first day."]
    assert moderator_client.get(URL, {"start": "2020-01-01", "end": "2025-01-01"}).status_code == 400


def test_the_json_export_has_the_sections_and_field_ids(moderator_client, world, brand):
    response = moderator_client.get(URL, {**QUERY, "marketplace": world["marketplace"].pk, "format": "json"})
    assert response["Content-Disposition"] == 'attachment; filename="dsa-transparency-20250101-20251231-shopnow.json"'
    data = json.loads(response.content)
    assert data["template"].startswith("Commission Implementing Regulation (EU) 2024/2835")
    assert data["report"] == {
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "service": "ShopNow",
        "generated_at": data["report"]["generated_at"],
    }
    sections = {section["id"]: section for section in data["sections"]}
    assert list(sections) == ["1.2", "1.3", "1.4", "1.5", "1.6"]
    assert sections["1.3"]["fields"]["notices.median_hours_to_action"]["value"] == 3.0
    assert sections["1.5"]["fields"]["complaints.outcome.reversed"]["value"] == 1
    assert brand.name not in json.dumps(data) and "shopnow.example/item" not in json.dumps(data)


def test_the_csv_export_has_one_row_per_field(moderator_client, world):
    response = moderator_client.get(URL, {**QUERY, "marketplace": world["marketplace"].pk, "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    report = dsa_report(period=YEAR, marketplace=world["marketplace"])
    assert len(rows) - 1 == len(list(report.figures()))
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id["notices.received.total"][:4] == [
        "1.3",
        "notices.received.total",
        by_id["notices.received.total"][2],
        "6",
    ]
    assert by_id["out_of_court.outcomes"][3] == NOT_APPLICABLE


def test_moderators_leads_and_the_association_read_it_brand_users_do_not(client, member_of):
    for group, name in [
        (seed_demo.MODERATORS, "mona"),
        (seed_demo.MODERATION_LEADS, "leo"),
        (seed_demo.ASSOCIATION_REVIEWERS, "rosa"),
    ]:
        client.force_login(staff_in(group, name))
        assert client.get(URL).status_code == 200, group
        assert reverse("admin:dsa_report") in client.get(reverse("admin:index")).content.decode()
    client.force_login(factories.UserFactory(username="plain-staff", is_staff=True))
    assert client.get(URL).status_code == 403
    client.force_login(member_of())
    assert client.get(URL)["Location"].startswith(reverse("admin:login"))
    client.logout()
    assert client.get(URL, {"format": "json"})["Location"].startswith(reverse("admin:login"))


#: Session, user, the user's and its groups' permissions, the marketplaces of the form, and the report's six
#: aggregates.
PAGE_QUERIES = 11


def test_the_page_queries_do_not_grow_with_the_data(moderator_client, file_case, django_assert_max_num_queries):
    url = f"{URL}?start=2026-01-01&end=2026-12-31"
    few = page_queries(moderator_client, url, django_assert_max_num_queries, PAGE_QUERIES)
    for _ in range(4):
        file_case(6)
    assert page_queries(moderator_client, url, django_assert_max_num_queries, PAGE_QUERIES) == few


def test_the_quick_choices_are_the_last_years_and_half_years():
    choices = dict(recent_periods(date(2026, 3, 15)))
    assert list(choices) == ["2025", "2024", "2023", "H2 2025", "H1 2025"]
    assert choices["H2 2025"] == Period(date(2025, 7, 1), date(2025, 12, 31))
    assert list(dict(recent_periods(date(2026, 8, 1)))) == ["2025", "2024", "2023", "H1 2026", "H2 2025"]


def test_the_page_links_the_quick_choices_keeping_the_marketplace(moderator_client, marketplace):
    page = moderator_client.get(URL, {"marketplace": marketplace.pk})
    choices = page.context["period_choices"]
    assert [current for _, _, current in choices] == [True, False, False, False, False]  # the default: last year
    assert all(f"marketplace={marketplace.pk}" in link and link.count("start=") == 1 for _, link, _ in choices)
    picked = moderator_client.get(URL, {"start": "2024-01-01", "end": "2024-12-31"})
    assert picked.context["query"].count("start=") == 1
