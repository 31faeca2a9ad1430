"""The detection benchmark's guard and its synthetic edits (the figures themselves are in docs/performance.md)."""

import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from detection import hashing
from detection.management.commands.bench_detection import _flip, _relist_title
from detection.text import normalise_title


@pytest.mark.django_db
def test_the_benchmark_refuses_a_database_not_named_bench():
    with pytest.raises(CommandError, match="_bench"):
        call_command("bench_detection", "--listings", "0")


def test_flipped_hashes_differ_by_exactly_the_bits_asked():
    rng = random.Random(1)
    original = f"{rng.getrandbits(256):064x}"
    for bits in (0, 5, 28, 31):
        assert hashing.distance(original, _flip(original, bits, rng)) == bits


def test_relisted_titles_are_edited_but_keep_the_product():
    rng = random.Random(2)
    title = "Acme leather Ashby tote bag brown genuine"
    edited = {_relist_title(title, rng) for _ in range(50)}
    assert title not in edited
    assert all("acme" in normalise_title(t) for t in edited)
