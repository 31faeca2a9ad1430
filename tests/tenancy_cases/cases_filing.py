"""Tenancy cases of the filing pages.

Filing needs the FILE capability (owners and reporters; viewers get 403). A draft holds its author's
signature, so it is shown and filed only by its author: every other member of the brand gets 403,
whatever their role (`allowed_roles` is empty; the author's own access is tested in
tests/cases/test_filing_views.py).
"""

from datetime import timedelta

from django.utils import timezone

from brands.choices import Role
from cases.models import CaseDraft
from tests.harness import TenancyCase, Unchanged

FILERS = frozenset({Role.OWNER, Role.REPORTER})


def _draft(state: str):
    def make(brand, user):
        draft = CaseDraft.objects.create(
            brand=brand,
            created_by=user,
            idempotency_key=f"tenancy-{state}",
            state=state,
            payload={"rights": [], "reason_code": "counterfeit", "evidence": [], "evidence_kind": "screenshot"},
            checked_rows=[],
            expires_at=timezone.now() + timedelta(hours=1),
        )
        return {"draft_id": draft.pk}

    return make


CASES = [
    TenancyCase("cases:case_create", model=CaseDraft, allowed_roles=FILERS),
    TenancyCase(
        "cases:case_create",
        model=CaseDraft,
        allowed_roles=FILERS,
        method="post",
        data={},
        saved=Unchanged(CaseDraft, why="an empty filing form is answered in place with its errors"),
    ),
    TenancyCase("cases:csv_template", model=CaseDraft, allowed_roles=FILERS),
    TenancyCase("cases:case_draft", model=CaseDraft, make=_draft(CaseDraft.State.READY), allowed_roles=frozenset()),
    TenancyCase(
        "cases:case_draft_file",
        model=CaseDraft,
        make=_draft(CaseDraft.State.READY),
        allowed_roles=frozenset(),
        method="post",
    ),
    TenancyCase(
        "cases:case_draft_progress",
        model=CaseDraft,
        make=_draft(CaseDraft.State.CHECKING),
        allowed_roles=frozenset(),
    ),
]
