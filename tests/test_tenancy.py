"""Every brand view runs the tenancy matrix (tests/harness.py); the meta-tests make that a ratchet: a new
brand view, or a brand-owned model exposed by a view, without a case in tests/tenancy_cases/ fails the suite,
and so does a write case that does not declare what it saves and audits."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from brands.access import BrandAccessMixin
from core.tenancy import brand_owned_models
from tests.harness import assert_tenant_matrix
from tests.tenancy_cases import all_cases

TENANCY_CASES = all_cases()


@pytest.mark.django_db
@pytest.mark.parametrize("case", TENANCY_CASES, ids=str)
def test_tenancy_matrix(case):
    assert_tenant_matrix(case)


def _brand_views(resolver: URLResolver, prefix: str = "") -> list[tuple[str, type]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            found += _brand_views(pattern, namespace)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class and issubclass(view_class, BrandAccessMixin):
                found.append((f"{prefix}{pattern.name}", view_class))
    return found


def test_every_brand_view_has_a_tenancy_case():
    covered = {case.url_name for case in TENANCY_CASES}
    views = _brand_views(get_resolver())
    assert views, "no brand views found: the URL walk is broken"
    missing = sorted(name for name, _ in views if name not in covered)
    assert not missing, f"brand views without a tenancy case in tests/tenancy_cases/: {missing}"


def test_every_write_case_declares_what_it_saves_and_audits():
    writes = [case for case in TENANCY_CASES if case.is_write]
    assert writes, "no write cases found"
    undeclared = [f"{case}: {problem}" for case in writes if (problem := case.declaration_problem())]
    assert not undeclared, f"write cases without their effect (`saved=`, `audited=`): {undeclared}"


def test_every_exposed_brand_owned_model_has_a_tenancy_case():
    owned = set(brand_owned_models())
    exposed = {view.model for _, view in _brand_views(get_resolver()) if getattr(view, "model", None) in owned}
    tested = {case.model for case in TENANCY_CASES}
    assert not exposed - tested, f"brand-owned models exposed by views without tenancy tests: {exposed - tested}"
    assert {case.model for case in TENANCY_CASES} <= owned


def test_views_declare_their_model():
    undeclared = [name for name, view in _brand_views(get_resolver()) if getattr(view, "model", None) is None]
    assert not undeclared, f"brand views must declare the brand-owned model they expose: {undeclared}"
