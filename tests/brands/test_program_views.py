"""The brand's program pages: the form's refusals name the field or the file and save nothing, an
application under review cannot be changed, and a new application starts from the last one."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from brands import services
from brands.choices import ApplicationStatus
from brands.models import ProgramApplication
from tests.brands.test_program import DETAILS

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def apply_url(brand) -> str:
    return reverse("brands:program_apply", kwargs={"brand_slug": brand.slug})


def test_a_mistyped_document_is_refused_by_name_and_nothing_is_saved(owner_client, brand, right):
    data = {**DETAILS, "rights": [right.pk], "save": "1", "document": SimpleUploadedFile("proof.pdf", b"GIF89a....")}
    response = owner_client.post(apply_url(brand), data)
    assert response.status_code == 200
    assert "proof.pdf is not a file type we accept" in response.content.decode()
    assert not ProgramApplication.objects.exists()


def test_an_application_under_review_cannot_be_changed(owner_client, brand, owner, right):
    services.application_save(brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True)
    response = owner_client.get(apply_url(brand), follow=True)
    assert response.redirect_chain[-1][0] == reverse("brands:program", kwargs={"brand_slug": brand.slug})
    assert "it cannot be changed while the association reviews it" in response.content.decode()
    posted = owner_client.post(apply_url(brand), {**DETAILS, "submit": "1", "attest": "on"})
    assert posted.status_code == 302
    assert ProgramApplication.objects.get().status == ApplicationStatus.SUBMITTED


def test_a_new_application_starts_from_the_last_one(owner_client, brand, owner, right, moderator):
    application = services.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )
    services.application_reject(application_id=application.pk, actor=moderator, reason="Too few notices yet.")
    page = owner_client.get(reverse("brands:program", kwargs={"brand_slug": brand.slug})).content.decode()
    assert "Too few notices yet." in page and "Apply again" in page
    form = owner_client.get(apply_url(brand)).context["form"]
    assert form.initial["association_member_number"] == "IACC-7"
    assert form.initial["rights"] == [right.pk]
    assert "response" not in form.fields


def test_the_answer_field_shows_the_question(owner_client, brand, owner, right, moderator):
    application = services.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )
    services.application_request_info(application_id=application.pk, actor=moderator, message="Who tests samples?")
    form = owner_client.get(apply_url(brand)).context["form"]
    assert form.fields["response"].help_text == "The association asked: Who tests samples?"
    assert form.fields["rights"].label == "IP rights the membership covers"  # required to submit: no "(optional)"
