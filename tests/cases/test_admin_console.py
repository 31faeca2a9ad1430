"""The moderator console's item page, its decisions, assignment, downloads and appeals, posted through the
admin as each staff group (moderator, moderation lead, association reviewer) and a superuser.

The staff groups come from a migration; `staff_groups` makes sure they hold the permissions these tests
rely on whatever that migration grants, so the tests say which permission each path needs. The queue's
own tests (filters, bulk actions, query counts) are in test_admin_queue.py, which reuses these fixtures.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from brands.models import IPRightDocument
from cases import services
from cases.admin.forms import AcceptForm, ClarifyForm, DecisionForm, RejectForm
from cases.choices import (
    DSA_CATEGORY_IP,
    LEGAL_GROUNDS,
    REJECTION_FIX_GUIDANCE,
    AppealStatus,
    AppellantSide,
    AutomatedDecision,
    CounterNoticeAnswer,
    DecisionGround,
    DecisionVisibility,
    ItemStatus,
    Redress,
    RejectionCode,
    SourceType,
)
from cases.demo import drive_item_to
from cases.models import Appeal, CaseItem, CounterNotice, Evidence, StatementOfReasons
from core.audit.models import AuditEvent
from listings.choices import ListingStatus
from listings.models import Listing, SellerPenalty, Strike
from tests import factories

pytestmark = pytest.mark.django_db

S = ItemStatus

_VIEW_CASES = [("cases", f"view_{model}") for model in ("case", "caseitem", "evidence", "counternotice", "appeal")]
_VIEW_LISTINGS = [("listings", f"view_{model}") for model in ("listing", "seller", "delistjob")]
_MODERATOR = [*_VIEW_CASES, *_VIEW_LISTINGS, ("cases", "view_statementofreasons"), ("cases", "decide_caseitem")]
GROUP_PERMISSIONS = {
    "Moderators": _MODERATOR,
    "Moderation leads": [*_MODERATOR, ("cases", "decide_appeal"), ("listings", "change_delistjob")],
    "Association reviewers": [("brands", "view_programapplication"), ("brands", "view_ipright")],
}
CUSTOM_PERMISSIONS = {"decide_caseitem": "Can decide reported listings", "decide_appeal": "Can decide appeals"}


def _permission(app_label: str, codename: str) -> Permission:
    if codename in CUSTOM_PERMISSIONS:
        permission, _ = Permission.objects.get_or_create(
            content_type=ContentType.objects.get_for_model(CaseItem),
            codename=codename,
            defaults={"name": CUSTOM_PERMISSIONS[codename]},
        )
        return permission
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def staff_groups() -> dict[str, Group]:
    groups = {}
    for name, permissions in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*(_permission(*permission) for permission in permissions))
        groups[name] = group
    return groups


@pytest.fixture
def staff(staff_groups, moderator, lead) -> dict[str, object]:
    """The staff who act in these tests, by role; `moderator2` is a second member of the Moderators."""
    moderator.groups.add(staff_groups["Moderators"])
    lead.groups.add(staff_groups["Moderation leads"])
    moderator2 = factories.UserFactory(username="moderator2", is_staff=True)
    moderator2.groups.add(staff_groups["Moderators"])
    lead2 = factories.UserFactory(username="lead2", is_staff=True)
    lead2.groups.add(staff_groups["Moderation leads"])
    reviewer = factories.UserFactory(username="reviewer", is_staff=True)
    reviewer.groups.add(staff_groups["Association reviewers"])
    superuser = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    return {
        "moderator": moderator,
        "moderator2": moderator2,
        "lead": lead,
        "lead2": lead2,
        "reviewer": reviewer,
        "superuser": superuser,
    }


@pytest.fixture
def client_for(staff) -> Callable[[str], Client]:
    """client_for(role) → a client logged in as that staff member."""

    def make(role: str) -> Client:
        client = Client()
        client.force_login(staff[role])
        return client

    return make


#: Who may decide reported listings (the others get 403).
DECIDERS = ("moderator", "lead", "superuser")


@pytest.fixture
def seller_listing(marketplace):
    """A listing whose seller, price and snapshot the marketplace reported."""
    return factories.ListingFactory(
        marketplace=marketplace,
        title="Leather tote MARK 1",
        price="19.90",
        currency="EUR",
        snapshot={"title": "Leather tote MARK 1", "images": ["front.jpg"], "shipping_from": "XX"},
    )


@pytest.fixture
def item_in(file_case, staff, reporter) -> Callable[..., CaseItem]:
    """item_in(status, listing=None) → an item of a new case, driven to `status` by the moderator."""

    def make(status: str = S.SUBMITTED, listing: Listing | None = None) -> CaseItem:
        case = file_case(listing_urls=[listing.url]) if listing else file_case()
        return drive_item_to(case.items.get(), status, moderator=staff["moderator"], brand_user=reporter)

    return make


def item_url(item: CaseItem, view: str = "change", *args) -> str:
    return reverse(f"admin:cases_caseitem_{view}", args=[item.pk, *args])


def form_data(form_class: type[DecisionForm], prefix: str, **overrides) -> dict:
    """The POST data of a decision form as drawn (its initial values), with `overrides`."""
    form = form_class(prefix=prefix)
    data = {}
    for name in form.fields:
        value = overrides.pop(name, form[name].value())
        if value in (None, "", False, []):
            continue
        data[form.add_prefix(name)] = "on" if value is True else value
    assert not overrides, f"no such fields: {overrides}"
    return data


def messages_of(response) -> list[str]:
    """The page's messages as text (links reduced to their text)."""
    return [strip_tags(str(message)) for message in response.context["messages"]]


#: What each decision's form needs besides its defaults.
REQUIRED_FIELDS = {"accept": {}, "reject": {"code": RejectionCode.DUPLICATE}, "clarify": {"message": "Which mark?"}}


def decide(client: Client, item: CaseItem, decision: str, **fields):
    """Post a decision from the item's page, following the redirect back to it."""
    form_class = {"accept": AcceptForm, "reject": RejectForm, "clarify": ClarifyForm}[decision]
    return client.post(item_url(item, "decide", decision), form_data(form_class, decision, **fields), follow=True)


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- the item page --------------------------------------------------------------------------------


def right_document(right, owner, name: str = "certificate.pdf") -> IPRightDocument:
    content = b"%PDF-1.4 certificate"
    return IPRightDocument.objects.create(
        right=right,
        file=SimpleUploadedFile(name, content, content_type="application/pdf"),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256="0" * 64,
        uploaded_by=owner,
    )


def test_item_page_shows_what_a_decision_needs(client_for, item_in, seller_listing, right, owner, staff):
    right_document(right, owner)
    seller = seller_listing.seller
    Strike.objects.create(
        seller=seller, reason_code="counterfeit", issued_at=timezone.now(), expires_at=timezone.now() + timedelta(1)
    )
    SellerPenalty.objects.create(seller=seller, action="warn", active_strikes=1)
    item_in(S.ACCEPTED, listing=factories.ListingFactory(marketplace=seller_listing.marketplace, seller=seller))
    item = item_in(S.SUBMITTED, listing=seller_listing)

    response = client_for("moderator").get(item_url(item))

    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Leather tote MARK 1",
        "19.90 EUR",
        seller_listing.url,
        "&quot;shipping_from&quot;: &quot;XX&quot;",  # the snapshot, pretty-printed and escaped
        right.name,
        "certificate.pdf",
        item_url(item, "right_document", right.documents.get().pk),
        "evidence.png",
        reverse("admin:cases_evidence_download", args=[item.case.evidence.get().pk]),
        "Fake logo, price a tenth of retail.",  # the notice's explanation
        "Acceptance rate",
        "100.0%",  # the brand's one decision in 90 days was an acceptance
        seller.name,
        "2, of which 1 accepted",  # the seller's reports and removals
        "1 active, 1 in all",  # strikes
        "Warning",  # the penalty
        "item.submit",  # the timeline
    ):
        assert text in page, text
    assert "listing.remove" not in page  # the earlier removal was of another listing


def test_item_page_timeline_shows_the_listings_events_too(client_for, item_in):
    item = item_in(S.ACCEPTED)
    page = client_for("moderator").get(item_url(item)).content.decode()
    assert "item.accept" in page
    assert "listing.remove" in page


@pytest.mark.parametrize(
    ("role", "status", "forms_shown"), [(r, 200, True) for r in DECIDERS] + [("reviewer", 403, False)]
)
def test_item_page_access_and_decision_forms_by_role(client_for, item_in, role, status, forms_shown):
    item = item_in(S.SUBMITTED)
    response = client_for(role).get(item_url(item))
    assert response.status_code == status
    if status == 200:
        assert (item_url(item, "decide", "accept") in response.content.decode()) is forms_shown


def test_item_page_offers_no_decision_once_decided(client_for, item_in):
    item = item_in(S.REJECTED)
    page = client_for("moderator").get(item_url(item)).content.decode()
    assert item_url(item, "decide", "accept") not in page
    assert "Assign to me" not in page
    assert REJECTION_FIX_GUIDANCE[RejectionCode.INSUFFICIENT_EVIDENCE] in page


#: Session, user, the item (with its case, brand, listing, marketplace, seller, assignee and decider), the
#: user's permissions (own and through groups), rights, their documents, evidence, statements, counter-
#: notices, appeals, the brand's lane and accuracy, the seller's reports, strikes (two) and penalties,
#: the timeline, and the session save (three statements).
ITEM_PAGE_QUERIES = 21


def test_item_page_queries_do_not_grow_with_the_cases_size(
    client_for, item_in, seller_listing, right, owner, reporter, staff, django_assert_max_num_queries
):
    item = item_in(S.SUBMITTED, listing=seller_listing)
    client = client_for("moderator")

    def count() -> int:
        client.get(item_url(item))  # warm the content type cache
        with django_assert_max_num_queries(ITEM_PAGE_QUERIES) as captured:
            assert client.get(item_url(item)).status_code == 200
        return len(captured.captured_queries)

    few = count()
    for n in range(4):
        right_document(right, owner, name=f"doc{n}.pdf")
        upload = SimpleUploadedFile(f"e{n}.png", b"\x89PNG", content_type="image/png")
        Evidence.objects.create(
            case=item.case,
            item=item,
            file=upload,
            original_name=upload.name,
            content_type="image/png",
            size=4,
            sha256="0" * 64,
            uploaded_by=reporter,
        )
        SellerPenalty.objects.create(seller=seller_listing.seller, action="warn", active_strikes=n)
    services.item_assign(item_id=item.pk, actor=staff["moderator"])
    services.item_release(item_id=item.pk, actor=staff["moderator"])
    assert count() == few


# --- deciding one item ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", DECIDERS)
def test_accepting_from_the_item_page_removes_the_listing_and_stores_the_statement(client_for, item_in, staff, role):
    item = item_in(S.SUBMITTED)

    response = decide(client_for(role), item, "accept", message="Counterfeit logo on the product photo.")

    assert any(f"1 item accepted: #{item.pk}" in m for m in messages_of(response))
    item = refreshed(item)
    assert (item.status, item.decided_by, item.moderator_message) == (
        S.ACCEPTED,
        staff[role],
        "Counterfeit logo on the product photo.",
    )
    assert item.listing.status == ListingStatus.REMOVED
    [statement] = StatementOfReasons.objects.filter(item=item)
    assert statement.moderator == staff[role]
    assert statement.facts == "Counterfeit logo on the product photo."
    assert statement.decision_visibility == [DecisionVisibility.CONTENT_REMOVED]
    assert statement.decision_ground == DecisionGround.ILLEGAL_CONTENT
    assert statement.legal_ground == LEGAL_GROUNDS["counterfeit"]
    assert statement.category == DSA_CATEGORY_IP
    assert statement.category_specification == ["KEYWORD_TRADEMARK_INFRINGEMENT"]
    assert statement.source_type == SourceType.ARTICLE_16
    assert (statement.automated_detection, statement.automated_decision) == (False, AutomatedDecision.NOT_AUTOMATED)
    assert statement.redress == [Redress.INTERNAL_MECHANISM, Redress.OUT_OF_COURT, Redress.JUDICIAL]
    assert statement.application_date == timezone.localdate()
    assert statement.territorial_scope == []


def test_accepting_with_statement_fields_stores_them(client_for, item_in):
    item = item_in(S.IN_REVIEW)
    end = timezone.localdate() + timedelta(days=30)

    decide(
        client_for("moderator"),
        item,
        "accept",
        legal_ground="Markengesetz § 14.",
        explanation="The listing uses the registered word mark on goods the holder never made.",
        territorial_scope="de, FR",
        automated_detection=True,
        automated_decision=AutomatedDecision.PARTIALLY,
        decision_visibility=[DecisionVisibility.CONTENT_DISABLED],
        end_date_visibility_restriction=end.isoformat(),
        redress=[Redress.JUDICIAL],
    )

    statement = StatementOfReasons.objects.get(item=item)
    assert statement.legal_ground == "Markengesetz § 14."
    assert statement.explanation.startswith("The listing uses the registered word mark")
    assert statement.territorial_scope == ["DE", "FR"]
    assert (statement.automated_detection, statement.automated_decision) == (True, AutomatedDecision.PARTIALLY)
    assert statement.decision_visibility == [DecisionVisibility.CONTENT_DISABLED]
    assert statement.end_date_visibility_restriction == end
    assert statement.redress == [Redress.JUDICIAL]
    assert statement.facts == item.case.explanation  # no message and no note on the listing


def test_accepting_with_a_territory_outside_the_eea_is_refused(client_for, item_in):
    item = item_in(S.SUBMITTED)
    response = decide(client_for("moderator"), item, "accept", territorial_scope="DE US")
    assert any("Not EU or EEA country codes: US." in m for m in messages_of(response))
    assert refreshed(item).status == S.SUBMITTED
    assert not StatementOfReasons.objects.filter(item=item).exists()


def test_the_accept_form_keeps_what_the_moderator_typed_after_a_refusal(client_for, item_in):
    """Issue 13 point 7: a bad territorial scope sends the moderator back to the item's page with the form
    open, the message and the explanation as typed, and the error next to the field."""
    item = item_in(S.SUBMITTED)
    typed = "The seller's photos show the registered crest on bags the holder never made."
    response = decide(
        client_for("moderator"),
        item,
        "accept",
        message="Counterfeit crest on the bag.",
        explanation=typed,
        territorial_scope="DE US",
    )
    [(_, form, _)] = [entry for entry in response.context["decision_forms"] if entry[0].name == "accept"]
    assert form["message"].value() == "Counterfeit crest on the bag."
    assert form["explanation"].value() == typed
    assert form["territorial_scope"].value() == "DE US"
    assert form.errors["territorial_scope"] == ["Not EU or EEA country codes: US."]
    html = response.content.decode()
    assert typed.replace("'", "&#x27;") in html
    # Shown once: the next visit starts from an empty form.
    again = client_for("moderator").get(reverse("admin:cases_caseitem_change", args=[item.pk]))
    [(_, fresh, _)] = [entry for entry in again.context["decision_forms"] if entry[0].name == "accept"]
    assert not fresh.is_bound


def test_a_statement_the_transparency_database_would_refuse_is_refused(client_for, item_in):
    item = item_in(S.SUBMITTED)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = decide(client_for("moderator"), item, "accept", end_date_visibility_restriction=yesterday)

    # The form says so before any item is tried (issue 14.3), on the field.
    assert "Restriction ends: The restriction cannot end before it applies." in " ".join(messages_of(response))
    assert refreshed(item).status == S.SUBMITTED
    assert refreshed(item).listing.status == ListingStatus.ACTIVE


@pytest.mark.parametrize("role", DECIDERS)
def test_rejecting_from_the_item_page_shows_how_to_fix_on_the_brands_case_page(client_for, item_in, role, reporter):
    item = item_in(S.SUBMITTED)

    response = decide(client_for(role), item, "reject", code=RejectionCode.INSUFFICIENT_EVIDENCE, message="No proof.")

    assert any(f"1 item rejected: #{item.pk}" in m for m in messages_of(response))
    item = refreshed(item)
    assert (item.status, item.rejection_code) == (S.REJECTED, RejectionCode.INSUFFICIENT_EVIDENCE)
    assert item.listing.status == ListingStatus.ACTIVE
    brand_client = Client()
    brand_client.force_login(reporter)
    case_page = brand_client.get(
        reverse("cases:case_detail", kwargs={"brand_slug": item.brand.slug, "pk": item.case_id})
    )
    assert REJECTION_FIX_GUIDANCE[RejectionCode.INSUFFICIENT_EVIDENCE] in case_page.content.decode()


def test_the_rejection_code_options_show_the_how_to_fix_text(client_for, item_in):
    page = client_for("moderator").get(item_url(item_in(S.SUBMITTED))).content.decode()
    for code, guidance in REJECTION_FIX_GUIDANCE.items():
        assert f'<option value="{code}">' in page
        assert guidance.replace('"', "&quot;").replace("'", "&#x27;") in page


def test_rejecting_without_a_code_is_refused(client_for, item_in):
    item = item_in(S.SUBMITTED)
    response = decide(client_for("moderator"), item, "reject", message="No code.")
    assert any("Rejection code: This field is required." in m for m in messages_of(response))
    assert refreshed(item).status == S.SUBMITTED


@pytest.mark.parametrize("role", DECIDERS)
def test_requesting_clarification_from_the_item_page(client_for, item_in, role):
    item = item_in(S.SUBMITTED)
    decide(client_for(role), item, "clarify", message="Which of your marks does the listing use?")
    item = refreshed(item)
    assert (item.status, item.moderator_message) == (
        S.CLARIFICATION_REQUESTED,
        "Which of your marks does the listing use?",
    )


def test_requesting_clarification_without_a_question_is_refused(client_for, item_in):
    item = item_in(S.SUBMITTED)
    response = decide(client_for("moderator"), item, "clarify")
    assert any("Question: This field is required." in m for m in messages_of(response))
    assert refreshed(item).status == S.SUBMITTED


@pytest.mark.parametrize("decision", ["accept", "reject", "clarify"])
def test_a_reviewer_cannot_decide(client_for, item_in, decision):
    item = item_in(S.SUBMITTED)
    response = decide(client_for("reviewer"), item, decision, **REQUIRED_FIELDS[decision])
    assert response.status_code == 403
    assert refreshed(item).status == S.SUBMITTED


def test_a_decision_on_an_item_decided_meanwhile_is_refused_with_the_reason(client_for, item_in):
    item = item_in(S.REJECTED)
    response = decide(client_for("moderator"), item, "accept")
    [warning] = [m for m in messages_of(response) if m.startswith("Not accepted")]
    assert f"Cannot accept item #{item.pk}: it is rejected" in warning
    assert refreshed(item).status == S.REJECTED


def test_an_unknown_decision_is_not_found(client_for, item_in):
    item = item_in(S.SUBMITTED)
    assert client_for("moderator").post(item_url(item, "decide", "delete"), {}).status_code == 404


def test_decisions_are_post_only(client_for, item_in):
    item = item_in(S.SUBMITTED)
    assert client_for("moderator").get(item_url(item, "decide", "accept")).status_code == 405


# --- assigning, releasing, taking over ------------------------------------------------------------


def test_assigning_a_submitted_item_starts_its_review(client_for, item_in, staff):
    item = item_in(S.SUBMITTED)

    response = client_for("moderator").post(item_url(item, "assign"), follow=True)

    assert any("1 item assigned to you" in m for m in messages_of(response))
    item = refreshed(item)
    assert (item.status, item.assigned_to) == (S.IN_REVIEW, staff["moderator"])
    assert AuditEvent.objects.filter(action="item.start_review", target_id=item.pk).count() == 1


def test_an_item_assigned_to_someone_else_is_not_decided_by_accident(client_for, item_in, staff):
    item = item_in(S.IN_REVIEW)  # the moderator started the review: it is theirs
    other = client_for("moderator2")

    page = other.get(item_url(item)).content.decode()
    assert "take over" in page

    response = decide(other, item, "accept")
    [warning] = [m for m in messages_of(response) if m.startswith("Not accepted")]
    assert f"Item #{item.pk} is assigned to moderator; take it over to decide it." in warning
    assert refreshed(item).status == S.IN_REVIEW

    decide(other, item, "accept", take_over=True)
    item = refreshed(item)
    assert (item.status, item.decided_by) == (S.ACCEPTED, staff["moderator2"])
    event = AuditEvent.objects.get(action="item.accept", target_id=item.pk)
    assert event.data == {"took_over_from": staff["moderator"].pk}


@pytest.mark.parametrize("decision", ["reject", "clarify"])
def test_rejecting_or_clarifying_someone_elses_item_needs_take_over(client_for, item_in, decision):
    item = item_in(S.IN_REVIEW)
    decide(client_for("moderator2"), item, decision, **REQUIRED_FIELDS[decision])
    assert refreshed(item).status == S.IN_REVIEW
    decide(client_for("moderator2"), item, decision, take_over=True, **REQUIRED_FIELDS[decision])
    assert refreshed(item).status in (S.REJECTED, S.CLARIFICATION_REQUESTED)


def test_taking_over_needs_the_box_ticked(client_for, item_in, staff):
    item = item_in(S.IN_REVIEW)
    other = client_for("moderator2")

    response = other.post(item_url(item, "assign"), follow=True)
    assert any(f"Item #{item.pk} is assigned to moderator" in m for m in messages_of(response))
    assert refreshed(item).assigned_to == staff["moderator"]

    other.post(item_url(item, "assign"), {"take_over": "1"})
    assert refreshed(item).assigned_to == staff["moderator2"]
    event = AuditEvent.objects.get(action="item.assign", target_id=item.pk)
    assert event.data == {"took_over_from": staff["moderator"].pk}
    assert event.brand_id is None  # internal: not on the brand's timeline


def test_releasing_an_item(client_for, item_in, staff):
    item = item_in(S.IN_REVIEW)

    response = client_for("moderator2").post(item_url(item, "release"), follow=True)
    assert any("only they can release it" in m for m in messages_of(response))
    assert refreshed(item).assigned_to == staff["moderator"]

    client_for("moderator").post(item_url(item, "release"))
    item = refreshed(item)
    assert (item.status, item.assigned_to, item.assigned_at) == (S.IN_REVIEW, None, None)
    assert AuditEvent.objects.filter(action="item.release", target_id=item.pk).count() == 1


@pytest.mark.parametrize("view", ["assign", "release"])
def test_a_reviewer_cannot_assign_or_release(client_for, item_in, view):
    item = item_in(S.SUBMITTED)
    assert client_for("reviewer").post(item_url(item, view)).status_code == 403
    assert refreshed(item).assigned_to is None


def test_a_decided_item_cannot_be_assigned(client_for, item_in):
    item = item_in(S.ACCEPTED)
    response = client_for("moderator2").post(item_url(item, "assign"), follow=True)
    assert any(f"Cannot assign item #{item.pk}: it is accepted" in m for m in messages_of(response))


# --- downloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("moderator", 200), ("lead", 200), ("superuser", 200), ("reviewer", 403)])
def test_evidence_download_is_permission_checked(client_for, item_in, role, status):
    evidence = item_in(S.SUBMITTED).case.evidence.get()
    response = client_for(role).get(reverse("admin:cases_evidence_download", args=[evidence.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Disposition"] == 'attachment; filename="evidence.png"'
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_evidence_page_links_its_download(client_for, item_in):
    evidence = item_in(S.SUBMITTED).case.evidence.get()
    page = client_for("moderator").get(reverse("admin:cases_evidence_change", args=[evidence.pk])).content.decode()
    assert reverse("admin:cases_evidence_download", args=[evidence.pk]) in page


@pytest.mark.parametrize(("role", "status"), [("moderator", 200), ("reviewer", 403)])
def test_right_document_download_is_permission_checked(client_for, item_in, right, owner, role, status):
    item = item_in(S.SUBMITTED)
    document = right_document(right, owner)
    response = client_for(role).get(item_url(item, "right_document", document.pk))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Disposition"] == 'attachment; filename="certificate.pdf"'


def test_only_documents_of_the_items_rights_download_from_its_page(client_for, item_in, brand, owner):
    item = item_in(S.SUBMITTED)
    unrelated = right_document(factories.IPRightFactory(brand=brand), owner)
    assert client_for("moderator").get(item_url(item, "right_document", unrelated.pk)).status_code == 404


# --- appeals --------------------------------------------------------------------------------------


@pytest.fixture
def appealed_rejection(item_in, staff, reporter) -> Callable[[str], Appeal]:
    """appealed_rejection(decider) → the open appeal of an item `decider` rejected."""

    def make(decider: str) -> Appeal:
        item = item_in(S.SUBMITTED)
        services.item_reject(item_id=item.pk, actor=staff[decider], code=RejectionCode.INSUFFICIENT_EVIDENCE)
        return services.item_appeal(
            item_id=item.pk, appellant=AppellantSide.BRAND, grounds="The evidence was attached.", actor=reporter
        )

    return make


def appeal_url(appeal: Appeal, view: str = "change") -> str:
    return reverse(f"admin:cases_appeal_{view}", args=[appeal.pk])


def test_an_appeal_is_decided_by_another_lead(client_for, appealed_rejection, staff):
    appeal = appealed_rejection("lead")
    other = client_for("lead2")
    assert appeal_url(appeal, "decide") in other.get(appeal_url(appeal)).content.decode()

    response = other.post(
        appeal_url(appeal, "decide"), {"outcome": "overturn", "note": "The photo shows it."}, follow=True
    )

    assert any("the decision was overturned" in m for m in messages_of(response))
    appeal = refreshed(appeal)
    assert (appeal.status, appeal.decided_by) == (AppealStatus.OVERTURNED, staff["lead2"])
    item = refreshed(appeal.item)
    assert item.status == S.ACCEPTED
    assert item.listing.status == ListingStatus.REMOVED
    # The removal the appeal brought about comes with its statement of reasons.
    assert StatementOfReasons.objects.get(item=item).facts == "The photo shows it."


def test_an_appeal_decided_by_the_original_decider_is_refused(client_for, appealed_rejection):
    appeal = appealed_rejection("lead")
    client = client_for("lead")
    page = client.get(appeal_url(appeal)).content.decode()
    assert "another moderation lead must decide it" in page
    assert appeal_url(appeal, "decide") not in page

    response = client.post(appeal_url(appeal, "decide"), {"outcome": "overturn", "note": "Mine."}, follow=True)

    assert "An appeal must be decided by someone other than the original decision's moderator." in messages_of(response)
    assert refreshed(appeal).status == AppealStatus.OPEN


def test_an_appeal_decided_meanwhile_is_refused_even_when_its_item_was_appealed_again(
    client_for, appealed_rejection, staff, reporter
):
    appeal = appealed_rejection("moderator")
    services.item_decide_appeal(item_id=appeal.item_id, actor=staff["lead2"], overturn=False, note="It stands.")
    again = services.item_appeal(
        item_id=appeal.item_id, appellant=AppellantSide.BRAND, grounds="New evidence.", actor=reporter
    )

    response = client_for("lead").post(
        appeal_url(appeal, "decide"), {"outcome": "overturn", "note": "No."}, follow=True
    )

    assert messages_of(response) == [f"{appeal} was already decided."]
    assert refreshed(appeal).status == AppealStatus.UPHELD
    assert refreshed(again).status == AppealStatus.OPEN


@pytest.mark.parametrize("role", ["moderator", "reviewer"])
def test_only_leads_decide_appeals(client_for, appealed_rejection, role):
    appeal = appealed_rejection("moderator2")
    client = client_for(role)
    response = client.post(appeal_url(appeal, "decide"), {"outcome": "uphold", "note": "Stands."})
    assert response.status_code == 403
    assert refreshed(appeal).status == AppealStatus.OPEN
    if role == "moderator":
        assert appeal_url(appeal, "decide") not in client.get(appeal_url(appeal)).content.decode()


def test_a_superuser_upholds_an_appeal(client_for, appealed_rejection):
    appeal = appealed_rejection("moderator")
    client_for("superuser").post(appeal_url(appeal, "decide"), {"outcome": "uphold", "note": "No evidence."})
    appeal = refreshed(appeal)
    assert appeal.status == AppealStatus.UPHELD
    assert refreshed(appeal.item).status == S.REJECTED


def test_an_appeal_decision_needs_reasons(client_for, appealed_rejection):
    appeal = appealed_rejection("moderator")
    response = client_for("lead").post(appeal_url(appeal, "decide"), {"outcome": "uphold"}, follow=True)
    assert "Reasons: This field is required." in messages_of(response)
    assert refreshed(appeal).status == AppealStatus.OPEN


def test_a_decided_appeal_cannot_be_decided_again(client_for, appealed_rejection):
    appeal = appealed_rejection("moderator")
    client = client_for("lead")
    client.post(appeal_url(appeal, "decide"), {"outcome": "uphold", "note": "Stands."})
    response = client.post(
        appeal_url(appeal, "decide"), {"outcome": "overturn", "note": "Changed my mind."}, follow=True
    )
    assert f"{appeal} was already decided." in messages_of(response)
    assert refreshed(appeal).status == AppealStatus.UPHELD


def test_the_appeal_queue_shows_open_appeals_first_oldest_first(client_for, appealed_rejection):
    first, second, decided = (appealed_rejection("moderator") for _ in range(3))
    Appeal.objects.filter(pk=first.pk).update(filed_at=timezone.now() - timedelta(days=2))
    Appeal.objects.filter(pk=decided.pk).update(filed_at=timezone.now() - timedelta(days=9))
    lead = client_for("lead")
    lead.post(appeal_url(decided, "decide"), {"outcome": "uphold", "note": "Stands."})

    response = lead.get(reverse("admin:cases_appeal_changelist"))

    assert [appeal.pk for appeal in response.context["cl"].result_list] == [first.pk, second.pk, decided.pk]
    assert "filed 2 days ago" in response.content.decode()


# --- counter-notices ------------------------------------------------------------------------------


def test_the_counter_notice_queue_shows_pending_ones_first_by_deadline(client_for, item_in, reporter):
    answered, later, sooner = (item_in(S.COUNTER_NOTICED) for _ in range(3))
    services.item_brand_answer(item_id=answered.pk, actor=reporter, accept=True)
    CounterNotice.objects.filter(item=later).update(answer_due_at=timezone.now() + timedelta(days=5))
    CounterNotice.objects.filter(item=sooner).update(answer_due_at=timezone.now() - timedelta(hours=3))

    response = client_for("moderator").get(reverse("admin:cases_counternotice_changelist"))

    notices = list(response.context["cl"].result_list)
    assert [notice.item_id for notice in notices] == [sooner.pk, later.pk, answered.pk]
    assert notices[2].answer == CounterNoticeAnswer.ACCEPTED
    page = response.content.decode()
    assert "3 hours ago, overdue" in page
    assert "in 4 days" in page


def test_a_reviewer_sees_no_counter_notices_or_appeals(client_for):
    reviewer = client_for("reviewer")
    assert reviewer.get(reverse("admin:cases_counternotice_changelist")).status_code == 403
    assert reviewer.get(reverse("admin:cases_appeal_changelist")).status_code == 403


# --- the services behind the console --------------------------------------------------------------


def test_accepting_without_a_statement_builds_the_default_from_the_item(file_case, staff):
    item = file_case(item_notes={}).items.get()
    services.item_accept(item_id=item.pk, actor=staff["moderator"])
    statement = StatementOfReasons.objects.get(item=item)
    assert statement.facts == item.case.explanation  # no message, no note: the notice's explanation
    assert statement.moderator == staff["moderator"]


def test_accepting_without_removing_leaves_the_listing_to_a_job(item_in, staff):
    item = item_in(S.SUBMITTED)
    services.item_accept(item_id=item.pk, actor=staff["moderator"], remove_listing=False)
    item = refreshed(item)
    assert item.status == S.ACCEPTED
    assert item.listing.status == ListingStatus.ACTIVE
    assert StatementOfReasons.objects.filter(item=item).count() == 1


@pytest.mark.parametrize(
    ("changelist", "status"),
    [("admin:cases_counternotice_changelist", S.COUNTER_NOTICED), ("admin:cases_appeal_changelist", S.APPEALED)],
)
def test_the_counter_notice_and_appeal_queues_run_the_same_queries_for_more_rows(
    client_for, item_in, changelist, status, django_assert_max_num_queries
):
    client = client_for("lead")
    url = reverse(changelist)

    def count() -> int:
        client.get(url)  # warm the content type cache
        with django_assert_max_num_queries(12) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    item_in(status)
    one = count()
    for _ in range(3):
        item_in(status)
    assert count() == one
