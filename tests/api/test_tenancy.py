"""Every brand endpoint of the API runs the tenancy matrix (tests/api_harness.py); the meta-test fails when
an endpoint (a URL name and method of a brand-scoped view) has no case in tests/api/tenancy_cases.py."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from marketsafe.api.viewsets import BrandScopedMixin
from tests.api.tenancy_cases import CASES
from tests.api_harness import assert_api_tenant_matrix


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_tenancy_matrix(case):
    assert_api_tenant_matrix(case)


def _brand_endpoints(resolver: URLResolver, prefix: str = "") -> set[tuple[str, str]]:
    """(URL name, method) of every route served by a brand-scoped API view."""
    found = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            found |= _brand_endpoints(pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class and issubclass(view_class, BrandScopedMixin):
                actions = getattr(pattern.callback, "actions", None) or {
                    method: method for method in view_class.http_method_names if hasattr(view_class, method)
                }
                methods = {method for method in actions if method not in {"head", "options"}}
                allowed = set(getattr(view_class, "http_method_names", methods))
                found |= {(f"{prefix}{pattern.name}", method) for method in methods & allowed}
    return found


def test_every_brand_endpoint_has_a_tenancy_case():
    endpoints = _brand_endpoints(get_resolver())
    assert len(endpoints) >= 10, f"the URL walk found too few endpoints: {endpoints}"
    covered = {(case.url_name, case.method) for case in CASES}
    missing = sorted(endpoints - covered)
    assert not missing, f"API endpoints without a tenancy case in tests/api/tenancy_cases.py: {missing}"
    assert covered <= endpoints, f"tenancy cases of endpoints that do not exist: {sorted(covered - endpoints)}"
