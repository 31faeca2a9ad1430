"""Evaluating the background and live rules on new items and on items whose listing changed, storing
each hit, and the hooks through which live hits hold the cases' decisions back (`cases.safeguards`)."""

import contextvars
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import rule_engine
from django.db import connection

from cases.choices import ITEM_OPEN_STATUSES, ItemStatus
from cases.models import CaseItem
from cases.services import items_lower_priority
from safeguards.choices import EVALUATED_MODES, HitTrigger, RuleAction, RuleMode
from safeguards.expressions import compile_expression, matches, read_values, symbols_read, values_for
from safeguards.models import Rule, RuleHit, RuleVersion

#: Compiled expressions by version id and expression: a version never changes, so its compiled rule never
#: goes stale.
_compiled: dict[tuple[int, str], rule_engine.Rule] = {}

#: The item whose held decision `approvals.approval_approve` is applying now (the hold lets it through).
approving_item: contextvars.ContextVar[int | None] = contextvars.ContextVar("approving_item", default=None)


def compiled(version: RuleVersion) -> rule_engine.Rule:
    # Keyed by the expression too: a version never changes, but a database emptied and filled again (tests,
    # a restore) can give the same id to another version.
    key = (version.pk, version.expression)
    if key not in _compiled:
        _compiled[key] = compile_expression(version.expression)
    return _compiled[key]


#: The evaluated versions as last read, under the rules table's state they were read in (`evaluated_versions`).
_current: tuple[tuple[Any, ...], list[RuleVersion]] = ((), [])


def evaluated_versions() -> list[RuleVersion]:
    """The current versions of the enabled rules in background or live mode.

    Read again only when the rules table changed (every save stamps `updated_at`): every filing calls this,
    and reading the rules each time cost more than evaluating them (docs/performance.md)."""
    global _current
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), max(updated_at), max(current_version_id) FROM {Rule._meta.db_table}")  # noqa: S608
        state = tuple(cursor.fetchone())
    if _current[0] != state:
        rules = Rule.objects.filter(enabled=True, mode__in=EVALUATED_MODES).exclude(current_version=None)
        _current = (state, [rule.current_version for rule in rules.select_related("current_version").order_by("pk")])
    return _current[1]


def hits_for(
    versions: Sequence[RuleVersion], values: dict[int, dict[str, Any]]
) -> list[tuple[RuleVersion, int, dict[str, Any]]]:
    """(version, item id, the values that version read) for every version matching an item; an item the
    expression cannot be evaluated on (a runtime type problem) is no hit."""
    rules = [(version, compiled(version), symbols_read(compiled(version))) for version in versions]
    found = []
    for item_id, item_values in values.items():
        for version, rule, symbols in rules:
            try:
                hit = matches(rule, item_values)
            except rule_engine.errors.EngineError:
                continue
            if hit:
                found.append((version, item_id, {symbol: item_values[symbol] for symbol in symbols}))
    return found


def items_evaluate(*, item_ids: Sequence[int], trigger: str) -> int:
    """Evaluate the items against every background and live rule and store the hits (one query reads all
    the items' values; one insert stores the hits); returns how many hits were stored. The hits are rows
    here, not model instances: building 7 instances per item cost more than matching (docs/performance.md)."""
    versions = evaluated_versions()
    if not versions or not item_ids:
        return 0
    symbols = set().union(*(symbols_read(compiled(version)) for version in versions))
    values = values_for(item_ids, symbols)
    hits = [
        Hit(version, item_id, read_values(item_values)) for version, item_id, item_values in hits_for(versions, values)
    ]
    if trigger == HitTrigger.LISTING_CHANGED and hits:
        # A marketplace re-sends listings often, mostly unchanged: a hit is stored again only when the
        # version read other values than its last hit on the item.
        last = {
            (version_id, item_id): stored
            for version_id, item_id, stored in RuleHit.objects.filter(item_id__in={h.item_id for h in hits})
            .order_by("pk")
            .values_list("version_id", "item_id", "values")
        }
        hits = [h for h in hits if last.get((h.version.pk, h.item_id)) != h.values]
    _insert(hits, trigger)
    _lower_priorities(hits)
    return len(hits)


class Hit(NamedTuple):
    version: RuleVersion
    item_id: int
    values: dict[str, Any]


def _insert(hits: Sequence[Hit], trigger: str) -> None:
    """Store the hits in one plain-SQL insert of one JSON document (json's C encoder, where the ORM's
    bulk_create and psycopg's array adaptation spent more time than PostgreSQL's insert)."""
    if not hits:
        return
    rows = [
        {"v": h.version.pk, "i": h.item_id, "a": h.version.action, "m": h.version.mode, "d": h.values} for h in hits
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RuleHit._meta.db_table} (version_id, item_id, action, mode, trigger, values)"  # noqa: S608
            " SELECT r.v, r.i, r.a, r.m, %s, r.d FROM jsonb_to_recordset(%s::jsonb)"
            " AS r(v bigint, i bigint, a text, m text, d jsonb)",
            [trigger, json.dumps(rows)],
        )


def _lower_priorities(hits: Sequence[Hit]) -> None:
    """Live "lower priority" hits move their items down the review queue (through the cases' service,
    which never touches the SLA clock)."""
    by_version: dict[RuleVersion, list[int]] = {}
    for hit in hits:
        if hit.version.mode == RuleMode.LIVE and hit.version.action == RuleAction.LOWER_PRIORITY:
            by_version.setdefault(hit.version, []).append(hit.item_id)
    for version, item_ids in by_version.items():
        items_lower_priority(item_ids=item_ids, reason=f"risk rule {version.name!r}: {version.reason}")


# --- hooks (registered in SafeguardsConfig.ready) ---------------------------------------------------


def on_items_changed(items: Sequence[CaseItem], **details: Any) -> None:
    """ITEM_STATUS_CHANGED: an item filed or resubmitted (back to "submitted") is evaluated."""
    submitted = [item.pk for item in items if item.status == ItemStatus.SUBMITTED]
    items_evaluate(item_ids=submitted, trigger=HitTrigger.ITEM_SUBMITTED)


def on_listings_changed(listing_ids: Sequence[int], **details: Any) -> None:
    """LISTINGS_CHANGED: the open items reporting a changed listing are evaluated again."""
    if not evaluated_versions():
        return
    item_ids = list(
        CaseItem.objects.filter(listing_id__in=listing_ids, status__in=ITEM_OPEN_STATUSES).values_list("pk", flat=True)
    )
    items_evaluate(item_ids=item_ids, trigger=HitTrigger.LISTING_CHANGED)


def live_hits(item_ids: Sequence[int], action: str):
    return RuleHit.objects.filter(item_id__in=item_ids, mode=RuleMode.LIVE, action=action).select_related("version")


def human_review_blocks(item_ids: Sequence[int]) -> dict[int, str]:
    """The items a live "force human review" rule hit: no automatic or bulk path decides them."""
    blocked: dict[int, str] = {}
    for hit in live_hits(item_ids, RuleAction.FORCE_HUMAN_REVIEW).order_by("pk"):
        blocked.setdefault(hit.item_id, f"risk rule {hit.version.name!r}: {hit.version.reason}")
    return blocked


def second_approver_hold(*, item: CaseItem, decision: str, actor: Any) -> str | None:
    """An item a live "hold for a second approver" rule hit is decided only through a second approval."""
    if approving_item.get() == item.pk:
        return None
    hit = live_hits([item.pk], RuleAction.HOLD_SECOND_APPROVER).order_by("pk").first()
    if hit is None:
        return None
    return (
        f"Item #{item.pk} is held for a second approver by risk rule {hit.version.name!r} ({hit.version.reason}): "
        "a moderation lead requests the decision under Risk rules, Second approvals and another lead approves it."
    )
