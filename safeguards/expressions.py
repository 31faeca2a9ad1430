"""The rules' expression language: rule-engine's grammar over a fixed set of documented fields.

A rule reads `item.lane`, `listing.price`, `seller.live_listings`... Those dotted names are rewritten to
flat typed symbols (`item__lane`) before rule-engine compiles the text, so that an unknown field or a
comparison of the wrong type is refused when the rule is saved (rule-engine type-checks symbols it knows
the type of, not the keys of a mapping), and so that an evaluation reads one flat dict per item. The
values of many items are read in one query (`values_for`), never one query per item.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import rule_engine
from django.db import connection

from brands.choices import MEMBERSHIP_CURRENT_STATUSES, MembershipStatus
from brands.models import IPRight, ProgramMembership
from cases.models import Case, CaseItem
from listings.choices import LISTING_LIVE_STATUSES
from listings.models import Listing, Seller

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


def _quoted(values: Iterable[str]) -> str:
    # Only the apps' own status constants are quoted here, never input.
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _sql_expressions() -> dict[str, str]:
    """Each field's SQL over the item `i`, its listing `l`, case `c` and seller `s` (correlated subqueries
    for the facts shared by many items; `_fact_joins` for a batch). Plain SQL rather than ORM annotations:
    building and compiling the ORM query cost several milliseconds per evaluation, more than the query
    itself (docs/performance.md, risk rules)."""
    items, listings = CaseItem._meta.db_table, Listing._meta.db_table
    members = ProgramMembership._meta.db_table
    rights, case_rights = IPRight._meta.db_table, Case.rights.through._meta.db_table
    member_statuses = [s for s in MEMBERSHIP_CURRENT_STATUSES if s != MembershipStatus.SUSPENDED]
    # S608: only model table names and the apps' status constants are formatted into these texts.
    return {
        "item__lane": "i.lane",
        "item__reason_code": "i.reason_code",
        "item__status": "i.status",
        "listing__price": "l.price",
        "listing__status": "l.status",
        "listing__title": "l.title",
        "seller__status": "COALESCE(s.status, '')",
        "seller__live_listings": f"(SELECT count(*) FROM {listings} x WHERE x.seller_id = l.seller_id"  # noqa: S608
        f" AND x.status IN ({_quoted(LISTING_LIVE_STATUSES)}))",
        "brand__is_member": f"EXISTS (SELECT 1 FROM {members} m WHERE m.brand_id = i.brand_id"  # noqa: S608
        f" AND m.status IN ({_quoted(member_statuses)}))",
        "case__item_count": f"(SELECT count(*) FROM {items} x WHERE x.case_id = i.case_id)",  # noqa: S608
        "case__channel": "c.channel",
        "right__age_days": f"(SELECT min(extract(epoch FROM now() - r.created_at)) / 86400 FROM {case_rights} cr"  # noqa: S608
        f" JOIN {rights} r ON r.id = cr.ipright_id WHERE cr.case_id = i.case_id)",
    }


def _fact_joins() -> dict[str, tuple[str, str]]:
    """For a batch of items: each fact shared by many items (a seller's live listings, a notice's item
    count, its newest right) as (column, join), computed once per seller or case of the batch by a grouped
    subquery over the batch `i`. The correlated subqueries counted them once per item: a 1,000-item notice
    counted its 1,000 items 1,000 times. One item is read with the correlated form, which plans faster."""
    items, listings = CaseItem._meta.db_table, Listing._meta.db_table
    rights, case_rights = IPRight._meta.db_table, Case.rights.through._meta.db_table
    # S608: only model table names and the apps' status constants are formatted into these texts.
    return {
        "seller__live_listings": (
            "COALESCE(seller_facts.n, 0)",
            f"LEFT JOIN (SELECT x.seller_id, count(*) AS n FROM {listings} x"  # noqa: S608
            f" WHERE x.seller_id IN (SELECT bl.seller_id FROM i JOIN {listings} bl ON bl.id = i.listing_id)"
            f" AND x.status IN ({_quoted(LISTING_LIVE_STATUSES)}) GROUP BY x.seller_id) seller_facts"
            " ON seller_facts.seller_id = l.seller_id",
        ),
        "case__item_count": (
            "case_facts.n",
            f"LEFT JOIN (SELECT x.case_id, count(*) AS n FROM {items} x"  # noqa: S608
            " WHERE x.case_id IN (SELECT i.case_id FROM i) GROUP BY x.case_id) case_facts"
            " ON case_facts.case_id = i.case_id",
        ),
        "right__age_days": (
            "right_facts.days",
            "LEFT JOIN (SELECT cr.case_id, min(extract(epoch FROM now() - r.created_at)) / 86400 AS days"  # noqa: S608
            f" FROM {case_rights} cr JOIN {rights} r ON r.id = cr.ipright_id"
            " WHERE cr.case_id IN (SELECT i.case_id FROM i) GROUP BY cr.case_id) right_facts"
            " ON right_facts.case_id = i.case_id",
        ),
    }


#: The fields read once per seller or case of a batch (`_fact_joins`).
FACT_SYMBOLS = frozenset({"seller__live_listings", "case__item_count", "right__age_days"})


@cache
def _values_sql(symbols: frozenset[str], extra: tuple[str, ...], batch: bool) -> tuple[str, list[str]]:
    """The query reading `symbols` (and the item's own `extra` columns) of the items whose ids are its
    one parameter, for one item or a `batch`; and the names of its columns after the id."""
    expressions, facts = _sql_expressions(), (_fact_joins() if batch else {})
    names = [*sorted(symbols), *extra]

    def column(name: str) -> str:
        if name not in symbols:
            return f"i.{name}"
        return facts[name][0] if name in facts else expressions[name]

    joins = "".join(f" {facts[name][1]}" for name in sorted(symbols) if name in facts)
    items = CaseItem._meta.db_table
    # The batch's facts read the batch `i` several times: it is read once, by primary key.
    source = f"WITH i AS MATERIALIZED (SELECT * FROM {items} WHERE id = ANY(%s)) SELECT" if batch else "SELECT"  # noqa: S608
    sql = (
        f"{source} {', '.join(['i.id', *map(column, names)])} FROM {'i' if batch else f'{items} i'}"
        f" JOIN {Listing._meta.db_table} l ON l.id = i.listing_id"
        f" JOIN {Case._meta.db_table} c ON c.id = i.case_id"
        f" LEFT JOIN {Seller._meta.db_table} s ON s.id = l.seller_id{joins}"
        f"{'' if batch else ' WHERE i.id = ANY(%s)'}"
    )
    return sql, names


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    if "listing__price" in values:
        price = values["listing__price"]
        values["listing__price"] = float(price) if isinstance(price, Decimal) else -1.0
    for symbol in ("seller__live_listings", "case__item_count"):
        if symbol in values:
            values[symbol] = float(values[symbol] or 0)
    if "right__age_days" in values:
        age = values["right__age_days"]
        values["right__age_days"] = float(age) if age is not None else 0.0
    return values


def values_for(item_ids: Sequence[int], symbols: set[str], *extra: str) -> dict[int, dict[str, Any]]:
    """{item id: values by symbol} of the items, reading only `symbols` (and the item's own `extra` columns,
    returned under their names) in one query."""
    # The grouped form only pays when a fact shared by several items is read (a backtest reading the
    # item's and listing's own fields keeps the plain join).
    batch = len(item_ids) > 1 and not symbols.isdisjoint(FACT_SYMBOLS)
    sql, names = _values_sql(frozenset(symbols), extra, batch)
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(item_ids)])
        return {row[0]: _typed(dict(zip(names, row[1:], strict=True))) for row in cursor.fetchall()}
