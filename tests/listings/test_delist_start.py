"""Issue 13 point 4: a moderation lead starts a delisting job from pasted listing ids or URLs, or a file,
sees a preview of how many listings match, confirms, and lands on the job's page. Moderators cannot."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.audit.models import AuditEvent
from listings.choices import DelistSelectionKind, ListingStatus
from listings.models import DelistJob
from marketsafe.management.commands import seed_demo
from tests import factories
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

START = "/admin/listings/delistjob/start/"
CONFIRM = "/admin/listings/delistjob/start/confirm/"


@pytest.fixture
def lead_client(client):
    client.force_login(staff_in(seed_demo.MODERATION_LEADS, "leo"))
    return client


@pytest.fixture
def listings(marketplace):
    live = factories.ListingFactory.create_batch(3, marketplace=marketplace)
    removed = factories.ListingFactory(marketplace=marketplace, status=ListingStatus.REMOVED)
    return live, removed


def test_a_lead_pastes_ids_and_urls_previews_confirms_and_lands_on_the_job(lead_client, listings):
    live, removed = listings
    lines = f"{live[0].pk}\n{live[1].url}\n\n{removed.pk}\n999999999\nnot a listing\n"
    assert b"Start a job from a list or a file" in lead_client.get("/admin/listings/delistjob/").content
    preview = lead_client.post(START, {"reason": "Counterfeit sweep of ShopNow.", "lines": lines})
    assert preview.status_code == 200
    summary = preview.context["preview"]
    assert (summary.lines, summary.matched, summary.live, summary.unmatched_count) == (5, 3, 2, 2)
    html = preview.content.decode()
    assert "3 listings match" in html and "No listing has this id." in html
    assert "Neither a listing id nor a listing URL." in html
    assert not DelistJob.objects.exists()  # a preview creates nothing
    assert lines.strip().splitlines()[0] in html  # the pasted text is kept in the form

    token = preview.context["token"]
    response = lead_client.post(CONFIRM, {"token": token})
    job = DelistJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:listings_delistjob_change", args=[job.pk])
    assert job.selection_kind == DelistSelectionKind.LISTING_IDS
    assert job.selection["listing_ids"] == sorted([live[0].pk, live[1].pk, removed.pk])
    assert (job.actor.username, job.reason, job.automated) == ("leo", "Counterfeit sweep of ShopNow.", False)
    assert AuditEvent.objects.filter(action="delist_job.create", target_id=job.pk).exists()
    # A double click starts no second job.
    lead_client.post(CONFIRM, {"token": token})
    assert DelistJob.objects.count() == 1


def test_a_lead_uploads_a_file(lead_client, listings):
    live, _ = listings
    content = ("\ufeff" + "\n".join(str(x.pk) for x in live)).encode()
    preview = lead_client.post(
        START, {"reason": "From the brand's list.", "file": SimpleUploadedFile("ids.csv", content, "text/csv")}
    )
    assert preview.context["preview"].matched == 3
    lead_client.post(CONFIRM, {"token": preview.context["token"]})
    assert DelistJob.objects.get().selection["listing_ids"] == sorted(x.pk for x in live)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": "x"}, "lines", "Paste at least one listing id or URL, or upload a file."),
        ({"reason": "", "lines": "1"}, "reason", "This field is required."),
        (
            {"reason": "x", "file": SimpleUploadedFile("ids.txt", b"\xff\xfe1\n")},
            "file",
            "The file is not UTF-8 text (byte 1 is not); save it as UTF-8 text or CSV.",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(lead_client, data, field, message):
    response = lead_client.post(START, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert "preview" not in response.context


def test_nothing_matching_offers_no_confirmation(lead_client, listings):
    response = lead_client.post(START, {"reason": "x", "lines": "https://shopnow.example/item/none"})
    assert response.context["token"] == ""
    assert "nothing to start" in response.content.decode()


def test_an_expired_or_foreign_preview_starts_nothing(lead_client, listings):
    response = lead_client.post(CONFIRM, {"token": "made-up"}, follow=True)
    assert "This preview has expired" in response.content.decode()
    assert not DelistJob.objects.exists()


def test_a_moderator_cannot_start_a_job_from_a_list(client, listings):
    client.force_login(staff_in(seed_demo.MODERATORS, "mona"))
    assert client.get(START).status_code == 403
    assert client.post(START, {"reason": "x", "lines": "1"}).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403
    assert b"Start a job from a list" not in client.get("/admin/listings/delistjob/").content
