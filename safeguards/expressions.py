"""The rules' expression language: rule-engine's grammar over a fixed set of documented fields.

A rule reads `item.lane`, `listing.price`, `seller.live_listings`... Those dotted names are rewritten to
flat typed symbols (`item__lane`) before rule-engine compiles the text, so that an unknown field or a
comparison of the wrong type is refused when the rule is saved (rule-engine type-checks symbols it knows
the type of, not the keys of a mapping), and so that an evaluation reads one flat dict per item. The
values of many items are read in one query (`item_values`), never one query per item.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import rule_engine
from django.db.models import Count, Exists, F, Min, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from brands.choices import MEMBERSHIP_CURRENT_STATUSES, MembershipStatus
from brands.models import ProgramMembership
from cases.models import CaseItem
from listings.choices import LISTING_LIVE_STATUSES
from listings.models import Listing

T = rule_engine.DataType


@dataclass(frozen=True)
class Field:
    name: str  # as written in a rule: "listing.price"
    type: Any  # a rule_engine.DataType
    help: str

    @property
    def symbol(self) -> str:
        return self.name.replace(".", "__")

    @property
    def alias(self) -> str:
        return "rv_" + self.name.replace(".", "_")


FIELDS: tuple[Field, ...] = (
    Field("item.lane", T.STRING, '"expedited" or "standard"'),
    Field("item.reason_code", T.STRING, 'the reason code, e.g. "counterfeit"'),
    Field("item.status", T.STRING, 'the item status, e.g. "submitted"'),
    Field("listing.price", T.FLOAT, "the listing's price, -1 when the marketplace sent none"),
    Field("listing.status", T.STRING, '"active", "removed" or "reinstated"'),
    Field("listing.title", T.STRING, "the listing's title"),
    Field("seller.status", T.STRING, '"active", "warned", "restricted", "suspended", "terminated"; "" if unknown'),
    Field("seller.live_listings", T.FLOAT, "how many of the seller's listings are live (0 if unknown)"),
    Field("brand.is_member", T.BOOLEAN, "the filing brand holds a current MarketSafe membership"),
    Field("case.item_count", T.FLOAT, "how many items the notice reports"),
    Field("case.channel", T.STRING, '"web", "csv" or "api"'),
    Field("right.age_days", T.FLOAT, "days since the newest IP right the notice relies on was registered here"),
)
_BY_SYMBOL = {f.symbol: f for f in FIELDS}
_OBJECTS = sorted({f.name.split(".")[0] for f in FIELDS})

_TOKEN = re.compile(
    r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'"  # string literals are left alone
    r"|\b(" + "|".join(_OBJECTS) + r")\.([A-Za-z_][A-Za-z0-9_]*)\b"
)
_CONTEXT = rule_engine.Context(
    type_resolver=rule_engine.type_resolver_from_dict({f.symbol: f.type for f in FIELDS}),
    default_timezone="UTC",
)


_HINT = "compare a field with a value of its type"


class ExpressionError(ValueError):
    """The expression does not compile; the message names the problem for the rule's author."""


def fields_help() -> str:
    return "Fields a rule may read: " + "; ".join(f"{f.name} ({f.help})" for f in FIELDS) + "."


def _flatten(text: str) -> str:
    return _TOKEN.sub(lambda m: f"{m[1]}__{m[2]}" if m[1] else m[0], text)


def _dotted(message: str) -> str:
    return re.sub(r"\b([a-z]+)__([a-z_]+)\b", r"\1.\2", message)


def compile_expression(text: str) -> rule_engine.Rule:
    """Compile and type-check `text`; raise ExpressionError naming the problem."""
    if not text.strip():
        raise ExpressionError('Write an expression, e.g. listing.price > 500 and item.lane == "expedited".')
    try:
        rule = rule_engine.Rule(_flatten(text), context=_CONTEXT)
    except rule_engine.errors.SymbolResolutionError as exc:
        raise ExpressionError(f"Unknown field {_dotted(exc.symbol_name)!r}. {fields_help()}") from None
    except rule_engine.errors.RuleSyntaxError as exc:
        where = f" at {exc.token.value!r}" if getattr(exc, "token", None) is not None else ""
        raise ExpressionError(f"Syntax error{where}: {_dotted(exc.message)}.") from None
    except rule_engine.errors.EvaluationError as exc:
        raise ExpressionError(f"Type error: {_dotted(exc.message)} ({_HINT}).") from None
    _check_equalities(rule.statement.expression)
    result = rule.statement.expression.result_type
    if result not in (T.BOOLEAN, T.UNDEFINED):
        raise ExpressionError(f"The expression must be true or false; it gives a {result.name.lower()}.")
    return rule


def _check_equalities(node: Any) -> None:
    """rule-engine lets `==` and `!=` compare different types (always unequal): `seller.status == 3` would
    compile and never match, so a comparison of two known, different types is refused here."""
    if isinstance(node, rule_engine.ast.ComparisonExpression):
        types = {node.left.result_type, node.right.result_type} - {T.UNDEFINED, T.NULL}
        if len(types) == 2:
            named = " and ".join(sorted(t.name.lower() for t in types))
            raise ExpressionError(f"Type error: {named} never compare equal ({_HINT}).")
    for child in vars(node).values():
        for part in child if isinstance(child, tuple | list) else (child,):
            if isinstance(part, rule_engine.ast.ASTNodeBase):
                _check_equalities(part)


def matches(rule: rule_engine.Rule, values: dict[str, Any]) -> bool:
    """Whether the compiled rule matches one item's values (`item_values`)."""
    return bool(rule.evaluate(values))


def read_values(values: dict[str, Any]) -> dict[str, Any]:
    """An item's values as the rule's author wrote them (dotted names), for a hit's record."""
    return {_BY_SYMBOL[k].name: v for k, v in values.items() if k in _BY_SYMBOL}


def symbols_read(rule: rule_engine.Rule) -> set[str]:
    """The field symbols a compiled rule reads (only those are read from the database)."""
    return {m[0] for m in re.finditer(r"\b[a-z]+__[a-z_]+\b", rule.text) if m[0] in _BY_SYMBOL}


def _annotations(symbols: set[str]) -> dict[str, Any]:
    now = timezone.now()
    live_listings = (
        Listing.objects.filter(seller_id=OuterRef("listing__seller_id"), status__in=LISTING_LIVE_STATUSES)
        .order_by()
        .values("seller_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    case_items = (
        CaseItem.objects.filter(case_id=OuterRef("case_id")).order_by().values("case_id").annotate(n=Count("pk"))
    ).values("n")
    newest_right = (
        CaseItem.objects.filter(pk=OuterRef("pk"))
        .order_by()
        .values("pk")
        .annotate(newest=Min(now - F("case__rights__created_at")))
        .values("newest")
    )
    member_statuses = [s for s in MEMBERSHIP_CURRENT_STATUSES if s != MembershipStatus.SUSPENDED]
    membership = ProgramMembership.objects.filter(brand_id=OuterRef("brand_id"), status__in=member_statuses)
    expressions = {
        "item__lane": F("lane"),
        "item__reason_code": F("reason_code"),
        "item__status": F("status"),
        "listing__price": F("listing__price"),
        "listing__status": F("listing__status"),
        "listing__title": F("listing__title"),
        "seller__status": Coalesce(F("listing__seller__status"), Value("")),
        "seller__live_listings": Coalesce(Subquery(live_listings), 0),
        "brand__is_member": Exists(membership),
        "case__item_count": Subquery(case_items),
        "case__channel": F("case__channel"),
        "right__age_days": Subquery(newest_right),
    }
    return {_BY_SYMBOL[symbol].alias: expressions[symbol] for symbol in symbols}


def _typed(row: dict[str, Any], symbols: set[str]) -> dict[str, Any]:
    values = {symbol: row[_BY_SYMBOL[symbol].alias] for symbol in symbols}
    if "listing__price" in values:
        price = values["listing__price"]
        values["listing__price"] = float(price) if isinstance(price, Decimal) else -1.0
    for symbol in ("seller__live_listings", "case__item_count"):
        if symbol in values:
            values[symbol] = float(values[symbol] or 0)
    if "right__age_days" in values:
        age = values["right__age_days"]
        values["right__age_days"] = float(age.days) if isinstance(age, timedelta) else 0.0
    return values


def values_for(items, symbols: set[str], *extra: str) -> dict[int, dict[str, Any]]:
    """{item id: values by symbol} of the `items` queryset (CaseItem), reading only `symbols` (and the
    item's own `extra` fields, returned under their names) in one query."""
    rows = items.annotate(**_annotations(symbols)).values("pk", *extra, *(_BY_SYMBOL[s].alias for s in symbols))
    return {row["pk"]: _typed(row, symbols) | {name: row[name] for name in extra} for row in rows}
