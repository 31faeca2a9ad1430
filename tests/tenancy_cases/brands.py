"""Tenancy cases of the brand pages."""

from django.core.files.uploadedfile import SimpleUploadedFile

from brands.choices import Role
from brands.models import Brand, BrandMembership, IPRightDocument
from tests import factories
from tests.harness import TenancyCase


def _document(brand, user):
    right = factories.IPRightFactory(brand=brand)
    document = IPRightDocument.objects.create(
        right=right,
        file=SimpleUploadedFile("certificate.pdf", b"%PDF-1.7 test"),
        original_name="certificate.pdf",
        content_type="application/pdf",
        size=13,
        sha256="0" * 64,
        uploaded_by=user,
    )
    return {"pk": document.pk}


CASES = [
    TenancyCase("brands:overview", model=Brand),
    TenancyCase("brands:team", model=BrandMembership, allowed_roles=frozenset({Role.OWNER})),
    TenancyCase("brands:right_document_download", model=IPRightDocument, make=_document),
]
