"""What cases plugs into the delisting engine of listings, which knows nothing of cases: the kinds of
selection that name case items or a whole case. Registered from `CasesConfig.ready()`.

Each resolver turns a job's selection into the listing ids it stands for; the engine calls it once, when
the job is created, and freezes the ids in the job. The values are those jobs were always stored with.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from cases.models import CaseItem
from listings.delisting import register_delist_selection

#: Given case items: selection {"item_ids": [...]}.
CASE_ITEMS = "case_items"
#: A whole case: selection {"case_id": ...}.
CASE = "case"


def case_items_listing_ids(selection: Mapping[str, Any]) -> Iterable[int]:
    return CaseItem.objects.filter(pk__in=selection["item_ids"]).values_list("listing_id", flat=True)


def case_listing_ids(selection: Mapping[str, Any]) -> Iterable[int]:
    return CaseItem.objects.filter(case_id=selection["case_id"]).values_list("listing_id", flat=True)


def register() -> None:
    register_delist_selection(CASE_ITEMS, "Given case items", case_items_listing_ids)
    register_delist_selection(CASE, "A whole case", case_listing_ids)
