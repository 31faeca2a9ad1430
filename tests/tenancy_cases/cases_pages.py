"""Tenancy cases of the case pages: the case and item lists and their CSV exports, the case page, the
dashboard, and the brand's actions on an item.

Pages are read-only and open to every role. Actions need the FILE capability (owners and reporters;
viewers get 403); the harness gives each role a fresh item, filed through `case_submit` and driven to
the status the action starts from by `cases.demo.drive_item_to`, so every allowed role succeeds (302).
"""

from collections.abc import Callable
from itertools import count
from typing import Any

from brands.choices import Role
from cases import services
from cases.choices import ItemStatus as S
from cases.demo import drive_item_to
from cases.models import Case, CaseItem, Evidence
from tests import factories
from tests.harness import Audited, Saved, TenancyCase

FILERS = frozenset({Role.OWNER, Role.REPORTER})
_listing_numbers = count(1)


def _file(brand, user) -> Case:
    factories.MarketplaceFactory(slug="tenancy-market", hosts=["tenancy-market.example"])
    return services.case_submit(
        request=factories.filing_request(
            brand=brand,
            actor=user,
            explanation="Counterfeit logo.",
            rights=[factories.IPRightFactory(brand=brand)],
            listing_urls=[f"https://tenancy-market.example/item/T{next(_listing_numbers)}"],
            signed_name="Olivia Owner",
        )
    )


def _case(brand, user) -> dict[str, Any]:
    return {"pk": _file(brand, user).pk}


def _evidence(brand, user) -> dict[str, Any]:
    return {"pk": _file(brand, user).evidence.get().pk}


def _item_in(status: str) -> Callable[[Any, Any], dict[str, Any]]:
    def make(brand, user) -> dict[str, Any]:
        item = _file(brand, user).items.get()
        moderator = factories.UserFactory(username="tenancy-moderator", is_staff=True)
        drive_item_to(item, status, moderator=moderator, brand_user=user)
        return {"pk": item.pk}

    return make


def _action(url_name: str, status: str, data: dict[str, str], *, action: str, to: str, **saved) -> TenancyCase:
    """An item action on a fresh item in `status`: it moves the item to `to`, recorded as `item.<action>`."""
    return TenancyCase(
        url_name,
        model=CaseItem,
        make=_item_in(status),
        allowed_roles=FILERS,
        method="post",
        data=data,
        success=302,
        saved=Saved(CaseItem, {"status": to, **saved}),
        audited=Audited(f"item.{action}", from_state=status, to_state=to),
    )


CASES = [
    TenancyCase("cases:case_list", model=Case),
    TenancyCase("cases:case_export", model=Case),
    TenancyCase("cases:item_list", model=CaseItem),
    TenancyCase("cases:item_export", model=CaseItem),
    TenancyCase("cases:dashboard", model=CaseItem),
    TenancyCase("cases:case_detail", model=Case, make=_case),
    TenancyCase("cases:evidence_download", model=Evidence, make=_evidence),
    *(
        _action(url_name, status, data, action=action, to=to, **saved)
        for url_name, status, data, action, to, saved in (
            ("cases:item_withdraw", S.SUBMITTED, {"reason": "Reported by mistake."}, "withdraw", S.WITHDRAWN, {}),
            (
                "cases:item_resubmit",
                S.CLARIFICATION_REQUESTED,
                {"note": "The listing uses our mark."},
                "resubmit",
                S.SUBMITTED,
                {"brand_note": "The listing uses our mark."},
            ),
            (
                "cases:item_answer",
                S.COUNTER_NOTICED,
                {"answer": "accept", "evidence_kind": "other"},
                "brand_answer",
                S.REINSTATED,
                {},
            ),
            ("cases:item_appeal", S.REJECTED, {"grounds": "The evidence was attached."}, "appeal", S.APPEALED, {}),
        )
    ),
]
