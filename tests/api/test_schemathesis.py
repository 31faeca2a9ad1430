"""Property-based run of the whole brand API from its own OpenAPI schema (schemathesis), as two brands.

Every operation of the schema is called with generated valid and invalid input (schemathesis' positive
and negative modes), once with each brand's
token. It must never answer 500, every 2xx answer must match the schema, and no answer to one brand may
contain a marker of the other brand's data (names, explanations, signatures and listing URLs that exist
only in that brand). Bounded: a few examples per operation and method (about a minute on 2 cores).
"""

from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from brands.choices import Role
from cases import services as case_services
from cases.demo import demo_evidence
from marketsafe.api.services import token_create
from tests import factories

EXAMPLES_PER_OPERATION = 20


def _brand_with_data(tag: str, marketplace) -> tuple[str, set[str]]:
    """A brand with a right, a case and an item holding markers unique to it; returns its token and markers."""
    brand = factories.BrandFactory(name=f"Brand {tag}", slug=f"brand-{tag.lower()}")
    membership = factories.MembershipFactory(brand=brand, role=Role.OWNER)
    markers = {f"MARK-{tag}-7c1f", f"EXPLANATION-{tag}-93ab", f"SIGNER-{tag}-51d0", f"/item/LISTING{tag}93"}
    right = factories.IPRightFactory(brand=brand, name=f"MARK-{tag}-7c1f", registration_number=f"REG{tag}001")
    case_services.case_submit(
        brand=brand,
        actor=membership.user,
        reason_code="counterfeit",
        explanation=f"EXPLANATION-{tag}-93ab",
        rights=[right],
        listing_urls=[f"https://{marketplace.hosts[0]}/item/LISTING{tag}93"],
        item_notes={f"https://{marketplace.hosts[0]}/item/LISTING{tag}93": f"NOTE-{tag}-44aa"},
        signed_name=f"SIGNER-{tag}-51d0",
        evidence=[demo_evidence()],
    )
    markers.add(f"NOTE-{tag}-44aa")
    _, secret = token_create(membership=membership, actor=membership.user, name="schemathesis")
    return secret, markers


def _exercise(operation, tokens_and_foreign_markers, statuses: Counter) -> None:
    """Run one operation's generated cases with each token, counting the answers' status codes."""

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    )
    def run(case):
        for token, foreign in tokens_and_foreign_markers:
            response = case.call_and_validate(
                headers={"Authorization": f"Token {token}"},
                checks=[not_a_server_error, response_schema_conformance],
            )
            statuses[response.status_code] += 1
            leaked = [marker for marker in foreign if marker in response.text]
            assert not leaked, f"{operation.label} answered one brand with the other's data: {leaked}"

    run()


@pytest.fixture
def wsgi_app():
    # As Django's test client does: a request must not close the connection holding the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield WSGIHandler()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
def test_api_from_its_schema_as_two_brands(wsgi_app, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "100000/minute", "api_auth": "100000/minute"},
    }
    marketplace = factories.MarketplaceFactory(slug="shopnow", hosts=["shopnow.example"])
    token_a, markers_a = _brand_with_data("A", marketplace)
    token_b, markers_b = _brand_with_data("B", marketplace)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: Counter = Counter()
    for operation in operations:
        _exercise(operation, [(token_a, markers_b), (token_b, markers_a)], statuses)
    print(f"schemathesis: {len(operations)} operations, {statuses.total()} calls, status codes {dict(statuses)}")
    assert statuses.total() >= 2 * len(operations)
    # The run got past authentication: the lists answered, and generated ids were not found.
    assert statuses[200] > 0 and statuses[404] > 0, statuses
