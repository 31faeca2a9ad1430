"""The demo set has a brand watch: Acme's saved search with matches, one seen, and a second run adds none."""

from io import StringIO

import pytest
from django.core.management import call_command

from detection.choices import WatchMatchState
from detection.models import WatchMatch, WatchSearch


@pytest.mark.django_db
def test_seed_demo_loads_a_saved_search_with_its_matches():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    search = WatchSearch.objects.get(brand__slug="acme")
    assert set(search.subscribers.values_list("username", flat=True)) == {"owner", "reporter"}
    matches = WatchMatch.objects.filter(search=search).select_related("listing")
    assert matches.count() >= 3  # the cheap ACME goods still active (the others were removed by demo cases)
    assert all("ACME" in m.listing.title.upper() and m.listing.price <= 50 for m in matches)
    assert matches.filter(state=WatchMatchState.SEEN).count() == 1
    assert f"{matches.count()} brand watch matches" in out.getvalue()
    call_command("seed_demo", stdout=StringIO())
    assert WatchMatch.objects.count() == matches.count()
