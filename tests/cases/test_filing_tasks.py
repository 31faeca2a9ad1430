"""The draft services and the Celery tasks that check and file large filings.

Unit tests call the task functions directly (eager mode is not a worker); one integration test runs a
real Celery worker against the real Redis and PostgreSQL for a 500-row CSV, through the web views.
"""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandMembership
from cases import importing, services, tasks
from cases.models import Case, CaseDraft
from core.files import private_storage
from core.uploads import check_upload
from tests.concurrency import run_together
from tests.workers import running_worker, wait_until

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
State = CaseDraft.State


def make_draft(*, brand, reporter, right, count: int, **overrides) -> CaseDraft:
    """A draft of `count` listing URLs made the way the form makes it (`overrides`: request fields)."""
    rows = importing.parse_pasted("\n".join(f"https://shopnow.example/item/{n}" for n in range(count)))
    fields = {
        "brand_id": brand.pk,
        "actor_id": reporter.pk,
        "idempotency_key": str(uuid.uuid4()),
        "right_ids": (right.pk,),
        "reason_code": "counterfeit",
        "explanation": "Fake logo.",
        "evidence_kind": "screenshot",
        "signed_name": "Rita Reporter",
        "ip_address": "192.0.2.1",
        "channel": "web",
    } | overrides
    with services.evidence_staged([check_upload(SimpleUploadedFile("proof.png", PNG))], keep=True) as evidence:
        return importing.draft_create(request=services.FilingRequest(evidence=evidence, **fields), rows=rows)


@pytest.fixture
def inline_max(settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 10}


@pytest.fixture
def draft(brand, reporter, right, marketplace, inline_max, django_capture_on_commit_callbacks):
    """A draft of a full case (1,000 rows) waiting for its background check (the enqueue is captured, not sent)."""
    with django_capture_on_commit_callbacks() as callbacks:
        made = make_draft(brand=brand, reporter=reporter, right=right, count=1000)
    assert len(callbacks) == 1
    return made


# --- unit: the task functions ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_small_draft_is_checked_in_the_request(brand, reporter, right, marketplace):
    made = make_draft(brand=brand, reporter=reporter, right=right, count=3)
    assert (made.state, made.rows_done, made.rows_total) == (State.READY, 3, 3)
    (entry,) = made.payload["evidence"]
    assert private_storage().exists(entry["path"])


@pytest.mark.django_db
def test_the_check_reports_progress_chunk_by_chunk(draft, monkeypatch):
    seen = []
    check = importing.RowChecker.check

    def spy(self, rows):
        seen.append(CaseDraft.objects.get(pk=draft.pk).rows_done)
        return check(self, rows)

    monkeypatch.setattr(importing.RowChecker, "check", spy)
    assert draft.state == State.CHECKING
    assert tasks.preview_case_draft(str(draft.pk)) == State.READY
    assert seen == [0, 250, 500, 750]
    draft.refresh_from_db()
    assert (draft.rows_done, draft.rows_total, len(draft.checked_rows)) == (1000, 1000, 1000)


@pytest.mark.django_db
def test_the_check_runs_once_however_often_its_message_arrives(draft, django_assert_max_num_queries):
    tasks.preview_case_draft(str(draft.pk))
    with django_assert_max_num_queries(1):
        assert tasks.preview_case_draft(str(draft.pk)) == State.READY
    assert tasks.preview_case_draft(str(uuid.uuid4())) is None  # a draft replaced or purged meanwhile


@pytest.mark.django_db
def test_the_check_rechecks_the_authors_membership(draft):
    BrandMembership.objects.filter(user=draft.created_by).update(is_active=False)
    assert tasks.preview_case_draft(str(draft.pk)) == State.FAILED
    draft.refresh_from_db()
    assert draft.errors == ["You may no longer file cases for this brand."]


@pytest.mark.django_db
def test_a_large_filing_is_queued_once_and_filed_once(draft, django_capture_on_commit_callbacks):
    tasks.preview_case_draft(str(draft.pk))
    with django_capture_on_commit_callbacks() as callbacks:
        assert importing.draft_submit(draft_id=draft.pk).state == State.FILING
        assert importing.draft_submit(draft_id=draft.pk).state == State.FILING
    assert len(callbacks) == 1
    assert not Case.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.file_case_draft(str(draft.pk)) == State.FILED
    assert tasks.file_case_draft(str(draft.pk)) == State.FILED
    case = Case.objects.get()
    assert case.items.count() == 1000
    assert case.evidence.count() == 1
    # The case has its own copy of the evidence; the draft's is deleted once the case is committed.
    assert not private_storage().exists(draft.payload["evidence"][0]["path"])
    assert importing.draft_submit(draft_id=draft.pk).case == case


@pytest.mark.django_db
def test_the_filing_task_leaves_drafts_that_are_not_filing_alone(draft):
    tasks.preview_case_draft(str(draft.pk))
    assert tasks.file_case_draft(str(draft.pk)) == State.READY
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_crashed_filing_saves_nothing_and_says_so(draft, monkeypatch):
    tasks.preview_case_draft(str(draft.pk))
    importing.draft_submit(draft_id=draft.pk)

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "case_submit", crash)
    with pytest.raises(RuntimeError):
        tasks.file_case_draft(str(draft.pk))
    draft.refresh_from_db()
    assert draft.state == State.FAILED
    assert draft.errors == ["Filing failed and nothing was saved; go back to the form and preview again."]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_filing_task_rechecks_scope_and_rules(draft, right):
    tasks.preview_case_draft(str(draft.pk))
    importing.draft_submit(draft_id=draft.pk)
    right.status = "expired"
    right.save(update_fields=["status"])
    assert tasks.file_case_draft(str(draft.pk)) == State.FAILED
    draft.refresh_from_db()
    assert draft.errors == [f"{right} is not a verified, unexpired right of {draft.brand}."]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_draft_made_from_an_already_filed_form_is_refused(brand, reporter, right, marketplace, file_case):
    case = file_case(1, idempotency_key="form-key")
    with pytest.raises(importing.StaleDraft) as exc_info:
        make_draft(brand=brand, reporter=reporter, right=right, count=2, idempotency_key="form-key")
    assert exc_info.value.case == case
    assert not CaseDraft.objects.exists()


@pytest.mark.django_db
def test_the_sweep_deletes_expired_drafts_and_requeues_lost_ones(
    brand, reporter, right, marketplace, draft, monkeypatch, django_capture_on_commit_callbacks
):
    expired = make_draft(brand=brand, reporter=reporter, right=right, count=2)
    CaseDraft.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    CaseDraft.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - importing.STALLED_AFTER * 2)
    sent = []
    monkeypatch.setattr(tasks.preview_case_draft, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_case_drafts() == {"deleted": 1, "requeued": 1}
    assert sent == [str(draft.pk)]
    assert list(CaseDraft.objects.values_list("pk", flat=True)) == [draft.pk]
    assert not private_storage().exists(expired.payload["evidence"][0]["path"])


# --- concurrency: two submits at the same moment, each in its own connection ----------------------


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_draft_at_once_file_one_case(brand, reporter, right, marketplace):
    made = make_draft(brand=brand, reporter=reporter, right=right, count=5)
    outcomes = run_together(*[lambda: importing.draft_submit(draft_id=made.pk)] * 2)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    case = Case.objects.get()
    assert {result.case_id for _, result in outcomes if result.state == State.FILED} == {case.pk}
    assert case.items.count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_drafts_of_one_form_filed_at_once_file_one_case(brand, reporter, right, marketplace):
    first = make_draft(brand=brand, reporter=reporter, right=right, count=5, idempotency_key="one-form")
    second = make_draft(brand=brand, reporter=reporter, right=right, count=5, idempotency_key="one-form")
    outcomes = run_together(
        lambda: importing.draft_submit(draft_id=first.pk), lambda: importing.draft_submit(draft_id=second.pk)
    )
    case = Case.objects.get()
    assert [(kind, result.state, result.case_id) for kind, result in outcomes] == [("ok", State.FILED, case.pk)] * 2


# --- integration: a real worker -------------------------------------------------------------------


def wait_for(draft_id, state: str) -> CaseDraft:
    def reached() -> bool:
        draft = CaseDraft.objects.get(pk=draft_id)
        assert draft.state not in {State.FAILED}, draft.errors
        return draft.state == state

    wait_until(reached, f"draft {draft_id} to reach {state}")
    return CaseDraft.objects.get(pk=draft_id)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_500_row_csv_is_checked_and_filed_by_a_real_worker(client, brand, reporter, right, marketplace):
    assert importing.inline_max_rows() < 500
    client.force_login(reporter)
    lines = ["url,note", *(f"https://shopnow.example/item/W{n},row {n}" for n in range(500))]
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "rights": [right.pk],
        "reason_code": "counterfeit",
        "explanation": "Counterfeit straps.",
        "evidence": [SimpleUploadedFile("proof.png", PNG)],
        "evidence_kind": "screenshot",
        "listing_file": SimpleUploadedFile("listings.csv", "\r\n".join(lines).encode()),
        "declare_good_faith": "on",
        "declare_accuracy": "on",
        "declare_authority": "on",
        "signed_name": "Rita Reporter",
    }
    with running_worker():
        response = client.post(reverse("cases:case_create", kwargs={"brand_slug": brand.slug}), data)
        draft = CaseDraft.objects.get()
        progress = reverse("cases:case_draft_progress", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk})
        assert response["Location"] == progress
        draft = wait_for(draft.pk, State.READY)
        assert len(importing.draft_preview(draft).valid) == 500

        response = client.post(
            reverse("cases:case_draft_file", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk})
        )
        assert response["Location"] == progress
        draft = wait_for(draft.pk, State.FILED)
    case = Case.objects.get()
    assert draft.case == case
    assert case.items.count() == 500
    assert case.items.filter(brand_note="row 7").count() == 1
    assert client.get(progress, headers={"HX-Request": "true"})["HX-Redirect"] == f"/b/{brand.slug}/cases/{case.pk}/"
