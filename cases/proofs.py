"""The hook through which an app above cases backs a filing with proof it keeps (the test purchases of
`investigations`), without cases knowing it: filled once at start-up (`AppConfig.ready`), called by
`cases.services.case_submit` inside the filing's transaction.

A filing names proofs by id (`FilingRequest.test_purchase_ids`). The source checks them against the
listings being reported (`check`: the brand's own, a counterfeit verdict, on that listing or its seller;
with `covers_all`, every listing must be backed, which the reasons of `cases.choices.PROOF_REQUIRED` ask)
and, once the items exist, attaches them (`attach`). Proofs satisfy the evidence requirement of any reason.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProofSource:
    #: check(brand_id=, proof_ids=, listings=, covers_all=) → what is wrong, one sentence per problem.
    check: Callable[..., list[str]]
    #: attach(proof_ids=, items=, actor=) → how many attachments were made.
    attach: Callable[..., int]


_sources: list[ProofSource] = []


def register_proof_source(source: ProofSource) -> None:
    if source not in _sources:
        _sources.append(source)


def proofs_check(*, brand_id: int, proof_ids: Sequence[int], listings: Sequence[Any], covers_all: bool) -> list[str]:
    if not _sources:
        return ["Test purchases cannot be attached: the portal has no test purchases."]
    problems: list[str] = []
    for source in _sources:
        problems += source.check(brand_id=brand_id, proof_ids=proof_ids, listings=listings, covers_all=covers_all)
    return problems


def proofs_attach(*, proof_ids: Sequence[int], items: Sequence[Any], actor: Any) -> int:
    return sum(source.attach(proof_ids=proof_ids, items=items, actor=actor) for source in _sources)
