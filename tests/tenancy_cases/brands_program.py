"""Tenancy cases of the MarketSafe program pages: every member sees the brand's place in the program and
its application's documents; only owners apply, save drafts and answer the association."""

from django.core.files.uploadedfile import SimpleUploadedFile

from brands.choices import Role
from brands.models import ApplicationDocument, ProgramApplication
from tests import factories
from tests.harness import TenancyCase

OWNERS = frozenset({Role.OWNER})


def _application_document(brand, user):
    application = factories.ProgramApplicationFactory(brand=brand, created_by=user)
    document = ApplicationDocument.objects.create(
        application=application,
        file=SimpleUploadedFile("membership.pdf", b"%PDF-1.7 test"),
        original_name="membership.pdf",
        content_type="application/pdf",
        size=13,
        sha256="0" * 64,
        uploaded_by=user,
    )
    return {"pk": document.pk}


DRAFT = {
    "company_name": "Acme Leather Ltd",
    "contact_name": "Ada Owner",
    "contact_email": "ada@example.test",
    "enforcement_statement": "Test purchases checked by our lab.",
    "save": "1",
}

CASES = [
    TenancyCase("brands:program", model=ProgramApplication),
    TenancyCase("brands:program_apply", model=ProgramApplication, allowed_roles=OWNERS),
    TenancyCase(
        "brands:program_apply", model=ProgramApplication, allowed_roles=OWNERS, method="post", data=DRAFT, success=302
    ),
    TenancyCase("brands:application_document_download", model=ApplicationDocument, make=_application_document),
]
