"""One way to move an object from one status to another, for every app.

A `StateMachine` declares, for one model's status field, the statuses each action may start from. Its
`move` does what every transition needs, in the caller's transaction: check the move is allowed (refusing
with a message that names the current and the allowed statuses), set the status and the other fields,
save them, write the audit event (who, when, old → new, why, automated or not) and publish the change on
the outbox topic, if the machine has one (`core.outbox`). `lock` re-reads the row with `SELECT ... FOR
UPDATE`, so a check and its move see the same status; callers that must lock a parent first (a case
before its items) lock it themselves and pass the locked row.

Effects beyond the row (removing a listing, e-mails on commit) stay in the services that call `move`.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from core.audit.services import audit_record
from core.errors import TransitionNotAllowed
from core.outbox import publish


def labels(statuses: Collection[str], choices: type[models.TextChoices]) -> str:
    """`a, b or c` of the statuses' labels, in lower case, in the choices' order."""
    names = [str(choices(value).label).lower() for value in choices.values if value in statuses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class StateMachine:
    """The allowed moves of `model`'s `field`: action → statuses it may start from."""

    model: type[models.Model]
    choices: type[models.TextChoices]
    allowed_from: Mapping[str, Collection[str]]
    #: First part of the audit action (`<prefix>.<action>`), e.g. "item" or "application".
    audit_prefix: str
    field: str = "status"
    #: Set to now on every move, when the model has such a field.
    changed_at_field: str | None = None
    #: Outbox topic published with `from_status` after every move (`core.outbox`).
    topic: str | None = None
    #: The refusal: {verb}, {noun} (the object's str), {status} (current) and {allowed} are filled in.
    refusal: str = "{noun} cannot be {verb}: it is {status}, and only when it is {allowed} can it be."
    #: Related rows `lock` joins (not locked themselves), e.g. ("brand",).
    related: tuple[str, ...] = ()

    def lock(self, pk: Any) -> Any:
        """The row, locked until the caller's transaction ends (with `related` rows joined, unlocked)."""
        queryset = self.model._default_manager.all()
        if self.related:
            queryset = queryset.select_related(*self.related).select_for_update(of=("self",))
        else:
            queryset = queryset.select_for_update()
        return queryset.get(pk=pk)

    def allows(self, obj: Any, action: str) -> bool:
        return getattr(obj, self.field) in self.allowed_from[action]

    def check(self, obj: Any, action: str, *, verb: str | None = None) -> None:
        """Refuse `action` unless `obj`'s status allows it, naming the current and the allowed statuses."""
        if self.allows(obj, action):
            return
        status = getattr(obj, self.field)
        raise TransitionNotAllowed(
            self.refusal.format(
                verb=verb or action.replace("_", " "),
                noun=str(obj),
                pk=obj.pk,
                status=str(self.choices(status).label).lower(),
                allowed=labels(self.allowed_from[action], self.choices),
            )
        )

    def move(
        self,
        obj: Any,
        action: str,
        to: str,
        *,
        actor: Any = None,
        automated: bool = False,
        reason: str = "",
        data: dict[str, Any] | None = None,
        check: bool = True,
        verb: str | None = None,
        **fields: Any,
    ) -> str:
        """Move `obj` (locked by the caller) to `to` through `action`; set and save `fields` with it.

        Returns the status it left. `check=False` is for moves a service has already judged (a rule
        applied by a sweep whose own query selected the rows)."""
        if check:
            self.check(obj, action, verb=verb)
        old = getattr(obj, self.field)
        setattr(obj, self.field, to)
        update = [self.field, *fields]
        if self.changed_at_field:
            setattr(obj, self.changed_at_field, timezone.now())
            update.append(self.changed_at_field)
        for name, value in fields.items():
            setattr(obj, name, value)
        obj.save(update_fields=update)
        audit_record(
            action=f"{self.audit_prefix}.{action}",
            target=obj,
            actor=actor,
            automated=automated,
            from_state=old,
            to_state=to,
            reason=reason,
            brand_id=getattr(obj, "brand_id", None),
            data=data,
        )
        if self.topic:
            publish(self.topic, [obj], from_status=old)
        return old
