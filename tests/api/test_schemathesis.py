"""Property-based runs of the API from its own OpenAPI schema (schemathesis): the brand endpoints as two
brands, the platform endpoints as two marketplaces' service tokens.

Every operation is called with generated valid and invalid input (schemathesis' positive and negative
modes, drawn with a fixed seed: `derandomize`), once with each tenant's credential. Both directions are
checked:

- the schema is no looser than the API: input the schema refuses (negative mode) must be answered 4xx
  (`negative_data_rejection`);
- the API is no stricter than the schema: a list or feed given valid parameters may refuse only the opaque
  `cursor` (one the API never returned), never a filter, bound or date the schema allows; a valid body may
  be refused only for the fields whose rules depend on stored data the schema cannot know, such as which
  rights are verified (`DATA_DEPENDENT_FIELDS`, by operation).

It must never answer 500, every status and content type must be documented, every answer (errors
included) must match the schema, and no answer to one tenant may contain a marker of the other's data
(brands: names, explanations, signatures and listing URLs that exist only in that brand; marketplaces:
listing URLs, seller names and statement ids). Bounded: a few examples per operation.
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
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from brands.api.services import token_create
from brands.choices import Role
from cases import services as case_services
from integrations.services import service_token_create
from tests import factories
from tests.platform_harness import marketplace_world


#: What a valid (positive) body may still be refused for, by operation: rules over stored data the schema
#: cannot know (which rights are verified and unexpired, the brand's lane, the marketplace's hosts and sellers,
#: a registration already on file, the credentials), across fields (an end before a start), or over a file's
#: bytes (an upload must be a PDF or an image by its content, not its name). Any other
#: field named in a 400 to a positive case is a schema looser than the API, and fails the run.
def _cross_field_refusals(query: dict) -> set[str]:
    """Parameters a list may refuse for a rule between two of them, which no OpenAPI schema can state: an end
    date before the start date (`cases.filtersets.SubmittedRangeForm`)."""
    start, end = query.get("submitted_from"), query.get("submitted_to")
    return {"submitted_to"} if isinstance(start, str) and isinstance(end, str) and end < start else set()


DATA_DEPENDENT_FIELDS = {
    "POST /api/v1/auth/token/": {"non_field_errors"},
    "POST /api/v1/cases/": {"listings", "listing_urls", "rights", "evidence"},
    "POST /api/v1/cases/import/": {"listing_file", "rights", "evidence"},
    # A right valid from a date far in the future, or ending before it starts, is refused.
    "POST /api/v1/ip-rights/": {"registration_number", "valid_from", "valid_until", "document"},
    "POST /api/v1/ip-rights/{id}/documents/": {"file"},
    "POST /api/v1/test-purchases/": {"listing_url", "order_id", "purchased_on", "received_on", "files"},
    "POST /api/v1/test-purchases/{id}/events/": {"at", "note", "files"},
    "POST /api/v1/test-purchases/{id}/verdict/": {"report", "report_file"},
    "POST /api/v1/test-purchases/{id}/attach/": {"item"},
    "POST /api/v1/platform/listings/bulk/": {"listings"},
    "POST /api/v1/platform/sellers/bulk/": {"sellers"},
    # A counter-notice received before the removal it contests (or in the future) is refused.
    "POST /api/v1/platform/items/{item_id}/counter-notice/": {"received_at"},
    # A watch search: at least one criterion, words of 3 characters or more, the lowest price not above the
    # highest, a marketplace and a seller that exist (and belong together).
    "POST /api/v1/watch-searches/": {"words", "price_max", "marketplace", "seller"},
    "PATCH /api/v1/watch-searches/{id}/": {"words", "price_max", "marketplace", "seller"},
    # Filing a match: the brand's usable rights, the evidence its lane needs, the listing not in an open case.
    "POST /api/v1/watch-matches/{id}/file/": {"rights", "evidence", "listings"},
}

EXAMPLES_PER_OPERATION = 20
#: The platform has fewer operations: more examples each, in about the same time.
PLATFORM_EXAMPLES_PER_OPERATION = 40


def _brand_with_data(tag: str, marketplace) -> tuple[str, set[str]]:
    """A brand with a right, a case and an item holding markers unique to it; returns its token and markers."""
    brand = factories.BrandFactory(name=f"Brand {tag}", slug=f"brand-{tag.lower()}")
    membership = factories.MembershipFactory(brand=brand, role=Role.OWNER)
    markers = {f"MARK-{tag}-7c1f", f"EXPLANATION-{tag}-93ab", f"SIGNER-{tag}-51d0", f"/item/LISTING{tag}93"}
    right = factories.IPRightFactory(brand=brand, name=f"MARK-{tag}-7c1f", registration_number=f"REG{tag}001")
    case_services.case_submit(
        request=factories.filing_request(
            brand=brand,
            actor=membership.user,
            explanation=f"EXPLANATION-{tag}-93ab",
            rights=[right],
            listing_urls=[f"https://{marketplace.hosts[0]}/item/LISTING{tag}93"],
            item_notes={f"https://{marketplace.hosts[0]}/item/LISTING{tag}93": f"NOTE-{tag}-44aa"},
            signed_name=f"SIGNER-{tag}-51d0",
        )
    )
    markers.add(f"NOTE-{tag}-44aa")
    _, secret = token_create(membership=membership, actor=membership.user, name="schemathesis")
    return secret, markers


def _exercise(
    operation, callers, statuses: Counter, own_data: Counter, refused: Counter, examples: int = EXAMPLES_PER_OPERATION
) -> None:
    """Run one operation's generated cases as each caller (an Authorization header, the markers of its own
    data, the markers of the other tenant's), counting the answers' status codes, in `own_data` the
    answers holding the caller's own markers (so the leak check is known to look at answers with data),
    and in `refused` the valid (positive) cases answered 400."""

    @hypothesis_settings(
        max_examples=examples,
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
        for authorization, own, foreign in callers:
            response = case.call_and_validate(
                headers={"Authorization": authorization},
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                    negative_data_rejection,
                ],
            )
            statuses[response.status_code] += 1
            if response.status_code == 400 and case.meta.generation.mode == GenerationMode.POSITIVE:
                refused[operation.label] += 1
                named = set(response.json().get("errors") or {})
                if operation.method.upper() == "GET":
                    allowed = {"cursor"} | _cross_field_refusals(case.query or {})
                    assert named <= allowed, f"{operation.label} refused parameters its schema allows: {named}"
                else:
                    allowed = DATA_DEPENDENT_FIELDS.get(operation.label, set())
                    assert named <= allowed, f"{operation.label} refused a body its schema allows: {named - allowed}"
            leaked = [marker for marker in foreign if marker in response.text]
            assert not leaked, f"{operation.label} answered one tenant with the other's data: {leaked}"
            own_data[operation.label] += any(marker in response.text for marker in own)

    run()


def _report(operations: list, statuses: Counter, own_data: Counter, refused: Counter) -> None:
    print(f"schemathesis: {len(operations)} operations, {statuses.total()} calls, status codes {dict(statuses)}")
    print(f"answers with the caller's own data: {dict(own_data)}")
    print(f"valid (positive) cases answered 400, by operation: {dict(refused)}")


def _operations(wsgi_app, *, platform: bool) -> list:
    """The schema's operations of one side: the platform endpoints, or all the others."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    # Each call carries its tenant's credential (`_exercise`), so schemathesis must not mutate the security
    # parameters: a negative case "without Authorization" would be sent with it all the same, and answered
    # 200. Missing and wrong credentials have their own tests (tests/api/test_tokens.py, test_tenancy.py).
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.path.startswith("/api/v1/platform/") == platform]


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
    operations = _operations(wsgi_app, platform=False)
    assert len(operations) >= 15
    statuses: Counter = Counter()
    own_data: Counter = Counter()
    refused: Counter = Counter()
    for operation in operations:
        _exercise(
            operation,
            [(f"Token {token_a}", markers_a, markers_b), (f"Token {token_b}", markers_b, markers_a)],
            statuses,
            own_data,
            refused,
        )
    _report(operations, statuses, own_data, refused)
    assert statuses.total() >= 2 * len(operations)
    assert own_data.total() > 0
    # The run got past authentication: the lists answered, and generated ids were not found.
    assert statuses[200] > 0 and statuses[404] > 0, statuses


# Committed data (the decisions feed serves committed decisions only); ids from 1, so generated ids find
# both marketplaces' items and cases.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_platform_api_from_its_schema_as_two_marketplaces(wsgi_app, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "PLATFORM_API_RATE": "100000/minute", "EXPORT_SETTLE_SECONDS": 0}
    worlds = [marketplace_world(tag) for tag in ("A", "B")]
    for world in worlds:
        world.accepted_item()
    tokens = [service_token_create(marketplace=w.marketplace, name="schemathesis", actor=None)[1] for w in worlds]
    (a, b), (token_a, token_b) = worlds, tokens
    operations = _operations(wsgi_app, platform=True)
    assert len(operations) >= 7
    statuses: Counter = Counter()
    own_data: Counter = Counter()
    refused: Counter = Counter()
    for operation in operations:
        callers = [(f"Bearer {token_a}", a.markers(), b.markers()), (f"Bearer {token_b}", b.markers(), a.markers())]
        _exercise(operation, callers, statuses, own_data, refused, examples=PLATFORM_EXAMPLES_PER_OPERATION)
    _report(operations, statuses, own_data, refused)
    assert statuses.total() >= 2 * len(operations)
    assert own_data.total() > 0
    assert statuses[200] > 0 and statuses[400] > 0 and statuses[404] > 0, statuses
