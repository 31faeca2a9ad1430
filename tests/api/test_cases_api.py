"""The case endpoints: filing with the web form's validation and per-item errors, idempotency, the CSV
import with its dry run, withdrawal, the item actions, filters, ordering and keyset pagination."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.choices import Channel, ItemStatus
from cases.demo import drive_item_to
from cases.models import Case, CaseDraft, CaseItem
from core.audit.models import AuditEvent
from tests import factories
from tests.api.tenancy_cases import pdf
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db
CASES_URL = "/api/v1/cases/"
ITEMS_URL = "/api/v1/case-items/"


def _filing(right, **overrides) -> dict:
    return {
        "rights": [right.pk],
        "reason_code": "counterfeit",
        "explanation": "Fake logo, price a tenth of retail.",
        "declare_good_faith": True,
        "declare_accuracy": True,
        "declare_authority": True,
        "signed_name": "Rita Reporter",
        **overrides,
    }


def _urls(n: int, start: int = 1) -> list[str]:
    return [f"https://shopnow.example/item/A{i}" for i in range(start, start + n)]


def test_file_a_case_as_json_in_the_expedited_lane(reporter_api, expedited, right, marketplace):
    listings = [{"url": _urls(1)[0], "note": "Logo on the strap"}, {"url": _urls(1, 2)[0]}]
    response = reporter_api.post(CASES_URL, _filing(right, listings=listings), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (case.channel, case.lane, case.items.count()) == (Channel.API, "expedited", 2)
    assert case.items.get(listing__url=listings[0]["url"]).brand_note == "Logo on the strap"
    assert body["rights"] == [right.pk] and len(body["declarations"]) == 3
    assert body["items"].endswith(f"/api/v1/case-items/?case={case.pk}")
    assert AuditEvent.objects.filter(action="case.submit", target_id=case.pk).exists()


def test_filing_errors_are_per_item_and_nothing_is_saved(reporter_api, expedited, right, marketplace, file_case):
    open_case = file_case(1)
    already = open_case.items.get().listing.url
    listings = [
        {"url": _urls(1)[0]},
        {"url": "https://unknown-market.example/item/1"},
        {"url": _urls(1)[0]},
        {"url": "not a url"},
        {"url": already},
    ]
    response = reporter_api.post(CASES_URL, _filing(right, listings=listings), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    errors = body["errors"]["listings"]
    assert set(errors) == {"1", "2", "3", "4"}
    assert errors["1"] == ["Unknown marketplace: no marketplace in the portal hosts unknown-market.example."]
    assert errors["2"] == ["Duplicate of row 0."]
    assert errors["4"] == [f"Already reported in your open case #{open_case.pk}."]
    assert body["detail"].startswith("listings: ")
    assert Case.objects.count() == 1


def test_filing_has_the_web_forms_field_errors(reporter_api, right, other_brand, marketplace):
    foreign = factories.IPRightFactory(brand=other_brand)
    body = _filing(right, rights=[foreign.pk], declare_accuracy=False, signed_name="", listing_urls=_urls(1))
    response = reporter_api.post(CASES_URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["rights"] == [f"Select a valid choice. {foreign.pk} is not one of the available choices."]
    assert errors["declare_accuracy"] == ["Tick the accuracy declaration to sign it."]
    assert errors["signed_name"] == ["Sign the declarations by typing your full name."]
    # Standard lane: evidence is required, said as the web form says it.
    response = reporter_api.post(CASES_URL, _filing(right, listing_urls=_urls(1)), format="json")
    assert response.json()["errors"]["evidence"] == [
        "Attach evidence: it is required for “Counterfeit goods bearing the mark” in the Standard lane."
    ]
    assert not Case.objects.exists()


def test_filing_with_evidence_as_multipart(reporter_api, right, marketplace):
    body = {**_filing(right), "listing_urls": _urls(2), "evidence": [pdf()], "evidence_kind": "test_purchase"}
    response = reporter_api.post(CASES_URL, body, format="multipart")
    assert response.status_code == 201, response.content
    evidence = response.json()["evidence"]
    assert [(e["content_type"], e["kind"]) for e in evidence] == [("application/pdf", "test_purchase")]
    bad = {**body, "listing_urls": _urls(1, 9), "evidence": [SimpleUploadedFile("x.pdf", b"MZ not a pdf")]}
    response = reporter_api.post(CASES_URL, bad, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]["evidence"] == [
        "x.pdf is not a PDF, though its name ends in .pdf: upload the real document (export or scan it again)."
    ]


def test_idempotency_key_files_one_case(reporter_api, expedited, right, marketplace):
    body = _filing(right, listing_urls=_urls(3))
    first = reporter_api.post(CASES_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-2026-11-29")
    second = reporter_api.post(CASES_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-2026-11-29")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and Case.objects.count() == 1
    assert Case.objects.get().idempotency_key == "batch-2026-11-29"
    too_long = reporter_api.post(CASES_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["errors"]


def test_a_thousand_listings_in_one_request(reporter_api, expedited, right, marketplace):
    started = time.perf_counter()
    response = reporter_api.post(CASES_URL, _filing(right, listing_urls=_urls(1000)), format="json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.content[:300]
    assert CaseItem.objects.filter(case_id=response.json()["id"]).count() == 1000
    print(f"filed 1,000 listings through the API in {elapsed:.2f} s")
    too_many = reporter_api.post(CASES_URL, _filing(right, listing_urls=_urls(1001, 5000)), format="json")
    assert too_many.status_code == 400
    assert too_many.json()["errors"]["listing_urls"] == [
        "A case holds at most 1,000 listings. Split them over several cases."
    ]


def test_csv_import_dry_run_then_file(reporter_api, expedited, right, marketplace):
    csv = "url,note\nhttps://shopnow.example/item/C1,Fake strap\nhttps://elsewhere.example/x,\n=HYPERLINK(1),\n"

    def upload(key: str = "", **options):
        data = {**_filing(right), "listing_file": SimpleUploadedFile("rows.csv", csv.encode()), **options}
        return reporter_api.post("/api/v1/cases/import/", data, format="multipart", HTTP_IDEMPOTENCY_KEY=key)

    dry = upload(dry_run=True)
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert (body["valid_count"], body["invalid_count"], body["case"]) == (1, 2, None)
    assert [row["number"] for row in body["rows"] if row["status"] == "error"] == [3, 4]
    assert not Case.objects.exists()

    refused = upload()
    assert refused.status_code == 400
    assert set(refused.json()["errors"]["listing_file"]) == {"3", "4"}
    assert not Case.objects.exists()

    filed = upload(key="csv-2026-11-29", skip_invalid=True)
    assert filed.status_code == 201
    case = Case.objects.get(pk=filed.json()["case"]["id"])
    assert case.channel == Channel.CSV and case.items.get().brand_note == "Fake strap"
    replayed = upload(key="csv-2026-11-29", skip_invalid=True)
    assert replayed.status_code == 200 and replayed.json()["case"]["id"] == case.pk and Case.objects.count() == 1

    not_csv = reporter_api.post(
        "/api/v1/cases/import/",
        {**_filing(right), "listing_file": SimpleUploadedFile("rows.xlsx", b"PK\x03\x04")},
        format="multipart",
    )
    assert not_csv.status_code == 400 and "is not a CSV file" in not_csv.json()["errors"]["listing_file"][0]


def test_withdraw_a_case(reporter_api, file_case, moderator, reporter):
    case = file_case(3)
    first, second, third = case.items.order_by("pk")
    drive_item_to(second, ItemStatus.REJECTED, moderator=moderator, brand_user=reporter)
    response = reporter_api.post(f"{CASES_URL}{case.pk}/withdraw/", {"reason": "Licensed after all."}, format="json")
    assert response.status_code == 200
    assert response.json() == {"withdrawn": [first.pk, third.pk], "refused": {}}
    assert set(case.items.values_list("status", flat=True)) == {ItemStatus.WITHDRAWN, ItemStatus.REJECTED}
    again = reporter_api.post(f"{CASES_URL}{case.pk}/withdraw/", {}, format="json")
    assert again.status_code == 409
    assert again.json() == {
        "status": 409,
        "code": "conflict",
        "detail": f"No item of case #{case.pk} can be withdrawn any more.",
    }


def test_item_actions_refuse_the_wrong_status_with_409(reporter_api, file_case):
    item = file_case(1).items.get()
    response = reporter_api.post(f"{ITEMS_URL}{item.pk}/resubmit/", {"note": "Amended."}, format="json")
    assert response.status_code == 409
    # The API's one error handler answers every refusal (core.errors.DomainError) in the error shape.
    assert response.json() == {
        "status": 409,
        "code": "conflict",
        "detail": f"Cannot resubmit item #{item.pk}: it is submitted; that is only possible when it is "
        "clarification requested.",
    }
    blank = reporter_api.post(f"{ITEMS_URL}{item.pk}/appeal/", {"grounds": ""}, format="json")
    assert blank.status_code == 400 and blank.json()["errors"] == {"grounds": ["This field may not be blank."]}


def test_an_item_action_past_its_deadline_is_refused_with_409(reporter_api, file_case, moderator, reporter):
    item = drive_item_to(file_case(1).items.get(), ItemStatus.REJECTED, moderator=moderator, brand_user=reporter)
    CaseItem.objects.filter(pk=item.pk).update(appeal_until=timezone.now() - timedelta(seconds=1))
    response = reporter_api.post(f"{ITEMS_URL}{item.pk}/appeal/", {"grounds": "We attached proof."}, format="json")
    assert (response.status_code, response.json()) == (
        409,
        {"status": 409, "code": "conflict", "detail": f"The appeal window of item #{item.pk} has closed."},
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.REJECTED


def test_answer_a_counter_notice(reporter_api, file_case, moderator, reporter):
    item = drive_item_to(file_case(1).items.get(), ItemStatus.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)
    no_evidence = reporter_api.post(f"{ITEMS_URL}{item.pk}/answer/", {"answer": "reject"}, format="json")
    assert no_evidence.status_code == 400
    assert no_evidence.json()["errors"] == {"evidence": ["Attach evidence to reject the counter-notice."]}
    response = reporter_api.post(
        f"{ITEMS_URL}{item.pk}/answer/",
        {"answer": "reject", "note": "Test purchase.", "evidence": [pdf()], "evidence_kind": "test_purchase"},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == ItemStatus.UPHELD
    assert body["counter_notices"][0]["answer"] == "rejected"


def test_lists_filter_order_and_page_by_keyset(owner_api, file_case, reporter, moderator):
    cases = [file_case(2) for _ in range(5)]
    drive_item_to(cases[0].items.first(), ItemStatus.REJECTED, moderator=moderator, brand_user=reporter)

    seen, url = [], f"{CASES_URL}?page_size=2"
    while url:
        page = owner_api.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == [case.pk for case in reversed(cases)]  # newest first, each once

    ascending, url = [], f"{ITEMS_URL}?page_size=3&ordering=status"
    while url:
        page = owner_api.get(url).json()
        ascending += [(row["status"], row["id"]) for row in page["results"]]
        url = page["next"]
    assert ascending == sorted(ascending) and len(ascending) == 10

    of_case = owner_api.get(f"{ITEMS_URL}?case={cases[1].pk}").json()["results"]
    assert {row["case"] for row in of_case} == {cases[1].pk} and len(of_case) == 2
    rejected = owner_api.get(f"{ITEMS_URL}?status=rejected").json()["results"]
    assert [row["status"] for row in rejected] == ["rejected"]
    assert rejected[0]["how_to_fix"] and rejected[0]["actions"] == ["appeal"]

    bad = owner_api.get(f"{ITEMS_URL}?status=nonsense&cursor=!!")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    assert owner_api.get(f"{CASES_URL}?cursor=bm90IGpzb24").status_code == 400
    assert owner_api.get(f"{CASES_URL}?page_size=0").json()["errors"] == {"page_size": ["Give a number from 1 to 500."]}


def test_lists_run_a_bounded_number_of_queries(owner_api, file_case, django_assert_max_num_queries):
    for _ in range(3):
        file_case(10)
    # Authentication (token, last use), the page, and nothing per row.
    with django_assert_max_num_queries(8):
        assert len(owner_api.get(f"{ITEMS_URL}?page_size=30").json()["results"]) == 30
    with django_assert_max_num_queries(8):
        assert len(owner_api.get(CASES_URL).json()["results"]) == 3


def test_a_resubmit_after_the_clarification_deadline_is_refused_before_the_sweep_runs(
    reporter_api, file_case, moderator, reporter
):
    """Issue 14.9: thirty seconds past `clarification_due_at`, the item stays where the sweep will find it."""
    item = drive_item_to(
        file_case(1).items.get(), ItemStatus.CLARIFICATION_REQUESTED, moderator=moderator, brand_user=reporter
    )
    due = timezone.now() - timedelta(seconds=30)
    CaseItem.objects.filter(pk=item.pk).update(clarification_due_at=due)
    response = reporter_api.post(f"{ITEMS_URL}{item.pk}/resubmit/", {"note": "Amended."}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"The clarification deadline of item #{item.pk} passed on {timezone.localtime(due):%Y-%m-%d %H:%M}: "
        "file the listing again in a new notice."
    )
    item.refresh_from_db()
    assert (item.status, item.clarification_due_at) == (ItemStatus.CLARIFICATION_REQUESTED, due)


def test_a_resubmit_before_the_clarification_deadline_goes_back_to_the_queue(
    reporter_api, file_case, moderator, reporter
):
    item = drive_item_to(
        file_case(1).items.get(), ItemStatus.CLARIFICATION_REQUESTED, moderator=moderator, brand_user=reporter
    )
    response = reporter_api.post(f"{ITEMS_URL}{item.pk}/resubmit/", {"note": "Amended."}, format="json")
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


def test_a_large_csv_import_is_checked_and_filed_in_the_background(
    reporter_api, expedited, right, marketplace, settings, django_capture_on_commit_callbacks
):
    """Issue 14.7: the API's import of more rows than are checked inline answers 202 with a status URL,
    like the web form's background draft, instead of checking and filing inside the request."""
    from cases import tasks

    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 3}
    lines = "".join(f"https://shopnow.example/item/B{n}\n" for n in range(6))

    def upload(**options):
        data = {**_filing(right), "listing_file": SimpleUploadedFile("rows.csv", f"url\n{lines}".encode()), **options}
        return reporter_api.post("/api/v1/cases/import/", data, format="multipart")

    with django_capture_on_commit_callbacks() as queued:
        accepted = upload()
    assert accepted.status_code == 202, accepted.content
    body = accepted.json()
    assert (body["state"], body["rows_total"], body["valid_count"], body["case"]) == ("checking", 6, None, None)
    assert accepted["Location"] == body["url"] and body["url"].endswith(f"/api/v1/case-imports/{body['id']}/")
    assert len(queued) == 1 and not Case.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.preview_case_draft(body["id"])  # what the queued message runs: check, then queue the filing
        tasks.file_case_draft(body["id"])
    status = reporter_api.get(body["url"]).json()
    assert (status["state"], status["valid_count"], status["invalid_count"]) == ("filed", 6, 0)
    case = Case.objects.get(pk=status["case"])
    assert case.items.count() == 6 and case.channel == Channel.CSV


def test_a_large_csv_dry_run_stops_at_the_checked_rows(
    reporter_api, expedited, right, marketplace, settings, api_for, owner, brand
):
    from cases import tasks

    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 1}
    data = {
        **_filing(right),
        "listing_file": SimpleUploadedFile("rows.csv", b"url\nhttps://shopnow.example/item/D1\nnot a url\n"),
        "dry_run": True,
    }
    body = reporter_api.post("/api/v1/cases/import/", data, format="multipart").json()
    tasks.preview_case_draft(body["id"])
    status = reporter_api.get(body["url"]).json()
    assert (status["state"], status["dry_run"], status["valid_count"], status["invalid_count"]) == ("ready", True, 1, 1)
    assert [row["number"] for row in status["rows"] if row["status"] == "error"] == [3]
    assert not Case.objects.exists()
    # The brand's members read it like the brand's cases (tests/api/tenancy_cases.py: no other brand does).
    assert api_for(owner, brand).get(body["url"]).json()["state"] == "ready"


@pytest.mark.parametrize(
    "status",
    [ItemStatus.SUBMITTED, ItemStatus.REJECTED, ItemStatus.ACCEPTED, ItemStatus.COUNTER_NOTICED, ItemStatus.REINSTATED],
)
def test_the_item_lists_fast_rows_equal_the_generic_serializers(owner_api, file_case, moderator, reporter, status):
    """CaseItemSerializer.to_representation builds the dict by hand: it must say exactly what the generic
    ModelSerializer path says, key order included, for items in every kind of status."""
    from rest_framework import serializers as drf
    from rest_framework.test import APIRequestFactory

    from cases.api.serializers import CaseItemSerializer

    item = file_case(1).items.get()
    if status != ItemStatus.SUBMITTED:
        drive_item_to(item, status, moderator=moderator, brand_user=reporter)
    listed = owner_api.get(f"{ITEMS_URL}?status={status}").json()["results"]
    assert [row["id"] for row in listed] == [item.pk]
    request = APIRequestFactory().get(ITEMS_URL)
    item = CaseItem.objects.select_related("listing__marketplace", "listing__seller").get(pk=item.pk)
    serializer = CaseItemSerializer(context={"request": request})
    generic = drf.ModelSerializer.to_representation(serializer, item)
    assert list(serializer.to_representation(item).items()) == list(generic.items())
    assert listed[0] == {**generic, "url": listed[0]["url"]}  # the host differs between the two requests


def _large_import(client, right, key: str, count: int = 6):
    """POST a CSV import of `count` rows (more than IMPORT_INLINE_MAX_ROWS, set to 3) with an Idempotency-Key."""
    lines = "".join(f"https://shopnow.example/item/K{n}\n" for n in range(count))
    data = {**_filing(right), "listing_file": SimpleUploadedFile("rows.csv", f"url\n{lines}".encode())}
    return client.post("/api/v1/cases/import/", data, format="multipart", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeated_key_returns_the_running_import_not_a_second_one(
    reporter_api, expedited, right, marketplace, settings, django_capture_on_commit_callbacks
):
    from cases import tasks

    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 3}
    with django_capture_on_commit_callbacks() as queued:
        first = _large_import(reporter_api, right, "import-2026-12-05")
        # A retry while the first is still being checked (its message not yet run), with a larger file.
        repeat = _large_import(reporter_api, right, "import-2026-12-05", count=9)
    assert (first.status_code, repeat.status_code) == (202, 202), repeat.content
    assert repeat.json() == first.json() and repeat["Location"] == first["Location"]
    assert CaseDraft.objects.count() == 1 and len(queued) == 1
    # Another key is another import.
    assert _large_import(reporter_api, right, "import-2026-12-06").json()["id"] != first.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        tasks.preview_case_draft(first.json()["id"])
        tasks.file_case_draft(first.json()["id"])
    after = _large_import(reporter_api, right, "import-2026-12-05")
    case = Case.objects.get(idempotency_key="import-2026-12-05")
    assert after.status_code == 200 and after.json()["case"]["id"] == case.pk
    assert case.items.count() == 6 and CaseDraft.objects.filter(idempotency_key="import-2026-12-05").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_imports_with_one_key_at_once_start_one_import(
    api_for, reporter, brand, expedited, right, marketplace, settings
):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 3}
    clients = [api_for(reporter, brand) for _ in range(3)]
    outcomes = run_together(*[lambda client=client: _large_import(client, right, "same-moment") for client in clients])
    assert [kind for kind, _ in outcomes] == ["ok"] * 3, outcomes
    responses = [response for _, response in outcomes]
    assert [response.status_code for response in responses] == [202] * 3, [r.content for r in responses]
    draft = CaseDraft.objects.get()
    assert {response.json()["id"] for response in responses} == {str(draft.pk)}
