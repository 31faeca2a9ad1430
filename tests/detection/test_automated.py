"""A case filed by automated detection is marked so: to the brand (case page, case list, API), to the
moderators (the review queue's column and filter, the item page), in the audit trail and in the seller's
DSA statement of reasons; and the brand withdraws its item like any other."""

import pytest
from django.urls import reverse

from brands.choices import Role
from brands.models import BrandMembership
from cases import services as case_services
from cases.choices import ItemStatus
from cases.models import Case, StatementOfReasons
from core.audit.models import AuditEvent
from detection.choices import CandidateStatus
from detection.models import ReListingCandidate
from detection.services.candidates import candidates_file_strong
from detection.services.matching import listings_match
from tests import factories
from tests.api_harness import token_client
from tests.cases import test_admin_console as console
from tests.detection.conftest import ORIGINAL_HASH, flip

pytestmark = pytest.mark.django_db

staff_groups, staff = console.staff_groups, console.staff


@pytest.fixture
def automated_case(removed_item, new_listing, seller, brand) -> Case:
    """A re-listing by the same seller, filed automatically (the brand is a MarketSafe member)."""
    factories.ProgramMembershipFactory(brand=brand)
    listing = new_listing("Acme Leather Classic Tote Bag Brown", seller=seller, hashes=[flip(ORIGINAL_HASH, 4)])
    assert candidates_file_strong(candidate_ids=listings_match(listing_ids=[listing.pk])) == 1
    return ReListingCandidate.objects.get(listing=listing).filed_case


def test_the_filing_is_marked_automated_and_audited_as_such(automated_case, removed_item):
    assert automated_case.automated
    assert not Case.objects.get(pk=removed_item.case_id).automated  # a person's filing is not
    submit = AuditEvent.objects.get(action="case.submit", target_id=automated_case.pk)
    assert submit.automated
    item = automated_case.items.get()
    assert AuditEvent.objects.get(action="item.submit", target_id=item.pk).automated


def test_the_brand_sees_the_mark_on_the_case_page_and_list(client, reporter, brand, automated_case, removed_item):
    client.force_login(reporter)
    page = client.get(reverse("cases:case_detail", kwargs={"brand_slug": brand.slug, "pk": automated_case.pk}))
    assert "Automated detection" in page.content.decode()
    earlier = client.get(reverse("cases:case_detail", kwargs={"brand_slug": brand.slug, "pk": removed_item.case_id}))
    assert "Automated detection" not in earlier.content.decode()
    listed = client.get(reverse("cases:case_list", kwargs={"brand_slug": brand.slug})).content.decode()
    assert listed.count("Automated detection") == 1


def test_the_api_says_which_cases_were_filed_automatically(reporter, brand, automated_case):
    client = token_client(BrandMembership.objects.get(user=reporter, brand=brand))
    response = client.get(reverse("cases-api:case-list"))
    assert response.status_code == 200, response.content
    flags = {row["id"]: row["automated"] for row in response.json()["results"]}
    assert flags[automated_case.pk] is True
    assert list(flags.values()).count(True) == 1


def test_moderators_see_and_filter_automated_items_in_the_queue(client, staff, automated_case, file_case):
    client.force_login(staff["moderator"])
    queue = reverse("admin:cases_caseitem_changelist")
    item = automated_case.items.get()
    other = file_case().items.get()
    body = client.get(queue).content.decode()
    assert "Automated detection" in body
    only_automated = client.get(queue, {"case__automated__exact": "1"})
    assert [row.pk for row in only_automated.context["cl"].result_list] == [item.pk]
    not_automated = client.get(queue, {"case__automated__exact": "0"})
    assert item.pk not in [row.pk for row in not_automated.context["cl"].result_list]
    assert other.pk in [row.pk for row in not_automated.context["cl"].result_list]
    page = client.get(reverse("admin:cases_caseitem_change", args=[item.pk])).content.decode()
    assert "Automated detection" in page


def test_the_statement_of_reasons_says_automated_detection(automated_case, moderator, file_case):
    item = automated_case.items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    assert StatementOfReasons.objects.get(item=item).automated_detection is True
    # A moderator's statement override that leaves the box unticked keeps the item's default.
    person = file_case().items.get()
    case_services.item_accept(
        item_id=person.pk, actor=moderator, statement=case_services.StatementInput(automated_detection=None)
    )
    assert StatementOfReasons.objects.get(item=person).automated_detection is False


def test_the_brand_withdraws_the_automated_item_from_the_case_page(client, reporter, brand, automated_case):
    item = automated_case.items.get()
    client.force_login(reporter)
    response = client.post(
        reverse("cases:item_withdraw", kwargs={"brand_slug": brand.slug, "pk": item.pk}),
        {"reason": "Our own stock"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.WITHDRAWN
    assert AuditEvent.objects.get(action="item.withdraw", target_id=item.pk).actor == reporter
    candidate = ReListingCandidate.objects.get(filed_item=item)
    assert candidate.status == CandidateStatus.WITHDRAWN
    event = AuditEvent.objects.get(action="candidate.withdraw", target_id=candidate.pk)
    assert (event.from_state, event.to_state) == (CandidateStatus.FILED, CandidateStatus.WITHDRAWN)


def test_a_viewer_cannot_withdraw_it(client, member_of, brand, automated_case):
    item = automated_case.items.get()
    client.force_login(member_of(Role.VIEWER))
    response = client.post(reverse("cases:item_withdraw", kwargs={"brand_slug": brand.slug, "pk": item.pk}))
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


def test_another_brand_cannot_withdraw_it(client, automated_case):
    other = factories.MembershipFactory(role="owner")
    item = automated_case.items.get()
    client.force_login(other.user)
    response = client.post(reverse("cases:item_withdraw", kwargs={"brand_slug": other.brand.slug, "pk": item.pk}))
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
