"""Notices (cases), their items and everything that follows a decision, in the admin: the moderator console.

Moderators work here. Rows are never added, changed or deleted by hand: everything a case holds was
filed and signed by the brand (the notice, its declarations and evidence), reported by the marketplace
(counter-notices) or written by a decision service (item statuses, deadlines, deciders, appeals,
statements of reasons), so every admin stays view-only (`ReadOnlyAdminMixin`). Decisions are admin
actions and buttons that call `cases.services`, which check the item's status and assignee under row
locks and write the audit trail; the admin checks who may ask (`console`: `cases.decide_caseitem`,
`cases.decide_appeal`, `cases.view_evidence`) and shows a service's refusal as a message.

Items number in the hundreds of thousands and point at millions of listings: no full COUNT(*), no select
widget over a large table (brands and sellers are filtered by typed input), searches that stay on one index
each, and a constant number of queries per page whatever its rows.

One module per part of the console, each registering its admins when imported here:

- `queue`: the review queue and the item page where a moderator decides (`CaseItemAdmin`), with its
  `filters` and decision `forms`;
- `cases`: notices with their items, declarations and evidence inline, and the declarations;
- `notices`: the counter-notice and appeal queues, and the appeal decision;
- `evidence`, `statements` (DSA statements of reasons), `drafts` (filings between preview and submit).

`CaseAdmin` and `StatementOfReasonsAdmin` are importable from here: the integrations app re-registers them
with its export actions.
"""

from cases.admin import drafts, evidence, notices, queue  # noqa: F401  (they register their admins)
from cases.admin.cases import CaseAdmin
from cases.admin.statements import StatementOfReasonsAdmin

__all__ = ["CaseAdmin", "StatementOfReasonsAdmin"]
