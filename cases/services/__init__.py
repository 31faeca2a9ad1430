"""The item lifecycle: filing a case and every transition of its items.

Each transition
- locks the case row, then the item row (always in that order, so concurrent decisions on items of the
  same case queue up instead of deadlocking, and the case's aggregate status stays exact);
- refuses a transition the item's current status does not allow, with a message naming both;
- applies its effect on the listing through `listings.services` (remove, reinstate, strike);
- writes an audit event and publishes the change in the same transaction.
The check, save, audit and publication are the shared transition helper's (`ITEM_TRANSITIONS`, a
`core.transitions.StateMachine`). Every refusal is a `core.errors.DomainError` (`TransitionNotAllowed`, a
409 conflict, for a status, deadline or assignee that does not allow it), which each edge shows its one
way; invalid input is a `ValidationError`.

Who may call what (brand roles, moderator groups) is checked by the views, the API and the admin; the
rules that hold whoever calls (deadlines, a different moderator for appeals, an item assigned to another
moderator is only decided by taking it over) are checked here.

An accepted item stores its DSA statement of reasons in the same transaction as the decision, so no
removal exists without the statement the seller is owed.
"""

from cases.services.assignment import ASSIGNABLE_STATUSES, item_assign, item_release  # noqa: F401
from cases.services.bulk import (  # noqa: F401
    BulkOutcome,
    background_decision_min,
    bulk_decision_fail,
    bulk_decision_run,
    bulk_decision_start,
    bulk_decisions_sweep,
    direct_accept_max,
    items_accept,
    items_each,
)
from cases.services.deadlines import DEADLINE_RULES, items_apply_deadlines  # noqa: F401
from cases.services.decisions import (  # noqa: F401
    appeal_decide,
    appeal_refusal,
    item_accept,
    item_appeal,
    item_brand_answer,
    item_counter_notice,
    item_decide_appeal,
    item_finalise,
    item_lapse,
    item_reject,
    item_request_clarification,
    item_resubmit,
    item_start_review,
    item_withdraw,
)
from cases.services.filing import (  # noqa: F401
    EvidenceInput,
    FilingRequest,
    ListingRow,
    StoredEvidence,
    case_submit,
    evidence_discard,
    evidence_required,
    evidence_staged,
    evidence_store,
    filing_key_lock,
)
from cases.services.priority import items_lower_priority  # noqa: F401
from cases.services.statements import StatementInput, statement_defaults  # noqa: F401
from cases.services.transitions import (  # noqa: F401
    ALLOWED_FROM,
    APPEAL_OVERTURN_STATUS,
    ITEM_TRANSITIONS,
    case_refresh_status,
)
from core.errors import TransitionNotAllowed  # noqa: F401  (the callers' name for an item's refusal)
