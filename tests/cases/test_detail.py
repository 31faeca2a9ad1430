"""The case page (items, decisions, deadlines, timelines) and the brand's actions on an item: each allowed
only in the right status, before its deadline and for the right role, through the real services."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.choices import Role
from cases.choices import REJECTION_FIX_GUIDANCE, AppellantSide, DecisionGround, ItemStatus, RejectionCode
from cases.demo import drive_item_to
from cases.models import Appeal, CaseItem, Evidence, StatementOfReasons
from cases.templatetags.cases_extras import sla_short, time_left, time_left_short, time_left_text
from tests.cases.test_lists import page_queries

pytestmark = pytest.mark.django_db

S = ItemStatus
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def client(client: Client, reporter) -> Client:
    client.force_login(reporter)
    return client


@pytest.fixture
def item_in(file_case, moderator, reporter):
    """item_in(status) → a fresh item of a new case, driven to `status` through the services."""

    def make(status: str) -> CaseItem:
        return drive_item_to(file_case(1).items.get(), status, moderator=moderator, brand_user=reporter)

    return make


def case_url(item: CaseItem) -> str:
    return reverse("cases:case_detail", kwargs={"brand_slug": item.brand.slug, "pk": item.case_id})


def act(client: Client, item: CaseItem, action: str, data: dict):
    url = reverse(f"cases:item_{action}", kwargs={"brand_slug": item.brand.slug, "pk": item.pk})
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- the page -------------------------------------------------------------------------------------


def test_the_case_page_shows_every_item_with_its_decision_deadline_and_timeline(client, file_case, moderator, reporter):
    case = file_case(4)
    rejected, clarification, counter_noticed, appealed = case.items.order_by("pk")
    drive_item_to(rejected, S.REJECTED, moderator=moderator, brand_user=reporter)
    drive_item_to(clarification, S.CLARIFICATION_REQUESTED, moderator=moderator, brand_user=reporter)
    drive_item_to(counter_noticed, S.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)
    drive_item_to(appealed, S.APPEALED, moderator=moderator, brand_user=reporter)

    html = client.get(case_url(rejected)).content.decode()
    assert REJECTION_FIX_GUIDANCE[RejectionCode.INSUFFICIENT_EVIDENCE] in html
    assert "Rejected: Insufficient evidence." in html and "No proof of the claim." in html
    assert "The moderator asks:</strong> Which of your marks does the listing use?" in html
    assert "Counter-notice 1 from the seller" in html and "Genuine goods, invoice attached." in html
    assert "Your answer is due</strong>" in html
    assert "Appeal by the brand" in html
    assert "4 items" not in html and "1 rejected" in html  # the status summary
    # The timeline: the brand's own people are named, moderators stay anonymous.
    assert "Accepted: listing removed" in html
    assert "by Marketplace moderator" in html
    assert f"by {reporter.get_username()}" in html
    assert f"by {moderator.get_username()}" not in html
    assert "Case filed" in html


def test_the_statement_of_reasons_is_summarised(client, item_in, moderator):
    item = item_in(S.ACCEPTED)
    StatementOfReasons.objects.create(
        item=item,
        moderator=moderator,
        decision_ground=DecisionGround.ILLEGAL_CONTENT,
        legal_ground="Trademark law",
        explanation="Counterfeit goods bearing the mark.",
        facts="Logo copied.",
        application_date=timezone.localdate(),
    )
    html = client.get(case_url(item)).content.decode()
    assert "Statement of reasons sent to the seller" in html
    assert "Illegal content. Counterfeit goods bearing the mark." in html


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (S.SUBMITTED, ["withdraw"]),
        (S.CLARIFICATION_REQUESTED, ["resubmit", "withdraw"]),
        (S.COUNTER_NOTICED, ["answer", "withdraw"]),
        (S.REJECTED, ["appeal"]),
        # The brand won these (issue 13 point 9): no appeal offered.
        (S.UPHELD, ["withdraw"]),
        (S.ACCEPTED, ["withdraw"]),
        (S.REINSTATED, []),
        (S.APPEALED, []),
        (S.WITHDRAWN, []),
    ],
)
def test_each_status_offers_only_its_actions(client, item_in, status, actions):
    item = item_in(status)
    html = client.get(case_url(item)).content.decode()
    offered = [name for name in ("answer", "resubmit", "appeal", "withdraw") if f"/items/{item.pk}/{name}/" in html]
    assert offered == actions


def test_a_viewer_sees_no_actions(client, item_in, member_of):
    item = item_in(S.COUNTER_NOTICED)
    client.force_login(member_of(Role.VIEWER))
    html = client.get(case_url(item)).content.decode()
    assert "Counter-notice 1 from the seller" in html
    assert f"/items/{item.pk}/" not in html


def test_time_left_reads_as_words_and_marks_what_is_overdue():
    now = timezone.now()
    assert time_left_text(now + timedelta(days=3, hours=5), now) == "in 3 days"
    assert time_left_text(now + timedelta(hours=30), now) == "in 30 hours"
    assert time_left_text(now - timedelta(hours=2, minutes=10), now) == "2 hours ago"
    assert time_left_text(now + timedelta(minutes=1), now) == "in 1 minute"
    assert time_left_text(now + timedelta(seconds=20), now) == "in less than a minute"
    assert time_left_text(now + timedelta(days=183), now) == "in 6 months"
    assert "overdue" in time_left(now - timedelta(hours=2))
    assert "overdue" not in time_left(now + timedelta(hours=2))
    assert time_left(None) == ""


def test_the_queue_s_short_time_left_is_one_line_and_says_a_breach():
    now = timezone.now()
    assert time_left_short(now + timedelta(hours=3, minutes=20), now) == "in 3 h"
    assert time_left_short(now + timedelta(minutes=45, seconds=5), now) == "in 45 min"
    assert time_left_short(now + timedelta(days=3, hours=5), now) == "in 3 d"
    assert time_left_short(now - timedelta(hours=5, minutes=1), now) == "5 h ago"
    assert time_left_short(now + timedelta(seconds=20), now) == "in < 1 min"
    assert "sla-breached" in sla_short(now - timedelta(hours=2))
    assert "breached" not in sla_short(now + timedelta(hours=2))
    assert sla_short(None) == ""


# --- actions --------------------------------------------------------------------------------------


def test_withdraw(client, item_in):
    item = item_in(S.SUBMITTED)
    response = act(client, item, "withdraw", {"reason": "Reported by mistake."})
    assert response.redirect_chain == [(f"{case_url(item)}#item-{item.pk}", 302)]
    assert messages_of(response) == [f"Item #{item.pk} withdrawn; a listing removed because of it is reinstated."]
    item.refresh_from_db()
    assert item.status == S.WITHDRAWN


def test_an_action_the_status_does_not_allow_is_refused_with_the_services_message(client, item_in):
    item = item_in(S.REJECTED)
    response = act(client, item, "withdraw", {})
    assert messages_of(response) == [
        f"Cannot withdraw item #{item.pk}: it is rejected; that is only possible when it is submitted, in review, "
        "clarification requested, accepted: listing removed, counter-notice received, removal upheld or removal final."
    ]
    item.refresh_from_db()
    assert item.status == S.REJECTED


def test_amend_and_resubmit(client, item_in):
    item = item_in(S.CLARIFICATION_REQUESTED)
    assert messages_of(act(client, item, "resubmit", {"note": " "})) == [
        f"Item #{item.pk}: Your amended explanation: This field is required."
    ]
    act(client, item, "resubmit", {"note": "It uses our ACME mark (EUIPO 012345678)."})
    item.refresh_from_db()
    assert item.status == S.SUBMITTED
    assert item.brand_note == "It uses our ACME mark (EUIPO 012345678)."


def test_accepting_a_counter_notice_reinstates(client, item_in):
    item = item_in(S.COUNTER_NOTICED)
    response = act(client, item, "answer", {"answer": "accept", "evidence_kind": "other"})
    assert messages_of(response) == [f"Your answer to the counter-notice on item #{item.pk} is recorded."]
    item.refresh_from_db()
    assert item.status == S.REINSTATED


def test_rejecting_a_counter_notice_needs_evidence(client, item_in):
    item = item_in(S.COUNTER_NOTICED)
    response = act(client, item, "answer", {"answer": "reject", "evidence_kind": "test_purchase"})
    assert messages_of(response) == [f"Item #{item.pk}: Evidence: Attach evidence to reject the counter-notice."]
    item.refresh_from_db()
    assert item.status == S.COUNTER_NOTICED


def test_the_answer_form_keeps_what_the_brand_typed_when_evidence_is_missing(client, item_in):
    """Issue 13 point 7: the answer and the note come back as typed, with the error next to the evidence."""
    item = item_in(S.COUNTER_NOTICED)
    note = "Our test purchase of 3 March shows a fake serial number."
    response = act(client, item, "answer", {"answer": "reject", "note": note, "evidence_kind": "test_purchase"})
    [row] = [row for row in response.context["rows"] if row.item.pk == item.pk]
    [answer] = [bound for bound in row.actions if bound.action.name == "answer"]
    assert answer.kept
    assert answer.form["note"].value() == note
    assert answer.form["answer"].value() == "reject"
    assert answer.form.errors["evidence"] == ["Attach evidence to reject the counter-notice."]
    assert note in response.content.decode()


def test_rejecting_a_counter_notice_with_evidence_upholds_the_removal(client, item_in):
    item = item_in(S.COUNTER_NOTICED)
    files = [SimpleUploadedFile("purchase.png", PNG), SimpleUploadedFile("report.png", PNG)]
    data = {"answer": "reject", "note": "Test purchase proves it.", "evidence": files, "evidence_kind": "test_purchase"}
    act(client, item, "answer", data)
    item.refresh_from_db()
    assert item.status == S.UPHELD
    evidence = Evidence.objects.filter(item=item).order_by("original_name")
    assert [(e.original_name, e.kind, e.content_type) for e in evidence] == [
        ("purchase.png", "test_purchase", "image/png"),
        ("report.png", "test_purchase", "image/png"),
    ]
    assert all(e.counter_notice_id for e in evidence)


def test_evidence_is_checked_by_content(client, item_in):
    item = item_in(S.COUNTER_NOTICED)
    fake = SimpleUploadedFile("proof.pdf", b"<script>alert(1)</script>")
    response = act(client, item, "answer", {"answer": "reject", "evidence": [fake], "evidence_kind": "other"})
    (message,) = messages_of(response)
    assert message.startswith(f"Item #{item.pk}: Evidence: proof.pdf is not a PDF, though its name ends in .pdf")
    assert not Evidence.objects.filter(item=item).exists()


def test_no_answer_after_the_deadline(client, item_in):
    item = item_in(S.COUNTER_NOTICED)
    CaseItem.objects.filter(pk=item.pk).update(brand_answer_due_at=timezone.now() - timedelta(minutes=1))
    html = client.get(case_url(item)).content.decode()
    assert f"/items/{item.pk}/answer/" not in html  # the form is no longer offered …
    response = act(client, item, "answer", {"answer": "accept", "evidence_kind": "other"})
    # … and a stale form is refused by the service.
    assert messages_of(response) == [f"The deadline to answer the counter-notice on item #{item.pk} has passed."]


def test_the_brand_cannot_appeal_a_decision_it_won_or_a_reinstatement_it_chose(client, item_in):
    for status in (S.ACCEPTED, S.REINSTATED):
        item = item_in(status)
        response = act(client, item, "appeal", {"grounds": "Why not."})
        [message] = messages_of(response)
        assert "only the seller may appeal" in message or "reinstated the listing itself" in message
        item.refresh_from_db()
        assert item.status == status
        assert not Appeal.objects.filter(item=item).exists()


def test_a_reinstatement_the_brand_did_not_choose_can_be_appealed(client, item_in):
    item = item_in(S.REINSTATED)
    item.counter_notices.update(answer="lapsed")  # the brand did not answer: the rule reinstated the listing
    assert f"/items/{item.pk}/appeal/" in client.get(case_url(item)).content.decode()
    act(client, item, "appeal", {"grounds": "We were on holiday; here is the test purchase."})
    assert Appeal.objects.get(item=item).contested_status == S.REINSTATED


def test_appeal_within_the_window(client, item_in):
    item = item_in(S.REJECTED)
    act(client, item, "appeal", {"grounds": "The test purchase report was attached."})
    appeal = Appeal.objects.get(item=item)
    assert (appeal.appellant, appeal.contested_status) == (AppellantSide.BRAND, S.REJECTED)
    item.refresh_from_db()
    assert item.status == S.APPEALED


def test_no_appeal_after_six_months(client, item_in):
    item = item_in(S.REJECTED)
    CaseItem.objects.filter(pk=item.pk).update(appeal_until=timezone.now() - timedelta(days=1))
    assert f"/items/{item.pk}/appeal/" not in client.get(case_url(item)).content.decode()
    response = act(client, item, "appeal", {"grounds": "Late."})
    assert messages_of(response) == [f"The appeal window of item #{item.pk} has closed."]


def test_actions_are_post_only(client, item_in):
    item = item_in(S.SUBMITTED)
    url = reverse("cases:item_withdraw", kwargs={"brand_slug": item.brand.slug, "pk": item.pk})
    assert client.get(url).status_code == 405


def test_an_action_returns_to_the_items_page_of_a_long_case(client, file_case):
    case = file_case(52)
    last = case.items.order_by("pk").last()
    response = act(client, last, "withdraw", {})
    assert response.redirect_chain == [(f"{case_url(last)}?page=2#item-{last.pk}", 302)]
    assert last.pk in [row.item.pk for row in response.context["rows"]]


# --- query counts ---------------------------------------------------------------------------------

#: Session, user, brand, membership, switcher; the case, its rights, declarations and evidence; the item
#: status counts; the item count and page; counter-notices, their evidence, appeals, statements; the
#: timeline. No session write on a read (core/sessions.py).
DETAIL_QUERIES = 17


def test_case_page_queries_do_not_grow_with_items(
    client, file_case, moderator, reporter, django_assert_max_num_queries
):
    statuses = [S.COUNTER_NOTICED, S.UPHELD, S.APPEALED, S.REJECTED, S.ACCEPTED]

    def case_with(n: int) -> str:
        case = file_case(n)
        for item, status in zip(case.items.order_by("pk"), statuses * n, strict=False):
            drive_item_to(item, status, moderator=moderator, brand_user=reporter)
        return reverse("cases:case_detail", kwargs={"brand_slug": case.brand.slug, "pk": case.pk})

    few = page_queries(client, case_with(5), django_assert_max_num_queries, DETAIL_QUERIES)
    many = page_queries(client, case_with(50), django_assert_max_num_queries, DETAIL_QUERIES)
    assert few == many


def test_evidence_is_downloaded_through_the_scoped_view(client, file_case):
    case = file_case()
    evidence = case.evidence.get()
    url = reverse("cases:evidence_download", kwargs={"brand_slug": case.brand.slug, "pk": evidence.pk})
    assert url in client.get(reverse("cases:case_detail", kwargs={"brand_slug": case.brand.slug, "pk": case.pk})).text
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
