"""The one base of every refusal a service raises, and its kinds.

A `DomainError` says: the request was well formed, but the rules or the object's current state do not
allow it. Services raise it (or a subclass of their app's) with a message for people; each edge maps it
once, whatever the app:

- the pages show it on the form, next to `field` when it names one (`core.views.add_service_error`);
- the admin shows it as an error message (`core.admin.mixins.ServiceAdminMixin.call_service`);
- the API answers the error shape with the error's `status` and `code` (`core.api.exceptions`).

Invalid input is still Django's `ValidationError` (400 with its fields): `DomainError` is for refusals.
"""


class DomainError(Exception):
    """A refusal by the rules: 400 `refused` unless a subclass says otherwise."""

    status: int = 400
    code: str = "refused"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The form or request field the refusal is about, if any.
        self.field = field


class Conflict(DomainError):
    """The object's current state does not allow this (409): another status, a passed deadline, a lock."""

    status = 409
    code = "conflict"


class TransitionNotAllowed(Conflict):
    """The object's status does not allow the requested move; the message names both statuses."""


class RowsRefused(DomainError):
    """Some rows of a bulk request break the rules; nothing was saved (400 `invalid`).

    `field` names the request's array of rows; `rows` maps the index of each refused row (from 0) to its
    fields' messages (`non_field_errors` for the row as a whole). The API answers it as it answers rows
    that fail validation (`core.api.exceptions.RowsInvalid`), so a client sees one shape for both.
    """

    code = "invalid"

    def __init__(self, message: str, *, field: str, rows: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(message, field=field)
        self.rows = rows
