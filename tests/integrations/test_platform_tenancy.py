"""Every platform endpoint runs the tenancy matrix (tests/platform_harness.py); the meta-test fails when a
platform endpoint (a URL name and method of a `PlatformView`) has no case in platform_tenancy_cases.py."""

import pytest

from integrations.platform.views import PlatformView
from tests.api_harness import assert_every_endpoint_has_a_case
from tests.integrations.platform_tenancy_cases import CASES
from tests.platform_harness import assert_platform_tenant_matrix


@pytest.mark.django_db(transaction=True)  # the decisions feed serves committed decisions only
@pytest.mark.parametrize("case", CASES, ids=str)
def test_platform_tenancy_matrix(case, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "EXPORT_SETTLE_SECONDS": 0}  # statements export at once
    assert_platform_tenant_matrix(case)


def test_every_platform_endpoint_has_a_tenancy_case():
    assert_every_endpoint_has_a_case(PlatformView, CASES, "tests/integrations/platform_tenancy_cases.py", at_least=7)
