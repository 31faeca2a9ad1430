"""Tenancy cases of the brand pages: overview, team and invitations, the IP rights registry, documents.

Write views are posted with valid data and expect their redirect (302); `make` builds a fresh object for
each role, so a role's refusal is proven on an object nobody has changed yet.
"""

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brands.choices import IPRightStatus, Role
from brands.models import Brand, BrandMembership, Invitation, IPRight, IPRightDocument
from tests import factories
from tests.harness import ACTOR, BRAND, SET, Audited, Saved, TenancyCase, owners_post, url_object

OWNERS = frozenset({Role.OWNER})
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class RewindingUpload(SimpleUploadedFile):
    """An upload the harness can post many times: the test client reads files without rewinding them."""

    def read(self, *args):
        self.seek(0)
        return super().read(*args)


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


def _right(brand, user):
    return {"pk": factories.IPRightFactory(brand=brand).pk}


def _member(brand, user):
    return {"pk": factories.MembershipFactory(brand=brand, role=Role.REPORTER).pk}


def _invitation(brand, user):
    invitation = Invitation.objects.create(
        brand=brand,
        email=f"invitee-{Invitation.objects.count()}@example.test",
        role=Role.VIEWER,
        token_hash=f"{Invitation.objects.count():064x}",
        invited_by=user,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return {"pk": invitation.pk}


RIGHT_DATA = {
    "kind": "trademark",
    "name": "ACME",
    "registration_number": "018000001",
    "office": "EUIPO",
    "owner_name": "Acme Leather Ltd",
    "classes": "18, 25",
    "valid_from": "2020-01-01",
    "valid_until": "2030-01-01",
}

#: RIGHT_DATA as the registry stores it: classes as numbers, dates as dates, a new right pending verification.
SAVED_RIGHT = {
    **RIGHT_DATA,
    "classes": [18, 25],
    "valid_from": date(2020, 1, 1),
    "valid_until": date(2030, 1, 1),
    "status": IPRightStatus.PENDING,
}

CASES = [
    TenancyCase("brands:overview", model=Brand),
    # Team and invitations: owners only.
    TenancyCase("brands:team", model=BrandMembership, allowed_roles=OWNERS),
    TenancyCase("brands:team_invite", model=Invitation, allowed_roles=OWNERS),
    owners_post(
        "brands:team_invite",
        Invitation,
        data={"email": "new.colleague@example.test", "role": Role.REPORTER},
        saved=Saved(
            Invitation,
            {"brand": BRAND, "email": "new.colleague@example.test", "role": Role.REPORTER, "invited_by": ACTOR},
        ),
        audited=Audited("invitation.create", to_state=Invitation.Status.PENDING),
    ),
    owners_post(
        "brands:invitation_revoke",
        Invitation,
        make=_invitation,
        saved=Saved(Invitation, {"revoked_at": SET}),
        audited=Audited("invitation.revoke", from_state=Invitation.Status.PENDING, to_state=Invitation.Status.REVOKED),
    ),
    TenancyCase("brands:member_update", model=BrandMembership, make=_member, allowed_roles=OWNERS),
    owners_post(
        "brands:member_update",
        BrandMembership,
        make=_member,
        data={"role": Role.VIEWER},
        saved=Saved(BrandMembership, {"role": Role.VIEWER, "is_active": True}),
        audited=Audited("membership.change_role", from_state=Role.REPORTER, to_state=Role.VIEWER),
    ),
    TenancyCase("brands:member_remove", model=BrandMembership, make=_member, allowed_roles=OWNERS),
    owners_post(
        "brands:member_remove",
        BrandMembership,
        make=_member,
        saved=Saved(BrandMembership, {"is_active": False}),
        audited=Audited("membership.remove", from_state=Role.REPORTER, to_state="removed"),
    ),
    # The rights registry: every member reads it, owners change it.
    TenancyCase("brands:right_list", model=IPRight),
    TenancyCase("brands:right_detail", model=IPRight, make=_right),
    TenancyCase("brands:right_create", model=IPRight, allowed_roles=OWNERS),
    owners_post(
        "brands:right_create",
        IPRight,
        data={**RIGHT_DATA, "document": RewindingUpload("certificate.pdf", PDF)},
        saved=Saved(IPRight, {**SAVED_RIGHT, "brand": BRAND}),
        audited=Audited("ip_right.create", to_state=IPRightStatus.PENDING),
    ),
    TenancyCase("brands:right_update", model=IPRight, make=_right, allowed_roles=OWNERS),
    owners_post(
        "brands:right_update",
        IPRight,
        make=_right,
        data=RIGHT_DATA,
        # Changed registration details send a verified right back to verification.
        saved=Saved(IPRight, {**SAVED_RIGHT, "verified_at": None}),
        audited=Audited("ip_right.update", from_state=IPRightStatus.VERIFIED, to_state=IPRightStatus.PENDING),
    ),
    TenancyCase("brands:right_retire", model=IPRight, make=_right, allowed_roles=OWNERS),
    owners_post(
        "brands:right_retire",
        IPRight,
        make=_right,
        data={"reason": "Not renewed."},
        saved=Saved(IPRight, {"retired_at": SET, "status": IPRightStatus.VERIFIED}),
        audited=Audited(
            "ip_right.retire", from_state=IPRightStatus.VERIFIED, to_state="retired", reason="Not renewed."
        ),
    ),
    TenancyCase("brands:right_document_create", model=IPRightDocument, make=_right, allowed_roles=OWNERS),
    owners_post(
        "brands:right_document_create",
        IPRightDocument,
        make=_right,
        data={"file": RewindingUpload("renewal.pdf", PDF), "kind": "renewal"},
        saved=Saved(
            IPRightDocument,
            {
                "right": url_object(IPRight),
                "kind": "renewal",
                "original_name": "renewal.pdf",
                "content_type": "application/pdf",
                "uploaded_by": ACTOR,
            },
            created=True,
        ),
        audited=Audited("ip_right.add_document", target=url_object(IPRight)),
    ),
    TenancyCase("brands:right_document_download", model=IPRightDocument, make=_document),
]
