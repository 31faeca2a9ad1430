"""How the OpenAPI schema describes django-filter's query parameters: as strictly as the filter's form
field checks them, so a request the schema allows is one the API accepts, and the reverse.

drf-spectacular's own `DjangoFilterExtension` gives each filter a type and its choices; this one adds
what the form field enforces and it leaves out:

- the field's validators (lengths, bounds, no NUL character), mapped as for serializer fields;
- a model choice (e.g. the marketplace) as the enum of its queryset's ids, read when the schema is made;
- an empty value: an optional filter left empty (as the web page's form sends it) filters nothing, so
  the schema allows "" (or an empty list) and says so, and refuses everything else the field refuses.
"""

from typing import Any

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

from core.api.schema import NO_NUL_PATTERN

EMPTY_MEANS_ANY = "Empty: not filtered."


def _allow_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or an empty value, which the filter reads as "not filtered"."""
    if schema.get("type") == "array":
        return {**schema, "nullable": True}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], ""]}
    if schema.get("type") == "string" and "format" not in schema and schema.get("pattern") in (None, NO_NUL_PATTERN):
        return schema  # any text, "" included
    return {"anyOf": [schema, {"type": "string", "enum": [""]}]}


class StrictDjangoFilterExtension(DjangoFilterExtension):
    priority = 1  # over drf-spectacular's own extension for the same backend
    target_class = DjangoFilterBackend

    def resolve_filter_field(
        self, auto_schema: Any, model: Any, filterset_class: Any, field_name: str, filter_field: Any
    ) -> list[dict[str, Any]]:
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        form_field = filter_field.field
        for parameter in parameters:
            schema = parameter["schema"]
            target = schema["items"] if schema.get("type") == "array" else schema
            auto_schema._insert_field_validators(form_field, target)
            if isinstance(filter_field, django_filters.ModelChoiceFilter) and not callable(filter_field.queryset):
                target["enum"] = [str(pk) for pk in filter_field.queryset.values_list("pk", flat=True)]
                target["type"] = "string"
            if not filter_field.extra.get("required"):
                parameter["schema"] = _allow_empty(schema)
                description = parameter.get("description", "")
                parameter["description"] = f"{description} {EMPTY_MEANS_ANY}".strip()
        return parameters
