"""Every brand endpoint of the API runs the tenancy matrix (tests/api_harness.py); the meta-test fails when
an endpoint (a URL name and method of a brand-scoped view) has no case in tests/api/tenancy_cases.py."""

import pytest

from marketsafe.api.viewsets import BrandScopedMixin
from tests.api.tenancy_cases import CASES
from tests.api_harness import api_endpoints, assert_api_tenant_matrix


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_tenancy_matrix(case):
    assert_api_tenant_matrix(case)


def test_every_brand_endpoint_has_a_tenancy_case():
    endpoints = api_endpoints(BrandScopedMixin)
    assert len(endpoints) >= 10, f"the URL walk found too few endpoints: {endpoints}"
    covered = {(case.url_name, case.method) for case in CASES}
    missing = sorted(endpoints - covered)
    assert not missing, f"API endpoints without a tenancy case in tests/api/tenancy_cases.py: {missing}"
    assert covered <= endpoints, f"tenancy cases of endpoints that do not exist: {sorted(covered - endpoints)}"
