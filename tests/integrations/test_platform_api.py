"""The platform endpoints, called as a marketplace system would: with a service token, over HTTP."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import include, path, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from cases import services as case_services
from cases.choices import ItemStatus
from cases.models import Appeal, CounterNotice
from integrations import services
from integrations.selectors import widen_xid
from listings.models import Listing, Seller
from tests import factories

SELLERS = reverse("platform-api:seller-bulk")
LISTINGS = reverse("platform-api:listing-bulk")
DECISIONS = reverse("platform-api:decision-list")

pytestmark = pytest.mark.django_db


def seller_rows(n: int, start: int = 0) -> list[dict]:
    return [{"external_id": f"S{i}", "name": f"Shop {i}", "country": "DE"} for i in range(start, start + n)]


def listing_rows(n: int, seller: str = "S0") -> list[dict]:
    return [
        {
            "external_id": f"L{i}",
            "url": f"https://shopnow.example/item/L{i}",
            "seller_external_id": seller,
            "title": f"Bag {i}",
            "price": "19.90",
            "currency": "EUR",
        }
        for i in range(n)
    ]


# --- authentication and scope ---------------------------------------------------------------------


def test_without_a_token_the_platform_answers_401(marketplace):
    response = APIClient().post(SELLERS, {"sellers": seller_rows(1)}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_and_revoked_tokens_answer_401(marketplace, staff_user, token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer mst_00000000_not-a-token")
    assert client.post(SELLERS, {"sellers": seller_rows(1)}, format="json").status_code == 401
    row = services.service_token_authenticate(token)
    services.service_token_revoke(token_id=row.pk, actor=staff_user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(SELLERS, {"sellers": seller_rows(1)}, format="json")
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "code": "authentication_failed",
        "detail": "Unknown or revoked service token.",
    }


def test_a_logged_in_brand_user_cannot_call_the_platform(client, owner, marketplace):
    client.force_login(owner)
    assert client.post(SELLERS, {"sellers": seller_rows(1)}, content_type="application/json").status_code in {401, 403}
    assert not Seller.objects.exists()


def test_only_the_hash_of_a_token_is_stored(marketplace, token):
    row = services.service_token_authenticate(token)
    assert row.token_hash == services.token_hash(token) and token not in row.token_hash
    assert token.startswith(f"mst_{row.prefix}_")


def test_each_token_is_throttled_on_its_own(api, other_api, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "PLATFORM_API_RATE": "2/min"}
    assert [api.get(DECISIONS).status_code for _ in range(3)] == [200, 200, 429]
    assert other_api.get(DECISIONS).status_code == 200


# --- bulk upserts ---------------------------------------------------------------------------------


def test_sellers_are_upserted_idempotently_by_external_id(api, marketplace):
    response = api.post(SELLERS, {"sellers": seller_rows(3)}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["created"], response.json()["updated"]) == (3, 0)
    again = api.post(
        SELLERS, {"sellers": [{**seller_rows(1)[0], "name": "Renamed"}, *seller_rows(3, 3)]}, format="json"
    )
    assert (again.json()["created"], again.json()["updated"]) == (3, 1)
    assert Seller.objects.filter(marketplace=marketplace).count() == 6
    assert Seller.objects.get(external_id="S0").name == "Renamed"
    ids = {r["external_id"]: r["id"] for r in again.json()["results"]}
    assert ids["S0"] == response.json()["results"][0]["id"]


def test_thousands_of_listings_in_one_request(api, marketplace):
    api.post(SELLERS, {"sellers": seller_rows(1)}, format="json")
    response = api.post(LISTINGS, {"listings": listing_rows(3000)}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 3000
    assert Listing.objects.filter(marketplace=marketplace).count() == 3000
    repeat = api.post(LISTINGS, {"listings": listing_rows(3000)}, format="json")
    assert (repeat.json()["created"], repeat.json()["updated"]) == (0, 3000)
    assert Listing.objects.filter(marketplace=marketplace).count() == 3000


def test_one_bad_row_refuses_the_whole_request_naming_rows_and_fields(api, marketplace):
    api.post(SELLERS, {"sellers": seller_rows(1)}, format="json")
    rows = listing_rows(5)
    rows[1]["url"] = "https://elsewhere.example/item/L1"
    rows[2]["price"] = "-3"
    rows[3]["seller_external_id"] = "NOBODY"
    rows[4]["external_id"] = "L0"
    response = api.post(LISTINGS, {"listings": rows}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["listings"] == {"2": {"price": ["Ensure this value is greater than or equal to 0."]}}
    # Field validation runs first, for every row, and refuses the request before the stored rows are read.
    assert body["detail"] == (
        "Nothing was saved: 1 row has problems; the first: listings row 2: price: "
        "Ensure this value is greater than or equal to 0."
    )
    assert not Listing.objects.exists()
    rows[2]["price"] = "3"
    response = api.post(LISTINGS, {"listings": rows}, format="json")
    problems = response.json()["errors"]["listings"]
    assert {row: set(fields) for row, fields in problems.items()} == {
        "1": {"url"},
        "3": {"seller_external_id"},
        "4": {"external_id"},
    }
    assert "shopnow.example" in problems["1"]["url"][0]
    assert "row 0" in problems["4"]["external_id"][0]
    assert response.json()["detail"].startswith(
        "Nothing was saved: 3 rows have problems; the first: listings row 1: url:"
    )
    assert not Listing.objects.exists()


def test_a_listing_first_known_from_a_notice_gets_its_external_id(api, marketplace, file_case):
    marketplace.listing_id_pattern = ""  # the portal cannot read ids out of URLs: the notice's listing has none
    marketplace.save()
    case = file_case(1)
    listing = case.items.get().listing
    assert listing.external_id is None
    response = api.post(
        LISTINGS, {"listings": [{"external_id": "MP-77", "url": listing.url + "/", "title": "Bag"}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["results"] == [{"external_id": "MP-77", "id": listing.pk, "created": False}]
    listing.refresh_from_db()
    assert (listing.external_id, listing.title) == ("MP-77", "Bag")


def test_a_token_cannot_write_another_marketplaces_listings(api, other_marketplace):
    factories.ListingFactory(marketplace=other_marketplace, external_id="B1", url="https://buymore.example/item/B1")
    response = api.post(
        LISTINGS, {"listings": [{"external_id": "B1", "url": "https://buymore.example/item/B1"}]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]["listings"]["0"]) == {"url"}


def test_a_body_without_rows_or_with_too_many_is_refused(api, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "PLATFORM_BULK_MAX_ROWS": 2}
    assert api.post(SELLERS, {}, format="json").json()["errors"] == {"sellers": ["Send a non-empty array 'sellers'."]}
    not_objects = api.post(SELLERS, {"sellers": [seller_rows(1)[0], "S1"]}, format="json").json()["errors"]
    assert not_objects == {"sellers": {"1": {"non_field_errors": ["Each row must be a JSON object."]}}}
    response = api.post(SELLERS, {"sellers": seller_rows(3)}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"sellers": ["At most 2 rows per request; split the array."]}


# --- counter-notices and appeals ------------------------------------------------------------------


@pytest.fixture
def accepted_item(file_case, moderator):
    item = file_case(1).items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    return item


def test_a_counter_notice_goes_through_the_item_service(api, accepted_item):
    url = reverse("platform-api:item-counter-notice", kwargs={"item_id": accepted_item.pk})
    response = api.post(
        url, {"reason": "genuine", "explanation": "Invoice from the brand's distributor."}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == ItemStatus.COUNTER_NOTICED
    notice = CounterNotice.objects.get(item=accepted_item)
    assert notice.recorded_by is None and notice.reason == "genuine"
    again = api.post(url, {"reason": "genuine", "explanation": "Again."}, format="json")
    assert again.status_code == 409 and "only possible when it is accepted" in again.json()["detail"]
    assert again.json()["code"] == "conflict"


REFUSED_AGAIN = "only possible when it is accepted"


def test_a_refused_transition_answers_409_conflict_with_the_services_sentence(api, accepted_item):
    """The API base maps the service's `core.errors.TransitionNotAllowed` (the view has no mapping of its
    own): the same body the view's own mapping gave before, with no `errors`."""
    url = reverse("platform-api:item-counter-notice", kwargs={"item_id": accepted_item.pk})
    body = {"reason": "genuine", "explanation": "Invoice."}
    assert api.post(url, body, format="json").status_code == 201
    refused = api.post(url, body, format="json")
    detail = refused.json()["detail"]
    assert REFUSED_AGAIN in detail
    assert (refused.status_code, refused.json()) == (409, {"status": 409, "code": "conflict", "detail": detail})


def test_a_cursor_this_api_did_not_return_answers_400(api):
    message = "The cursor is not one this API returned."
    response = api.get(DECISIONS, {"cursor": "nonsense"})
    assert (response.status_code, response.json()) == (
        400,
        {"status": 400, "code": "invalid", "detail": f"cursor: {message}", "errors": {"cursor": [message]}},
    )


def test_counter_notice_field_errors(api, accepted_item):
    url = reverse("platform-api:item-counter-notice", kwargs={"item_id": accepted_item.pk})
    response = api.post(url, {"reason": "because", "received_at": "2999-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"reason", "explanation"}


def test_a_seller_appeal_goes_through_the_item_service(api, accepted_item):
    url = reverse("platform-api:item-appeal", kwargs={"item_id": accepted_item.pk})
    response = api.post(url, {"grounds": "The goods are genuine."}, format="json")
    assert response.status_code == 201
    appeal = Appeal.objects.get(item=accepted_item)
    assert (appeal.appellant, response.json()["status"]) == ("seller", ItemStatus.APPEALED)


def test_items_of_another_marketplace_answer_404(other_api, accepted_item):
    for name, body in (
        ("item-counter-notice", {"reason": "genuine", "explanation": "x"}),
        ("item-appeal", {"grounds": "x"}),
    ):
        url = reverse(f"platform-api:{name}", kwargs={"item_id": accepted_item.pk})
        assert other_api.post(url, body, format="json").status_code == 404
    assert not CounterNotice.objects.exists() and not Appeal.objects.exists()


# --- exports --------------------------------------------------------------------------------------


def test_dsa_statements_come_in_batches_once_settled(api, accepted_item, settings):
    url = reverse("platform-api:dsa-statement-batch")
    settings.MARKETSAFE = {**settings.MARKETSAFE, "EXPORT_SETTLE_SECONDS": 3600}
    assert api.get(url).json() == {"statements": [], "next_after": 0}
    settings.MARKETSAFE = {**settings.MARKETSAFE, "EXPORT_SETTLE_SECONDS": 0}
    body = api.get(url).json()
    (statement,) = body["statements"]
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert api.get(url, {"after": body["next_after"]}).json()["statements"] == []


def test_lumen_notice_of_a_case_on_the_marketplace(api, other_api, accepted_item):
    url = reverse("platform-api:case-lumen", kwargs={"case_id": accepted_item.case_id})
    notice = api.get(url).json()
    assert (notice["type"], notice["action_taken"]) == ("Counterfeit", "Yes")
    assert notice["works"][0]["infringing_urls"] == [{"url": accepted_item.listing.url}]
    assert other_api.get(url).status_code == 404


# --- the decisions feed (needs committed transactions: its horizon is the oldest running one) -------


@pytest.mark.django_db(transaction=True)
def test_the_decisions_feed_pages_by_cursor_and_never_repeats(marketplace, file_case, moderator):
    token = services.service_token_create(marketplace=marketplace, name="feed", actor=None)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    case = file_case(5, reason_code="trademark_title")
    items = list(case.items.order_by("pk"))
    assert client.get(DECISIONS).json()["results"] == []  # submissions are not decisions
    for item in items[:3]:
        case_services.item_accept(item_id=item.pk, actor=moderator)
    first = client.get(DECISIONS, {"limit": 2}).json()
    assert [r["item"]["id"] for r in first["results"]] == [items[0].pk, items[1].pk]
    assert first["has_more"] is True
    case_services.item_reject(item_id=items[3].pk, actor=moderator, code="wrong_reason")
    second = client.get(DECISIONS, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [(r["item"]["id"], r["item"]["status"]) for r in second["results"]] == [
        (items[2].pk, "accepted"),
        (items[3].pk, "rejected"),
    ]
    third = client.get(DECISIONS, {"cursor": second["next_cursor"]}).json()
    assert third == {"results": [], "next_cursor": second["next_cursor"], "has_more": False}
    assert client.get(DECISIONS, {"cursor": "nonsense"}).status_code == 400
    assert second["results"][1]["listing"]["url"] == items[3].listing.url


@pytest.mark.django_db(transaction=True)
def test_a_decision_still_uncommitted_holds_back_later_ones_until_it_commits(marketplace, file_case, moderator):
    """A long transaction that decided first but commits last must not be skipped by a reader's cursor."""
    token = services.service_token_create(marketplace=marketplace, name="feed", actor=None)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    slow, fast = file_case(2).items.order_by("pk")
    decided, release = threading.Event(), threading.Event()

    def long_transaction():
        try:
            with transaction.atomic():
                case_services.item_reject(item_id=slow.pk, actor=moderator, code="wrong_reason")
                decided.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=long_transaction)
    thread.start()
    assert decided.wait(30)
    # The other item's decision commits now, after the slow one took its ids (the case row lock is not
    # shared: a different case would do the same; this one shows it even with the lock order).
    other = file_case(1).items.get()
    case_services.item_reject(item_id=other.pk, actor=moderator, code="wrong_reason")
    held_back = client.get(DECISIONS).json()
    assert held_back["results"] == []  # the committed decision waits behind the running transaction
    release.set()
    thread.join(30)
    page = client.get(DECISIONS).json()
    assert [r["item"]["id"] for r in page["results"]] == [slow.pk, other.pk]
    assert fast.pk not in [r["item"]["id"] for r in page["results"]]


def test_running_transaction_ids_are_widened_into_the_right_epoch():
    assert widen_xid(100, 5 << 32 | 200) == 5 << 32 | 100
    assert widen_xid(4_294_967_000, 5 << 32 | 200) == 4 << 32 | 4_294_967_000  # handed out before the wrap
    assert widen_xid(37_927, 37_940) == 37_927


def test_the_platform_endpoints_have_a_valid_openapi_description():
    schema = SchemaGenerator(patterns=[path("api/v1/platform/", include("integrations.platform.urls"))]).get_schema(
        request=None, public=True
    )
    validate_schema(schema)
    assert schema["components"]["securitySchemes"]["serviceToken"]["scheme"] == "bearer"
    bulk = schema["paths"]["/api/v1/platform/listings/bulk/"]["post"]
    assert bulk["security"] == [{"serviceToken": []}]
    assert set(bulk["responses"]) == {"200", "400", "401", "409", "413", "415", "429", "503"}
    error = {"$ref": "#/components/schemas/Error"}
    assert bulk["responses"]["400"]["content"]["application/json"]["schema"] == error


def test_a_counter_notice_dated_before_the_decision_is_refused_and_changes_nothing(api, accepted_item):
    """Issue 14.8: back-dated a month before the acceptance, the brand's answer window would have closed."""
    accepted_item.refresh_from_db()
    url = reverse("platform-api:item-counter-notice", kwargs={"item_id": accepted_item.pk})
    before = (accepted_item.decided_at - timedelta(days=30)).isoformat()
    response = api.post(url, {"reason": "genuine", "explanation": "Invoice.", "received_at": before}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["received_at"] == [
        f"Cannot lie before the decision it answers ({timezone.localtime(accepted_item.decided_at):%Y-%m-%d %H:%M})."
    ]
    accepted_item.refresh_from_db()
    assert accepted_item.status == ItemStatus.ACCEPTED
    assert not CounterNotice.objects.filter(item=accepted_item).exists()


def test_a_counter_notice_dated_at_the_decision_keeps_its_date(api, accepted_item):
    accepted_item.refresh_from_db()
    url = reverse("platform-api:item-counter-notice", kwargs={"item_id": accepted_item.pk})
    received = accepted_item.decided_at  # the earliest allowed: the decision itself
    response = api.post(
        url, {"reason": "genuine", "explanation": "Invoice.", "received_at": received.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert CounterNotice.objects.get(item=accepted_item).received_at == received
