"""Tenancy cases of the MarketSafe program pages: every member sees the brand's place in the program and
its application's documents; only owners apply, save drafts and answer the association."""

from brands.choices import ApplicationStatus, Role
from brands.models import ApplicationDocument, ProgramApplication
from tests import factories
from tests.harness import ACTOR, BRAND, Audited, Saved, TenancyCase, owners_post

OWNERS = frozenset({Role.OWNER})


def _application_document(brand, user):
    application = factories.ProgramApplicationFactory(brand=brand, created_by=user)
    return {"pk": factories.stored_document(ApplicationDocument, application=application, uploaded_by=user).pk}


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
    owners_post(
        "brands:program_apply",
        ProgramApplication,
        data=DRAFT,
        saved=Saved(
            ProgramApplication,
            {
                **{name: value for name, value in DRAFT.items() if name != "save"},
                "brand": BRAND,
                "status": ApplicationStatus.DRAFT,
                "created_by": ACTOR,
            },
        ),
        audited=Audited("application.save", from_state="", to_state=ApplicationStatus.DRAFT),
    ),
    TenancyCase("brands:application_document_download", model=ApplicationDocument, make=_application_document),
]
