"""Every brand endpoint of the API runs the tenancy matrix (tests/api_harness.py); the meta-test fails when
an endpoint (a URL name and method of a brand-scoped view) has no case in tests/api/tenancy_cases.py."""

import pytest

from brands.api.viewsets import BrandScopedMixin
from tests.api.tenancy_cases import CASES
from tests.api_harness import assert_api_tenant_matrix, assert_every_endpoint_has_a_case


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_tenancy_matrix(case):
    assert_api_tenant_matrix(case)


def test_every_brand_endpoint_has_a_tenancy_case():
    assert_every_endpoint_has_a_case(BrandScopedMixin, CASES, "tests/api/tenancy_cases.py", at_least=10)
