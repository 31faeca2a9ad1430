"""Demo data of the brand watch (run by `seed_demo` after the cases): Acme's saved search for its small
leather goods sold cheap, with the matches it found in the demo catalogue, one of them already seen.
Idempotent: a second run finds the search and adds nothing."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from detection.choices import WatchMatchState
from detection.models import WatchMatch, WatchSearch
from detection.services.watch import WatchCriteria, watch_matches_set_state, watch_search_create, watch_search_run

DEMO_SEARCH = WatchCriteria(name="ACME small leather goods under 50", words="acme", price_max=Decimal("50.00"))


def seed_watch(*, brand: Any, owner: Any, reporter: Any) -> int:
    """Save the demo search (both Acme logins get its digest) and run it over the demo catalogue; returns
    the number of matches it holds."""
    search = WatchSearch.objects.for_brand(brand).filter(name=DEMO_SEARCH.name).first()
    if search is not None:
        return search.matches.count()
    search = watch_search_create(brand=brand, actor=reporter, criteria=DEMO_SEARCH)
    search.subscribers.add(owner)
    # The demo catalogue was loaded a moment ago: it counts as new for this search.
    WatchSearch.objects.filter(pk=search.pk).update(last_listing_id=0)
    watch_search_run(search_id=search.pk, now=timezone.now() + timedelta(hours=1))
    first = WatchMatch.objects.filter(search=search).order_by("pk").values_list("pk", flat=True)[:1]
    watch_matches_set_state(brand=brand, match_ids=list(first), state=WatchMatchState.SEEN, actor=reporter)
    return search.matches.count()
