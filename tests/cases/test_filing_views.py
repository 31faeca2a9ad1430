"""The filing pages: form → dry-run preview → file, through the Django test client against the real database.

Large filings go through Celery; here the on-commit enqueue is captured and the task function is called
directly (tests/cases/test_filing_tasks.py runs a real worker).
"""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from brands.choices import IPRightStatus, Role
from cases import tasks
from cases.choices import DECLARATION_TEXT, Channel
from cases.models import Case, CaseDraft, Declaration
from tests import factories

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def png(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def csv_file(*lines: str, name: str = "listings.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\r\n".join(lines).encode(encoding), content_type="text/csv")


def urls(*numbers) -> str:
    return "\n".join(f"https://shopnow.example/item/{n}" for n in numbers)


@pytest.fixture
def client(client, reporter):
    client.force_login(reporter)
    return client


@pytest.fixture
def create_url(brand) -> str:
    return reverse("cases:case_create", kwargs={"brand_slug": brand.slug})


@pytest.fixture
def form_data(right):
    def make(**overrides):
        data = {
            "idempotency_key": str(uuid.uuid4()),
            "rights": [right.pk],
            "reason_code": "counterfeit",
            "explanation": "Fake logo on the strap, price a tenth of retail.",
            "evidence": [png()],
            "evidence_kind": "test_purchase",
            "listing_urls": urls(1, 2),
            "declare_good_faith": "on",
            "declare_accuracy": "on",
            "declare_authority": "on",
            "signed_name": "Rita Reporter",
        } | overrides
        return {key: value for key, value in data.items() if value is not None}

    return make


def draft_of(response) -> CaseDraft:
    return CaseDraft.objects.get(pk=response.resolver_match.kwargs["draft_id"])


def preview(client, create_url, data, **extra):
    response = client.post(create_url, data, follow=True, **extra)
    assert response.status_code == 200
    assert response.resolver_match.url_name == "case_draft", response.content.decode()[:3000]
    return response


def file_draft(client, brand, draft):
    return client.post(reverse("cases:case_draft_file", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk}))


# --- the form -------------------------------------------------------------------------------------


def test_the_form_offers_only_the_brands_usable_rights(client, create_url, brand, other_brand, right):
    pending = factories.IPRightFactory(brand=brand, name="PENDING MARK", status=IPRightStatus.PENDING)
    expired = factories.IPRightFactory(brand=brand, name="OLD MARK", valid_until=timezone.localdate() - timedelta(1))
    foreign = factories.IPRightFactory(brand=other_brand, name="GLOBEX MARK")
    response = client.get(create_url)
    assert response.status_code == 200
    assert list(response.context["form"].fields["rights"].queryset) == [right]
    body = response.content.decode()
    assert right.name in body
    for hidden in (pending, expired, foreign):
        assert hidden.name not in body
    assert reverse("cases:csv_template", kwargs={"brand_slug": brand.slug}) in body
    for text in DECLARATION_TEXT.values():
        assert text in body


def test_another_brands_right_is_not_a_valid_choice(client, create_url, form_data, other_brand):
    foreign = factories.IPRightFactory(brand=other_brand)
    response = client.post(create_url, form_data(rights=[foreign.pk]))
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["form"].errors["rights"])
    assert not CaseDraft.objects.exists()


def test_errors_are_summarised_at_the_top_with_links_and_shown_next_to_their_fields(client, create_url, form_data):
    response = client.post(
        create_url, form_data(explanation="", declare_accuracy=None, signed_name="", listing_urls="")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Error: File a case" in body
    assert 'role="alert"' in body
    assert '<a href="#id_explanation">Explanation: Explain what infringes which right.</a>' in body
    assert '<a href="#id_declare_accuracy">Tick the accuracy declaration to sign it.</a>' in body
    assert '<a href="#id_signed_name">' in body
    assert '<a href="#id_listing_urls">Listing URLs: Paste the listing URLs' in body
    assert 'id="id_explanation_error"' in body
    assert 'aria-invalid="true"' in body
    assert "choose them again" in body  # the evidence file must be chosen again after an error
    assert not CaseDraft.objects.exists()


def test_standard_lane_requires_evidence(client, create_url, form_data):
    response = client.get(create_url)
    assert "Evidence is required: Acme Leather files in the Standard lane." in response.content.decode()
    response = client.post(create_url, form_data(evidence=None))
    assert response.context["form"].errors["evidence"] == [
        "Attach evidence: it is required for “Counterfeit goods bearing the mark” in the Standard lane."
    ]


def test_expedited_lane_makes_evidence_optional_except_for_some_reasons(client, create_url, form_data, brand):
    factories.ProgramMembershipFactory(brand=brand)
    body = client.get(create_url).content.decode()
    assert 'data-required-reasons="patent unlawful_import other"' in body
    assert "Evidence is optional for this reason in the Expedited (MarketSafe) lane." in body

    response = client.post(create_url, form_data(evidence=None, reason_code="patent"))
    assert "evidence" in response.context["form"].errors
    assert "Evidence is required for this reason" in response.content.decode()
    response = client.post(create_url, form_data(evidence=None), follow=True)
    assert response.resolver_match.url_name == "case_draft"


def test_each_evidence_file_is_checked_by_its_content(client, create_url, form_data):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    response = client.post(create_url, form_data(evidence=[png(), fake]))
    assert response.context["form"].errors["evidence"] == [
        "photo.png is not a PNG image, though its name ends in .png: "
        "upload the real document (export or scan it again)."
    ]


def test_at_most_ten_evidence_files(client, create_url, form_data):
    response = client.post(create_url, form_data(evidence=[png(f"{n}.png") for n in range(11)]))
    assert response.context["form"].errors["evidence"] == ["Attach at most 10 files; you chose 11."]


def test_pasted_rows_keep_the_line_numbers_of_the_textarea(client, create_url, form_data, marketplace):
    response = preview(client, create_url, form_data(listing_urls="\n\n  https://shopnow.example/item/1\n\nbad\n"))
    assert [(row.number, row.status) for row in response.context["preview"].rows] == [(3, "ok"), (5, "error")]


def test_urls_and_a_file_together_are_refused(client, create_url, form_data):
    response = client.post(create_url, form_data(listing_file=csv_file("url", "https://shopnow.example/item/1")))
    assert response.context["form"].errors["listing_file"] == ["Paste the URLs or upload a CSV file, not both."]


def test_a_spreadsheet_that_is_not_csv_is_refused(client, create_url, form_data):
    xlsx = SimpleUploadedFile("listings.xlsx", b"PK\x03\x04 zip")
    response = client.post(create_url, form_data(listing_urls="", listing_file=xlsx))
    assert "listings.xlsx is not a CSV file" in response.context["form"].errors["listing_file"][0]


def test_a_csv_in_the_wrong_encoding_names_its_row_and_saves_nothing(client, create_url, form_data, marketplace):
    upload = csv_file("url,note", "https://shopnow.example/item/1,déjà vu", encoding="latin-1")
    response = client.post(create_url, form_data(listing_urls="", listing_file=upload))
    assert response.status_code == 200
    (error,) = response.context["form"].errors["listing_file"]
    assert error.startswith("listings.csv is not UTF-8 (row 2, byte")
    assert f'<a href="#id_listing_file">Or a CSV file: {error}' in response.content.decode()
    assert not CaseDraft.objects.exists()


# --- preview --------------------------------------------------------------------------------------


def test_the_preview_lists_every_row_with_its_problem_and_files_nothing(
    client, create_url, form_data, brand, marketplace, file_case
):
    reported = file_case(1).items.get().listing.url
    upload = csv_file(
        "url,note",
        "https://shopnow.example/item/1,Fake strap",
        "not a url,",
        "https://unknown.example/item/2,",
        "https://SHOPNOW.example/item/1/,again",
        f"{reported},",
        "https://shopnow.example/item/3,=HYPERLINK(evil)",
    )
    cases_before = Case.objects.count()
    response = preview(client, create_url, form_data(listing_urls="", listing_file=upload), REMOTE_ADDR="203.0.113.9")
    body = response.content.decode()
    assert Case.objects.count() == cases_before
    preview_rows = response.context["preview"].rows
    assert [(row.number, row.status) for row in preview_rows] == [
        (2, "ok"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
        (7, "warning"),
    ]
    for text in (
        "Not a listing URL",
        "Unknown marketplace: no marketplace in the portal hosts unknown.example.",
        "Duplicate of row 2.",
        "Already reported in your open case #",
        "The note starts with “=”: it is kept as text and never evaluated as a formula.",
        "=HYPERLINK(evil)",
        "<strong>2</strong> of 6 listings can be filed",
        "File 2 listings",
    ):
        assert text in body
    draft = draft_of(response)
    assert draft.state == CaseDraft.State.READY
    assert draft.payload["ip_address"] == "203.0.113.9"
    assert draft.payload["channel"] == Channel.CSV


def test_filing_the_preview_files_its_valid_rows_as_one_case(client, create_url, form_data, brand, marketplace):
    upload = csv_file(
        "url,note", "https://shopnow.example/item/1,Fake strap", "bad,", "https://shopnow.example/item/2,"
    )
    draft = draft_of(
        preview(client, create_url, form_data(listing_urls="", listing_file=upload), REMOTE_ADDR="203.0.113.9")
    )

    response = file_draft(client, brand, draft)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/b/{brand.slug}/cases/{case.pk}/"
    assert case.channel == Channel.CSV
    assert case.idempotency_key == draft.idempotency_key
    assert case.filed_by.username.startswith("user")
    assert sorted((item.listing.url, item.brand_note) for item in case.items.select_related("listing")) == [
        ("https://shopnow.example/item/1", "Fake strap"),
        ("https://shopnow.example/item/2", ""),
    ]
    declarations = Declaration.objects.filter(case=case)
    assert declarations.count() == 3
    assert {(d.signed_name, d.ip_address) for d in declarations} == {("Rita Reporter", "203.0.113.9")}
    (evidence,) = case.evidence.all()
    assert (evidence.original_name, evidence.kind, evidence.content_type) == (
        "screenshot.png",
        "test_purchase",
        "image/png",
    )
    draft.refresh_from_db()
    assert (draft.state, draft.case) == (CaseDraft.State.FILED, case)


def test_a_double_submit_files_one_case(client, create_url, form_data, brand, marketplace):
    draft = draft_of(preview(client, create_url, form_data()))
    first, second = file_draft(client, brand, draft), file_draft(client, brand, draft)
    case = Case.objects.get()
    assert first["Location"] == second["Location"] == f"/b/{brand.slug}/cases/{case.pk}/"
    assert case.items.count() == 2


def test_the_same_form_submitted_again_after_filing_is_stale(client, create_url, form_data, brand, marketplace):
    data = form_data()
    draft = draft_of(preview(client, create_url, data))
    file_draft(client, brand, draft)
    case = Case.objects.get()

    response = client.post(create_url, data | {"evidence": [png()]}, follow=True)
    assert response.redirect_chain[0][0] == f"/b/{brand.slug}/cases/{case.pk}/"
    assert f"This form was already filed as case #{case.pk}." in [str(m) for m in response.context["messages"]]
    assert Case.objects.count() == 1
    assert CaseDraft.objects.count() == 1


def test_an_expired_preview_cannot_be_filed(client, create_url, form_data, brand, marketplace):
    draft = draft_of(preview(client, create_url, form_data()))
    CaseDraft.objects.filter(pk=draft.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("cases:case_draft", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk}))
    assert "This preview has expired" in response.content.decode()
    assert "File 2 listings" not in response.content.decode()
    response = file_draft(client, brand, draft)
    assert response.status_code == 302
    assert not Case.objects.exists()


def test_a_listing_reported_meanwhile_fails_the_filing_and_saves_nothing(
    client, create_url, form_data, brand, marketplace, file_case
):
    draft = draft_of(preview(client, create_url, form_data()))
    file_case(1, listing_urls=["https://shopnow.example/item/2"])
    cases_before = Case.objects.count()

    response = client.post(
        reverse("cases:case_draft_file", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk}), follow=True
    )
    assert Case.objects.count() == cases_before
    body = response.content.decode()
    assert "The case could not be filed; nothing was saved" in body
    assert "Already reported in one of your open cases: https://shopnow.example/item/2" in body
    assert "File 2 listings" not in body


def test_going_back_to_fix_keeps_the_form_and_the_evidence(client, create_url, form_data, brand, marketplace):
    data = form_data(listing_urls=urls(1, "bad") + "\nnot a url")
    draft = draft_of(preview(client, create_url, data))

    response = client.get(f"{create_url}?draft={draft.pk}")
    form = response.context["form"]
    assert form.initial["idempotency_key"] == draft.idempotency_key
    assert form.initial["listing_urls"] == data["listing_urls"]
    assert "Kept from your preview: screenshot.png" in response.content.decode()

    fixed = data | {"listing_urls": urls(1, 2, 3), "draft": str(draft.pk), "evidence": None}
    fixed = {key: value for key, value in fixed.items() if value is not None}
    new = draft_of(preview(client, create_url, fixed))
    assert not CaseDraft.objects.filter(pk=draft.pk).exists()
    assert [entry["name"] for entry in new.payload["evidence"]] == ["screenshot.png"]
    file_draft(client, brand, new)
    case = Case.objects.get()
    assert case.items.count() == 3
    assert case.evidence.count() == 1


def test_only_the_author_sees_a_draft(client, create_url, form_data, brand, marketplace, member_of):
    draft = draft_of(preview(client, create_url, form_data()))
    colleague = member_of(Role.OWNER)
    client.force_login(colleague)
    url = reverse("cases:case_draft", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk})
    assert client.get(url).status_code == 403
    assert client.get(f"{create_url}?draft={draft.pk}").status_code == 403
    assert file_draft(client, brand, draft).status_code == 403
    assert not Case.objects.exists()


# --- large filings go through Celery --------------------------------------------------------------


def test_a_large_filing_is_checked_and_filed_in_the_background_with_progress(
    client, create_url, form_data, brand, marketplace, settings, django_capture_on_commit_callbacks
):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 3}
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(create_url, form_data(listing_urls=urls(*range(1, 6))))
    draft = CaseDraft.objects.get()
    progress_url = reverse("cases:case_draft_progress", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk})
    assert response["Location"] == progress_url
    assert draft.state == CaseDraft.State.CHECKING
    assert len(callbacks) == 1  # send_on_commit(preview_case_draft, ...), not run here

    page = client.get(progress_url).content.decode()
    assert "Checking your listings" in page
    assert '<progress id="draft-progress-bar" value="0" max="5">' in page
    # Quick polls at first (a 1,000-row check takes the worker about half a second), then one a second.
    assert 'hx-trigger="load delay:100ms"' in page
    assert f'hx-get="{progress_url}?poll=1"' in page
    assert "htmx-2.min.js" in page
    partial = client.get(progress_url, {"poll": "1"}, headers={"HX-Request": "true"})
    assert "<h1>" not in partial.content.decode()
    assert "0 of 5 rows checked" in partial.content.decode()
    assert f'hx-get="{progress_url}?poll=2"' in partial.content.decode()
    for polls, delay in (("19", 100), ("20", 250), ("39", 250), ("40", 1000), ("99999999", 1000), ("x", 100)):
        answer = client.get(progress_url, {"poll": polls}, headers={"HX-Request": "true"}).content.decode()
        assert f'hx-trigger="load delay:{delay}ms"' in answer, polls

    assert tasks.preview_case_draft(str(draft.pk)) == CaseDraft.State.READY
    done = client.get(progress_url, headers={"HX-Request": "true"})
    draft_url = reverse("cases:case_draft", kwargs={"brand_slug": brand.slug, "draft_id": draft.pk})
    assert done["HX-Redirect"] == draft_url
    assert client.get(progress_url)["Location"] == draft_url

    with django_capture_on_commit_callbacks() as callbacks:
        response = file_draft(client, brand, draft)
    assert response["Location"] == progress_url
    assert len(callbacks) == 1  # send_on_commit(file_case_draft, ...)
    assert "Filing your case" in client.get(progress_url).content.decode()
    assert file_draft(client, brand, draft)["Location"] == progress_url  # a double submit queues nothing more
    assert not Case.objects.exists()

    assert tasks.file_case_draft(str(draft.pk)) == CaseDraft.State.FILED
    case = Case.objects.get()
    assert case.items.count() == 5
    assert (
        client.get(progress_url, headers={"HX-Request": "true"})["HX-Redirect"] == f"/b/{brand.slug}/cases/{case.pk}/"
    )


# --- the CSV template -----------------------------------------------------------------------------


def test_the_csv_template_has_the_header_and_two_examples_on_the_portals_marketplaces(client, brand, marketplace):
    response = client.get(reverse("cases:csv_template", kwargs={"brand_slug": brand.slug}))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="case-listings-template.csv"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "url,note"
    assert lines[1].startswith("https://shopnow.example/item/123456,")
    assert len(lines) == 3
