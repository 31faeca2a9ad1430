"""How the pages show a service's refusal: once, for every app's pages.

A service refuses with Django's `ValidationError` (invalid input, by field) or a `core.errors.DomainError`
(the rules or the object's state do not allow it). `add_service_error` puts either on the form, next to the
field it names, otherwise at the top; `ServiceFormMixin` does it for a form view whose valid form is handed
to one service (`perform`); `refusal_text` is the sentence the admin's messages show.
"""

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse

from core.errors import DomainError

#: What a page catches from a service: everything else is a bug (500).
SERVICE_ERRORS = (ValidationError, DomainError)


def add_service_error(form: Form, error: ValidationError | DomainError) -> None:
    """Show a service's refusal on the form: next to the field it names, otherwise at the top."""
    if isinstance(error, DomainError):
        form.add_error(error.field if error.field in form.fields else None, error.message)
    elif hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def refusal_text(error: ValidationError | DomainError) -> str:
    """A service's refusal as one sentence, for a message (the admin's, or a page's)."""
    if isinstance(error, DomainError):
        return error.message
    return " ".join(error.messages)


class ServiceFormMixin:
    """A form view whose valid form is handed to one service (`perform`); a refusal lands on the form."""

    def form_valid(self, form: Form) -> HttpResponse:
        try:
            return self.perform(form)
        except SERVICE_ERRORS as error:
            add_service_error(form, error)
            return self.form_invalid(form)

    def perform(self, form: Form) -> HttpResponse:
        raise NotImplementedError
