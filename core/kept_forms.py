"""What a user typed in a form that was refused, kept across the redirect back to the page that holds it.

Pages whose forms post to an action view that redirects (post/redirect/get: the case page's item actions,
the moderator's decision forms on an item's page) would otherwise show the form empty after a refusal.
The action keeps the posted values of the form's fields in the session (`keep_typed`); the page binds
the form again with them (`typed_data`, read once), so the text comes back with its errors next to the
fields. Files are not kept: no page can pre-fill a file input, and the form's error asks for them again.
"""

from django.forms import Form
from django.http import HttpRequest, QueryDict

SESSION_KEY = "kept-forms"
#: Forms kept at most per session: an abandoned page's forms must not pile up.
MAX_KEPT = 20


def keep_typed(request: HttpRequest, key: str, form: Form) -> None:
    """Keep the POSTed values of `form`'s fields (with its prefix) under `key` until the page reads them."""
    names = [form.add_prefix(name) for name in form.fields]
    typed = {name: request.POST.getlist(name) for name in names if name in request.POST}
    kept = request.session.get(SESSION_KEY, {})
    kept.pop(key, None)
    kept[key] = typed
    request.session[SESSION_KEY] = dict(list(kept.items())[-MAX_KEPT:])


def typed_data(request: HttpRequest, key: str) -> QueryDict | None:
    """The values kept under `key` as form data, once (None when nothing is kept)."""
    kept = request.session.get(SESSION_KEY)
    if not kept or key not in kept:
        return None
    typed = kept.pop(key)
    request.session[SESSION_KEY] = kept
    data = QueryDict(mutable=True)
    for name, values in typed.items():
        data.setlist(name, values)
    return data
