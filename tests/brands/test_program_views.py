"""The brand's program pages: the form's refusals name the field or the file and save nothing, an
application under review cannot be changed, and a new application starts from the last one."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from brands.choices import ApplicationStatus
from brands.models import ProgramApplication
from brands.services import applications
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
    assert "proof.pdf is not a PDF, though its name ends in .pdf" in response.content.decode()
    assert not ProgramApplication.objects.exists()


def test_an_application_under_review_cannot_be_changed(owner_client, brand, owner, right):
    applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True)
    response = owner_client.get(apply_url(brand), follow=True)
    assert response.redirect_chain[-1][0] == reverse("brands:program", kwargs={"brand_slug": brand.slug})
    assert "it cannot be changed while the association reviews it" in response.content.decode()
    posted = owner_client.post(apply_url(brand), {**DETAILS, "submit": "1", "attest": "on"})
    assert posted.status_code == 302
    assert ProgramApplication.objects.get().status == ApplicationStatus.SUBMITTED


def test_a_new_application_starts_from_the_last_one(owner_client, brand, owner, right, moderator):
    application = applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )
    applications.application_reject(application_id=application.pk, actor=moderator, reason="Too few notices yet.")
    page = owner_client.get(reverse("brands:program", kwargs={"brand_slug": brand.slug})).content.decode()
    assert "Too few notices yet." in page and "Apply again" in page
    form = owner_client.get(apply_url(brand)).context["form"]
    assert form.initial["association_member_number"] == "IACC-7"
    assert form.initial["rights"] == [right.pk]
    assert "response" not in form.fields


def test_the_answer_field_shows_the_question(owner_client, brand, owner, right, moderator):
    application = applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )
    applications.application_request_info(application_id=application.pk, actor=moderator, message="Who tests samples?")
    form = owner_client.get(apply_url(brand)).context["form"]
    assert form.fields["response"].help_text == "The association asked: Who tests samples?"
    assert form.fields["rights"].label == "IP rights the membership covers"  # required to submit: no "(optional)"


def test_a_refusal_by_status_after_the_pages_check_shows_on_the_form(owner_client, brand, owner, right, monkeypatch):
    # A reviewer takes the application into review between the page's own check and the service's lock:
    # the service refuses (TransitionNotAllowed, a DomainError) and the page shows why, saving nothing.
    applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True)
    monkeypatch.setattr("brands.views.ProgramApplyView.refuse_if_locked", lambda view: None)
    response = owner_client.post(apply_url(brand), {**DETAILS, "company_name": "Changed", "rights": [right.pk]})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This application cannot be changed: it is submitted, and only an application that is draft or"
        " information requested can."
    ]
    assert ProgramApplication.objects.get().company_name == DETAILS["company_name"]
