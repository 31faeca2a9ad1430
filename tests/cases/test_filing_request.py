"""The filing request: its payload round trip, the drafts stored before it existed, and the three entry
points (the web form, the CSV draft filed by its Celery task, the API) handing `case_submit` the same
request for the same input."""

import json
import uuid
from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandMembership
from cases import importing, services, tasks
from cases.choices import Channel
from cases.models import Case, CaseDraft
from core.files import private_storage
from core.uploads import check_upload
from tests.api_harness import token_client

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
URLS = ["https://shopnow.example/item/R1", "https://shopnow.example/item/R2"]
State = CaseDraft.State


def staged_files() -> list[str]:
    storage = private_storage()
    return storage.listdir("cases/casedraft")[1] if storage.exists("cases/casedraft") else []


def a_request(brand, reporter, right, **fields) -> services.FilingRequest:
    defaults = {"reason_code": "counterfeit", "explanation": "Fake logo.", "signed_name": "Rita Reporter"}
    return services.FilingRequest(brand_id=brand.pk, actor_id=reporter.pk, right_ids=(right.pk,), **defaults | fields)


def test_a_request_survives_its_payload_as_json(brand, reporter, right):
    request = a_request(
        brand,
        reporter,
        right,
        ip_address="192.0.2.1",
        listings=(services.ListingRow(url=URLS[0], note="Logo on the strap"), services.ListingRow(url=URLS[1])),
        evidence=(
            services.StoredEvidence(path="cases/casedraft/a.png", name="a.png", content_type="image/png", size=72),
        ),
        evidence_kind="test_purchase",
        channel=Channel.CSV,
        idempotency_key="form-1",
    )
    payload = json.loads(json.dumps(request.to_payload()))
    assert payload["v"] == 1
    assert services.FilingRequest.from_payload(payload) == request
    # A holder's own keys beside the request (the draft's pasted text) are left to it.
    assert services.FilingRequest.from_payload({**payload, "pasted": "x"}) == request
    with pytest.raises(ValueError, match="version 2"):
        services.FilingRequest.from_payload({**payload, "v": 2})


def test_a_draft_stored_before_the_request_type_still_files(brand, reporter, right, marketplace):
    """Drafts are not converted by a migration: `from_payload` reads their unversioned dict."""
    (evidence,) = services.evidence_store([check_upload(SimpleUploadedFile("proof.png", PNG))])
    rows = importing.preview_rows(brand=brand, rows=importing.parse_pasted("\n".join(URLS))).to_json()
    draft = CaseDraft.objects.create(
        brand=brand,
        created_by=reporter,
        idempotency_key="old-form",
        state=State.READY,
        input_rows=rows,
        checked_rows=rows,
        rows_total=2,
        expires_at=timezone.now() + importing.draft_lifetime(),
        payload={
            "rights": [right.pk],
            "reason_code": "counterfeit",
            "explanation": "Fake logo.",
            "evidence": [{"path": evidence.path, "name": "proof.png", "content_type": "image/png", "size": 72}],
            "evidence_kind": "screenshot",
            "signed_name": "Rita Reporter",
            "ip_address": "192.0.2.1",
            "channel": "web",
            "pasted": "\n".join(URLS),
        },
    )
    assert importing.draft_request(draft) == a_request(
        brand, reporter, right, ip_address="192.0.2.1", evidence=(evidence,), idempotency_key="old-form"
    )

    filed = importing.draft_submit(draft_id=draft.pk)

    assert filed.state == State.FILED, filed.errors
    case = Case.objects.get()
    assert (case.idempotency_key, case.explanation, case.items.count()) == ("old-form", "Fake logo.", 2)
    assert case.evidence.get().original_name == "proof.png"
    assert case.declarations.first().ip_address == "192.0.2.1"


def test_the_api_deletes_its_staged_evidence_whether_it_files_or_not(
    brand, reporter, right, marketplace, monkeypatch, django_capture_on_commit_callbacks
):
    api = token_client(BrandMembership.objects.get(user=reporter, brand=brand))
    body = {
        "rights": [right.pk],
        "reason_code": "counterfeit",
        "explanation": "Fake logo.",
        "declare_good_faith": True,
        "declare_accuracy": True,
        "declare_authority": True,
        "signed_name": "Rita Reporter",
    }
    before = set(staged_files())
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(
            "/api/v1/cases/",
            {**body, "listing_urls": URLS[:1], "evidence": [SimpleUploadedFile("proof.png", PNG)]},
            format="multipart",
        )
    assert first.status_code == 201, first.content
    assert set(staged_files()) == before

    def refuse(*, request):
        raise ValidationError({"listings": ["One of these listings was just reported in another open case."]})

    monkeypatch.setattr(services, "case_submit", refuse)
    second = api.post(
        "/api/v1/cases/",
        {**body, "listing_urls": URLS[1:], "evidence": [SimpleUploadedFile("proof.png", PNG)]},
        format="multipart",
    )
    assert second.status_code == 400
    assert set(staged_files()) == before


# --- the three entry points -----------------------------------------------------------------------


@pytest.fixture
def filed_requests(monkeypatch) -> list[services.FilingRequest]:
    """The requests `case_submit` is handed; each is refused, so the same listings can be filed again."""
    seen: list[services.FilingRequest] = []

    def record(*, request):
        seen.append(request)
        raise ValidationError({"listings": ["Recorded, not filed."]})

    monkeypatch.setattr(services, "case_submit", record)
    return seen


def test_the_web_form_the_csv_draft_and_the_api_build_the_same_request(
    client, brand, reporter, right, marketplace, filed_requests, settings, django_capture_on_commit_callbacks
):
    form = {
        "rights": [right.pk],
        "reason_code": "counterfeit",
        "explanation": "Fake logo on the strap.",
        "evidence_kind": "test_purchase",
        "declare_good_faith": "on",
        "declare_accuracy": "on",
        "declare_authority": "on",
        "signed_name": "Rita Reporter",
    }
    client.force_login(reporter)
    create_url = reverse("cases:case_create", kwargs={"brand_slug": brand.slug})

    def file_draft(response):
        draft = CaseDraft.objects.get(pk=response.resolver_match.kwargs["draft_id"])
        return client.post(reverse("cases:case_draft_file", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk}))

    # The web form with pasted URLs, checked and filed in the request.
    web = client.post(
        create_url,
        {**form, "idempotency_key": str(uuid.uuid4()), "evidence": [SimpleUploadedFile("proof.png", PNG)]}
        | {"listing_urls": "\n".join(URLS)},
        follow=True,
    )
    file_draft(web)

    # The same as a CSV file, checked and filed by the Celery tasks (called here; the enqueues are captured).
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 0}
    csv = SimpleUploadedFile("listings.csv", "\r\n".join(["url,note", *URLS]).encode())
    with django_capture_on_commit_callbacks():
        client.post(
            create_url,
            {**form, "idempotency_key": str(uuid.uuid4()), "evidence": [SimpleUploadedFile("proof.png", PNG)]}
            | {"listing_file": csv},
        )
        draft = CaseDraft.objects.get(payload__channel=Channel.CSV)
        assert tasks.preview_case_draft(str(draft.pk)) == State.READY
        importing.draft_submit(draft_id=draft.pk)
        assert tasks.file_case_draft(str(draft.pk)) == State.FAILED

    # The API, as JSON fields with the evidence in a multipart body.
    api = token_client(BrandMembership.objects.get(user=reporter, brand=brand))
    api_body = {**form, "listing_urls": URLS, "evidence": [SimpleUploadedFile("proof.png", PNG)]}
    api_body.update(dict.fromkeys(("declare_good_faith", "declare_accuracy", "declare_authority"), True))
    response = api.post("/api/v1/cases/", api_body, format="multipart", HTTP_IDEMPOTENCY_KEY="api-1")
    assert response.status_code == 400

    web_request, csv_request, api_request = filed_requests
    assert [r.channel for r in filed_requests] == [Channel.WEB, Channel.CSV, Channel.API]
    assert api_request.idempotency_key == "api-1"
    assert [r.listings for r in filed_requests] == [tuple(services.ListingRow(url=url) for url in URLS)] * 3
    assert [[(e.name, e.content_type, e.size) for e in r.evidence] for r in filed_requests] == [
        [("proof.png", "image/png", len(PNG))]
    ] * 3

    def same(request: services.FilingRequest) -> services.FilingRequest:
        # What differs by construction: the channel, the form's or header's key, the stored copy's path.
        return replace(request, channel="", idempotency_key="", evidence=())

    assert same(web_request) == same(csv_request) == same(api_request)
    assert same(web_request) == same(
        a_request(
            brand,
            reporter,
            right,
            explanation="Fake logo on the strap.",
            ip_address="127.0.0.1",
            evidence_kind="test_purchase",
            listings=tuple(services.ListingRow(url=url) for url in URLS),
        )
    )
