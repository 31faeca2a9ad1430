"""The association's side in the admin, as the "Association reviewers" group made by the migrations: the
review queue and an application's page (track record, rights, documents, decisions), memberships (suspend,
reinstate), the program report and its CSV; what the group cannot reach (case items, evidence, listings);
and bounded query counts on the reviewer's pages."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from brands.choices import ApplicationStatus, MembershipStatus
from brands.models import (
    ApplicationDocument,
    InformationRequest,
    IPRightDocument,
    ProgramApplication,
    ProgramMembership,
)
from brands.services import applications
from cases.models import CaseItem, Evidence
from core.audit.models import AuditEvent
from listings.models import Listing
from marketsafe.management.commands import seed_demo
from reports.views import PROGRAM_CSV_HEADER
from tests import factories
from tests.brands.test_program import DETAILS
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

REPORT = "/admin/program/"


@pytest.fixture
def reviewer_client(client):
    client.force_login(staff_in(seed_demo.ASSOCIATION_REVIEWERS, "rosa"))
    return client


@pytest.fixture
def moderator_client(client):
    client.force_login(staff_in(seed_demo.MODERATORS, "mona"))
    return client


@pytest.fixture
def application(brand, owner, right) -> ProgramApplication:
    return applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )


def change_url(obj) -> str:
    return reverse(f"admin:brands_{obj._meta.model_name}_change", args=[obj.pk])


def act_url(obj, action: str) -> str:
    return reverse(f"admin:brands_{obj._meta.model_name}_act", args=[obj.pk, action])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_application_page_shows_the_track_record_rights_and_decisions(
    reviewer_client, application, file_case, right
):
    file_case(3)
    page = reviewer_client.get(change_url(application))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Track record in the standard lane" in html
    record = page.context["track_record"]
    assert (record.lane, record.overall.filed) == ("standard", 3)
    assert str(right) in html
    assert [action.name for action, _, _ in page.context["action_forms"]] == [
        "start_review",
        "approve",
        "request_info",
        "reject",
    ]
    # Aggregates only: the brand's items and listings are not on the reviewer's page.
    for listing in Listing.objects.all():
        assert listing.url not in html


def test_a_reviewer_decides_through_the_admin(reviewer_client, application, django_capture_on_commit_callbacks):
    response = reviewer_client.post(act_url(application, "request_info"), {"request_info-message": "Send proof."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INFO_REQUESTED
    assert InformationRequest.objects.get().message == "Send proof."

    refused = reviewer_client.post(act_url(application, "approve"), {}, follow=True)
    assert (
        "Approve: This application cannot be approved: it is information requested, and only an application that"
        " is submitted or under review can." in messages_of(refused)
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INFO_REQUESTED

    missing = reviewer_client.post(act_url(application, "reject"), {}, follow=True)
    assert any("Reason, sent to the brand" in message for message in messages_of(missing))

    ProgramApplication.objects.filter(pk=application.pk).update(status=ApplicationStatus.UNDER_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(act_url(application, "approve"), {"approve-renews_on": "", "approve-reason": ""})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    membership = application.membership
    page = reviewer_client.get(change_url(membership))
    assert [action.name for action, _, _ in page.context["action_forms"]] == ["suspend"]
    reviewer_client.post(act_url(membership, "suspend"), {"suspend-reason": "Complaints."})
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.SUSPENDED
    reviewer_client.post(act_url(membership, "reinstate"), {"reinstate-reason": ""})
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_a_moderator_cannot_decide_applications_or_see_the_report(moderator_client, application):
    assert moderator_client.post(act_url(application, "approve"), {}).status_code == 403
    assert moderator_client.get(REPORT).status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_a_reviewer_cannot_open_case_items_evidence_or_listings(reviewer_client, file_case):
    case = file_case()
    item = CaseItem.objects.get(case=case)
    evidence = Evidence.objects.get(case=case)
    assert reviewer_client.get(reverse("admin:cases_caseitem_changelist")).status_code == 403
    assert reviewer_client.get(reverse("admin:cases_caseitem_change", args=[item.pk])).status_code == 403
    assert reviewer_client.get(reverse("admin:cases_evidence_download", args=[evidence.pk])).status_code == 403
    assert reviewer_client.get(reverse("admin:cases_evidence_change", args=[evidence.pk])).status_code == 403
    assert reviewer_client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code == 403
    assert reviewer_client.get(reverse("admin:listings_listing_changelist")).status_code == 403
    assert reviewer_client.get(reverse("admin:sla")).status_code == 403
    # Brands and rights are read-only for them.
    right_page = reviewer_client.get(reverse("admin:brands_ipright_change", args=[case.rights.get().pk]))
    assert right_page.status_code == 200 and right_page.context["has_change_permission"] is False
    index = reviewer_client.get(reverse("admin:index")).content.decode()
    assert REPORT in index and "/admin/cases/" not in index


def test_application_and_right_documents_download_from_the_application_page(
    reviewer_client, application, owner, right, other_brand
):
    document = factories.stored_document(ApplicationDocument, application=application, uploaded_by=owner)
    certificate = factories.stored_document(
        IPRightDocument, right=right, uploaded_by=owner, name="cert.pdf", content=b"%PDF-1.7 cert"
    )
    base = reverse("admin:brands_programapplication_document", args=[application.pk, document.pk])
    response = reviewer_client.get(base)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.7 test"
    cert_url = reverse("admin:brands_programapplication_document", args=[application.pk, certificate.pk])
    assert b"".join(reviewer_client.get(cert_url + "?right=1").streaming_content) == b"%PDF-1.7 cert"
    # A right the application does not cover is not reachable through it.
    foreign = factories.stored_document(
        IPRightDocument, right=factories.IPRightFactory(brand=other_brand), uploaded_by=owner
    )
    foreign_url = reverse("admin:brands_programapplication_document", args=[application.pk, foreign.pk])
    assert reviewer_client.get(foreign_url + "?right=1").status_code == 404


# --- the report ---------------------------------------------------------------------------------------


def test_the_report_shows_aggregates_only_in_html_and_csv(reviewer_client):
    call_command("seed_demo", stdout=io.StringIO())
    page = reviewer_client.get(REPORT)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Members: 1 with the expedited lane" in html
    assert html.count('<svg class="chart-svg"') == 3
    download = reviewer_client.get(REPORT, {"format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == PROGRAM_CSV_HEADER
    assert {row[0] for row in rows[1:]} <= {
        "members",
        "applications",
        "applications_decided",
        "applications_submitted",
        "median_days_to_decide_application",
        "items_filed",
        "items_decided",
        "items_accepted",
        "acceptance_rate",
        "median_hours_to_decision",
        # Seller networks (investigations): actions on whole networks, counts and sizes only.
        "network_actions_executed",
        "network_actions_pending",
        "network_sellers_acted_on",
        "largest_network_acted_on",
    }
    filed = sum(int(row[3]) for row in rows if row[0] == "items_filed")
    assert filed == CaseItem.objects.filter(submitted_at__gte=timezone.now() - timezone.timedelta(days=366)).count()

    listings = Listing.objects.select_related("seller").filter(pk__in=CaseItem.objects.values("listing_id"))
    assert listings.exists()
    for listing in listings:
        for output in (html, text):
            assert listing.url not in output
            assert listing.title not in output
            if listing.seller:
                assert listing.seller.name not in output and listing.seller.external_id not in output
    for output in (html, text):
        assert "caseitem" not in output and "Item #" not in output
    # Item ids appear nowhere as figures either: every number in the CSV is a count, a rate or a duration.
    item_ids = {str(pk) for pk in CaseItem.objects.values_list("pk", flat=True)}
    assert not {row[2] for row in rows[1:]} & item_ids


# --- query counts -------------------------------------------------------------------------------------


def page_queries(client, url: str, django_assert_max_num_queries, limit: int) -> int:
    client.get(url)  # warm the content type and permission caches
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", ["/admin/brands/programapplication/", "/admin/brands/programmembership/", REPORT])
def test_the_reviewers_lists_run_the_same_queries_for_more_rows(
    reviewer_client, url, django_assert_max_num_queries, file_case
):
    def add(n: int) -> None:
        for _ in range(n):
            factories.ProgramMembershipFactory()
            factories.ProgramApplicationFactory()

    add(1)
    file_case(2)
    few = page_queries(reviewer_client, url, django_assert_max_num_queries, 16)
    add(6)
    file_case(5)
    assert page_queries(reviewer_client, url, django_assert_max_num_queries, 16) == few


def test_the_application_page_runs_the_same_queries_for_more_rights_and_documents(
    reviewer_client, brand, owner, application, django_assert_max_num_queries
):
    url = change_url(application)
    few = page_queries(reviewer_client, url, django_assert_max_num_queries, 30)
    rights = [factories.IPRightFactory(brand=brand) for _ in range(4)]
    for right in rights:
        factories.stored_document(IPRightDocument, right=right, uploaded_by=owner)
    application.rights.add(*rights)
    for n in range(3):
        factories.stored_document(ApplicationDocument, application=application, uploaded_by=owner)
        InformationRequest.objects.create(application=application, message=f"Question {n}", requested_by=owner)
    assert page_queries(reviewer_client, url, django_assert_max_num_queries, 30) == few


def test_a_refused_membership_move_shows_its_reason_on_the_page(reviewer_client, brand, owner):
    membership = factories.ProgramMembershipFactory(brand=brand)
    # Reinstate is not offered on an active membership's page; a stale page may still post it.
    refused = reviewer_client.post(act_url(membership, "reinstate"), {"reinstate-reason": ""}, follow=True)
    assert refused.redirect_chain[-1][0] == change_url(membership)
    assert messages_of(refused) == [
        "Reinstate: This membership cannot be reinstated: it is active, and only a membership that is suspended can."
    ]
    ProgramMembership.objects.filter(pk=membership.pk).update(
        status=MembershipStatus.SUSPENDED, suspended_at=timezone.now(), renews_on=timezone.localdate()
    )
    late = reviewer_client.post(act_url(membership, "reinstate"), {"reinstate-reason": ""}, follow=True)
    assert messages_of(late) == [
        f"Reinstate: This membership reached its renewal date ({timezone.localdate():%Y-%m-%d}); the brand"
        " applies again."
    ]
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.SUSPENDED
    assert not AuditEvent.objects.filter(action="membership.reinstate").exists()
