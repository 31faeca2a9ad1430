"""factory_boy factories that keep the tenant graph consistent (a case's rights belong to its brand)."""

import hashlib
from datetime import date, timedelta

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brands.choices import IPRightKind, IPRightStatus, Role
from brands.models import Brand, BrandMembership, IPRight, ProgramApplication, ProgramMembership
from core.accounts.models import User
from listings.models import Listing, Marketplace, Seller


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrandMembership

    brand = factory.SubFactory(BrandFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class IPRightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IPRight

    brand = factory.SubFactory(BrandFactory)
    kind = IPRightKind.TRADEMARK
    name = factory.Sequence(lambda n: f"MARK {n}")
    registration_number = factory.Sequence(lambda n: f"0{n:08d}")
    office = "EUIPO"
    classes = factory.LazyFunction(lambda: [18, 25])
    owner_name = factory.LazyAttribute(lambda r: r.brand.name)
    valid_from = date(2020, 1, 1)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=3650))
    status = IPRightStatus.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)


class MarketplaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Marketplace
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Market {n}")
    slug = factory.Sequence(lambda n: f"market-{n}")
    hosts = factory.LazyAttribute(lambda m: [f"{m.slug}.example"])
    listing_id_pattern = r"/item/(\w+)"
    listing_url_example = factory.LazyAttribute(lambda m: f"https://{m.hosts[0]}/item/SN1013")


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    marketplace = factory.SubFactory(MarketplaceFactory)
    external_id = factory.Sequence(lambda n: f"S{n}")
    name = factory.Sequence(lambda n: f"Seller {n}")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    marketplace = factory.SubFactory(MarketplaceFactory)
    seller = factory.SubFactory(SellerFactory, marketplace=factory.SelfAttribute("..marketplace"))
    external_id = factory.Sequence(lambda n: f"L{n}")
    url = factory.LazyAttribute(lambda li: f"https://{li.marketplace.hosts[0]}/item/{li.external_id}")
    title = factory.Sequence(lambda n: f"Designer bag {n}")


class ProgramApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramApplication

    brand = factory.SubFactory(BrandFactory)
    company_name = factory.LazyAttribute(lambda a: a.brand.name)
    contact_name = "Ada Owner"
    contact_email = "owner@example.test"
    enforcement_statement = "Test purchases verified by our authentication lab."
    created_by = factory.SubFactory(UserFactory)


class ProgramMembershipFactory(factory.django.DjangoModelFactory):
    """An active MarketSafe membership (its application approved)."""

    class Meta:
        model = ProgramMembership

    brand = factory.SubFactory(BrandFactory)
    application = factory.SubFactory(
        ProgramApplicationFactory,
        brand=factory.SelfAttribute("..brand"),
        status="approved",
        submitted_at=factory.LazyFunction(timezone.now),
    )
    started_at = factory.LazyFunction(timezone.now)
    renews_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


def stored_document(model, *, uploaded_by, name: str = "document.pdf", content: bytes = b"%PDF-1.7 test", **fields):
    """A `core.files.StoredDocument` row (`model`) with a small PDF in private storage; `fields` are
    its own columns (the parent row)."""
    return model.objects.create(
        file=SimpleUploadedFile(name, content),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=uploaded_by,
        **fields,
    )


def filing_request(
    *,
    brand,
    actor,
    rights,
    listing_urls,
    reason_code: str = "counterfeit",
    explanation: str = "Fake logo, price a tenth of retail.",
    signed_name: str = "Rita Reporter",
    item_notes: dict[str, str] | None = None,
    evidence=None,
    **fields,
):
    """A `cases.services.FilingRequest` from model objects and in-memory evidence (stored here; one demo
    PNG unless `evidence` is given), for tests that file through `case_submit` without a form."""
    from cases.demo import demo_evidence
    from cases.services import FilingRequest, ListingRow, evidence_store

    notes = item_notes or {}
    return FilingRequest(
        brand_id=brand.pk,
        actor_id=actor.pk,
        reason_code=reason_code,
        explanation=explanation,
        right_ids=tuple(right.pk for right in rights),
        listings=tuple(ListingRow(url=url, note=notes.get(url, "")) for url in listing_urls),
        signed_name=signed_name,
        evidence=evidence_store([demo_evidence()] if evidence is None else evidence),
        **fields,
    )
