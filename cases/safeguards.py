"""Hooks through which an app above cases (the risk rules of `safeguards`) holds items back, without cases
knowing it: filled once at start-up (`AppConfig.ready`), read by the decision services.

- A *review block* names items that must be decided by a person who opens them: `items_each` (every bulk
  decision, in a request or in the background) refuses them with the block's reason.
- A *decision hold* refuses a one-item decision until its condition is met (a second moderation lead's
  approval); the app that registered it applies the decision itself once the condition holds.
"""

from collections.abc import Callable, Sequence
from typing import Any

ReviewBlock = Callable[[Sequence[int]], dict[int, str]]
DecisionHold = Callable[..., str | None]

_review_blocks: list[ReviewBlock] = []
_decision_holds: list[DecisionHold] = []


def register_review_block(block: ReviewBlock) -> None:
    """`block(item_ids)` → {item id: why it needs a person} for the items no automatic path may decide."""
    if block not in _review_blocks:
        _review_blocks.append(block)


def register_decision_hold(hold: DecisionHold) -> None:
    """`hold(item=..., decision=..., actor=...)` → why the decision may not take effect yet, or None."""
    if hold not in _decision_holds:
        _decision_holds.append(hold)


def review_blocks(item_ids: Sequence[int]) -> dict[int, str]:
    blocked: dict[int, str] = {}
    for block in _review_blocks:
        for item_id, why in block(item_ids).items():
            blocked.setdefault(item_id, why)
    return blocked


def decision_hold(*, item: Any, decision: str, actor: Any) -> str | None:
    for hold in _decision_holds:
        why = hold(item=item, decision=decision, actor=actor)
        if why:
            return why
    return None
