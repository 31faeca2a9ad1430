"""The shared bases: upload checks, formula-safe CSV, capped pagination."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.csvexport import csv_response, escape_cell
from core.pagination import CappedPaginator
from core.uploads import check_upload
from tests import factories

PDF = b"%PDF-1.7\n" + b"x" * 100 + b"\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_pdf_is_accepted_with_its_detected_type_and_hash():
    checked = check_upload(SimpleUploadedFile("cert.pdf", PDF, content_type="text/plain"))
    assert checked.content_type == "application/pdf"
    assert len(checked.sha256) == 64
    assert checked.size == len(PDF)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("evil.pdf", b"<script>alert(1)</script>", "type"),
        ("photo.pdf", PNG, "extension"),
        ("empty.pdf", b"", "empty"),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 40, "type"),
    ],
)
def test_files_are_judged_by_content(name, content, code):
    with pytest.raises(ValidationError) as excinfo:
        check_upload(SimpleUploadedFile(name, content))
    assert excinfo.value.code == code
    assert name in excinfo.value.message


def test_the_size_cap_names_the_file_and_the_limit():
    with pytest.raises(ValidationError, match=r"big\.png is 2\.0 MiB; the limit is 1 MiB"):
        check_upload(SimpleUploadedFile("big.png", PNG + b"\x00" * (2 * 1_048_576 - len(PNG))), max_bytes=1_048_576)


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_escaped(value):
    assert escape_cell(value) == "'" + value


def test_plain_cells_and_numbers_pass_through():
    assert escape_cell("Bag 1") == "Bag 1"
    assert escape_cell(-3) == -3


def test_csv_response_streams_escaped_rows():
    response = csv_response("x.csv", ["title"], [["=HYPERLINK()"], ["ok"]])
    body = b"".join(response.streaming_content).decode()
    assert body == "\ufefftitle\r\n'=HYPERLINK()\r\nok\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


@pytest.mark.django_db
def test_capped_paginator_counts_at_most_the_cap(django_assert_num_queries):
    factories.MarketplaceFactory.create_batch(5)
    from listings.models import Marketplace

    paginator = CappedPaginator(Marketplace.objects.order_by("pk"), per_page=2)
    paginator.cap = 3
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 4
    assert "LIMIT 4" in captured.captured_queries[0]["sql"]
    assert paginator.capped
    assert paginator.num_pages == 2
