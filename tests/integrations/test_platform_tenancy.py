"""Every platform endpoint runs the tenancy matrix (tests/platform_harness.py), and every marketplace-owned
model's scope is checked; the meta-tests fail when a route of the `platform-api` namespace (by URL name and
method) or a marketplace-owned model (`core.tenancy.marketplace_owned_models()`) has no case in
platform_tenancy_cases.py."""

import pytest

from core.tenancy import marketplace_owned_models
from tests.integrations.platform_tenancy_cases import CASES, SCOPE_CASES
from tests.platform_harness import assert_marketplace_scope, assert_platform_tenant_matrix, platform_endpoints

WHERE = "tests/integrations/platform_tenancy_cases.py"


@pytest.mark.django_db(transaction=True)  # the decisions feed serves committed decisions only
@pytest.mark.parametrize("case", CASES, ids=str)
def test_platform_tenancy_matrix(case, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "EXPORT_SETTLE_SECONDS": 0}  # statements export at once
    assert_platform_tenant_matrix(case)


def test_every_platform_endpoint_has_a_tenancy_case():
    endpoints = platform_endpoints()
    assert len(endpoints) >= 7, f"the URL walk found too few platform endpoints: {endpoints}"
    covered = {(case.url_name, case.method) for case in CASES}
    missing = sorted(endpoints - covered)
    assert not missing, f"platform endpoints without a tenancy case in {WHERE}: {missing}"
    assert covered <= endpoints, f"tenancy cases of platform endpoints that do not exist: {sorted(covered - endpoints)}"


@pytest.mark.django_db
@pytest.mark.parametrize("case", SCOPE_CASES, ids=str)
def test_marketplace_scope(case):
    assert_marketplace_scope(case)


def test_every_marketplace_owned_model_has_a_scope_case():
    owned = set(marketplace_owned_models())
    assert len(owned) >= 10, f"too few marketplace-owned models found: {owned}"
    tested = {case.model for case in SCOPE_CASES}
    missing = sorted(model._meta.label for model in owned - tested)
    assert not missing, f"marketplace-owned models without a scope case in {WHERE}: {missing}"
    assert tested <= owned, f"scope cases of models that are not marketplace-owned: {tested - owned}"
