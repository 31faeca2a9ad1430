"""Evidence images brands upload are hashed with PDQ when stored (`detection.images`, the pdqhash library),
the hash joins the bank with the removal it supports, and a listing showing the same picture, resized or
re-encoded, matches it. A file that cannot be read as an image is stored all the same, unhashed."""

import io
import logging

import numpy
import pdqhash
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from cases import services as case_services
from cases.choices import EvidenceKind
from cases.demo import drive_item_to
from cases.models import Evidence
from cases.services import EvidenceInput
from detection import hashing, images
from detection.models import EvidenceImageHash, FingerprintImageHash, ReListingCandidate, RemovalFingerprint
from detection.services.candidates import candidate_file
from detection.services.matching import listings_match
from tests import factories

pytestmark = pytest.mark.django_db


def picture(size=(640, 480), fmt="PNG") -> bytes:
    """A product photo stand-in: shapes and a gradient, with enough structure for a good PDQ quality."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 8):
        draw.line([(x, 0), (x, height)], fill=((x * 3) % 256, (x * 7) % 256, 90))
    draw.ellipse([width // 5, height // 5, width * 3 // 5, height * 4 // 5], fill=(250, 240, 30))
    draw.rectangle([width // 2, height // 3, width * 9 // 10, height * 9 // 10], fill=(20, 20, 200))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def upload(content: bytes, name: str, content_type: str) -> EvidenceInput:
    return EvidenceInput(
        file=SimpleUploadedFile(name, content, content_type=content_type),
        content_type=content_type,
        kind=EvidenceKind.SCREENSHOT,
    )


PHOTO = picture()


def test_the_hash_is_meta_hex_and_survives_resizing_and_jpeg():
    hex_hash, quality = images.pdq_hash(io.BytesIO(PHOTO))
    assert hashing.parse_pdq(hex_hash) == hex_hash and quality >= images.MIN_QUALITY
    # Most significant bit first, as Meta writes it (an image small enough to be hashed as it is).
    small = picture((400, 300))
    bits, _ = pdqhash.compute(numpy.asarray(Image.open(io.BytesIO(small)).convert("RGB")))
    assert images.pdq_hash(io.BytesIO(small))[0] == f"{int(''.join(map(str, bits)), 2):064x}"
    smaller, _ = images.pdq_hash(io.BytesIO(picture((320, 240))))
    as_jpeg, _ = images.pdq_hash(io.BytesIO(picture(fmt="JPEG")))
    assert hashing.distance(hex_hash, smaller) <= hashing.MAX_DISTANCE
    assert hashing.distance(hex_hash, as_jpeg) <= hashing.MAX_DISTANCE
    mirrored = io.BytesIO()
    Image.open(io.BytesIO(PHOTO)).transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(mirrored, "PNG")
    other, _ = images.pdq_hash(io.BytesIO(mirrored.getvalue()))  # another picture to PDQ
    assert hashing.distance(hex_hash, other) > hashing.MAX_DISTANCE


def test_an_uploaded_image_is_hashed_and_a_pdf_is_not(file_case):
    pdf = upload(b"%PDF-1.4 test", "letter.pdf", "application/pdf")
    case = file_case(evidence=[upload(PHOTO, "photo.png", "image/png"), pdf])
    png = Evidence.objects.get(case=case, content_type="image/png")
    stored = EvidenceImageHash.objects.get()
    assert stored.evidence_id == png.pk
    assert (stored.hash, stored.quality) == images.pdq_hash(io.BytesIO(PHOTO))


def test_a_corrupt_image_is_stored_unhashed_and_logged(file_case, caplog):
    caplog.set_level(logging.WARNING, logger="detection.services.hashes")
    truncated = PHOTO[: len(PHOTO) // 3]
    case = file_case(evidence=[upload(truncated, "broken.png", "image/png")])
    evidence = Evidence.objects.get(case=case)
    assert evidence.size == len(truncated)
    assert not EvidenceImageHash.objects.exists()
    assert any(f"Evidence {evidence.pk}" in r.getMessage() and "not hashed" in r.getMessage() for r in caplog.records)


def test_a_canvas_too_large_is_not_decoded():
    huge = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(huge, "PNG")  # a few kB on disk, 60 million pixels decoded
    with pytest.raises(images.NotHashable, match="pixels"):
        images.pdq_hash(io.BytesIO(huge.getvalue()))


def upheld(case, moderator, reporter):
    return drive_item_to(case.items.get(), "final", moderator=moderator, brand_user=reporter)


def test_an_upheld_removal_banks_its_evidence_image_and_a_listing_showing_it_matches(
    file_case, moderator, reporter, new_listing, marketplace
):
    case = file_case(evidence=[upload(PHOTO, "photo.png", "image/png")])
    item = upheld(case, moderator, reporter)
    fingerprint = RemovalFingerprint.objects.get(source_item=item)
    evidence_hash = EvidenceImageHash.objects.get().hash
    assert list(FingerprintImageHash.objects.filter(fingerprint=fingerprint).values_list("hash", flat=True)) == [
        evidence_hash
    ]
    # The marketplace sends the hash of the same photo, smaller, with another seller and title.
    marketplace_hash, _ = images.pdq_hash(io.BytesIO(picture((300, 225), fmt="JPEG")))
    stranger = factories.SellerFactory(marketplace=marketplace, name="New Shop")
    listing = new_listing("Totally different words", seller=stranger, hashes=[marketplace_hash])
    listings_match(listing_ids=[listing.pk])
    candidate = ReListingCandidate.objects.get(listing=listing)
    assert candidate.fingerprint == fingerprint
    assert candidate.signals["matched"] == ["image"]


def test_case_wide_evidence_of_a_case_of_many_listings_is_not_banked(file_case, moderator, reporter):
    case = file_case(n=2, evidence=[upload(PHOTO, "photo.png", "image/png")])
    item = drive_item_to(case.items.first(), "final", moderator=moderator, brand_user=reporter)
    assert EvidenceImageHash.objects.exists()
    assert not FingerprintImageHash.objects.filter(fingerprint__source_item=item).exists()


def test_a_low_quality_hash_is_kept_but_not_banked(file_case, moderator, reporter):
    flat = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(flat, "PNG")
    case = file_case(evidence=[upload(flat.getvalue(), "flat.png", "image/png")])
    assert EvidenceImageHash.objects.get().quality < images.MIN_QUALITY
    item = upheld(case, moderator, reporter)
    assert not FingerprintImageHash.objects.filter(fingerprint__source_item=item).exists()


def test_the_evidence_a_relisting_filing_reuses_keeps_its_hash(
    file_case, moderator, reporter, new_listing, marketplace
):
    case = file_case(evidence=[upload(PHOTO, "photo.png", "image/png")])
    upheld(case, moderator, reporter)
    stranger = factories.SellerFactory(marketplace=marketplace, name="New Shop")
    hash_, _ = images.pdq_hash(io.BytesIO(PHOTO))
    listing = new_listing("Anything at all", seller=stranger, hashes=[hash_])
    listings_match(listing_ids=[listing.pk])
    filed = candidate_file(candidate_id=ReListingCandidate.objects.get(listing=listing).pk, actor=reporter)
    copy = Evidence.objects.get(case=filed)
    assert EvidenceImageHash.objects.get(evidence=copy).hash == hash_


def test_evidence_rejecting_a_counter_notice_is_hashed(file_case, moderator, reporter):
    item = drive_item_to(file_case().items.get(), "counter_noticed", moderator=moderator, brand_user=reporter)
    case_services.item_brand_answer(
        item_id=item.pk, actor=reporter, accept=False, evidence=[upload(PHOTO, "invoice.png", "image/png")]
    )
    answer = Evidence.objects.get(item=item, counter_notice__isnull=False)
    assert EvidenceImageHash.objects.filter(evidence=answer).exists()
