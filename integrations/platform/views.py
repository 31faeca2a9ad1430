"""The platform endpoints, for marketplace systems authenticated with a service token.

Mounted at `/api/v1/platform/`. Every view names its authentication, permission and throttle classes
itself, so the global API defaults (brand users' tokens and sessions) never open these endpoints to
anyone but a marketplace's system, and a service token opens nothing else. A token only ever reaches its
own marketplace's sellers, listings and items: others answer 404.

Errors have the API's one shape (`core.api.exceptions`): `{"status", "code", "detail", "errors"}`.
A refused bulk request answers 400 with nothing saved and `errors` keyed by the array, then the row's index
from 0, then the row's field (`{"listings": {"3": {"url": ["…"]}}}`); a body without rows or with too many
answers 400 with `{"sellers": ["…"]}`; a transition the item's status does not allow, or a concurrent
write of the same rows, answers 409 (`conflict`). The refusals are the services' own
(`core.errors.DomainError`, Django's `ValidationError`), mapped by the API base (`core.api.exceptions`).

Every read goes through the marketplace scope (`for_marketplace(self.marketplace)`, see `core.tenancy`):
no view filters by marketplace by hand, so another marketplace's item or case is simply not found (404).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import services as case_services
from cases.models import Case, CaseItem
from core.api.exceptions import RowsInvalid
from core.api.fast_rows import validate_rows
from core.api.schema import ApiAutoSchema, error_response
from core.errors import Conflict
from detection.services.hashes import listing_image_hashes_replace
from detection.tasks import match_on_commit
from integrations.authentication import (
    IsMarketplaceService,
    ServiceTokenAuthentication,
    ServiceTokenRateThrottle,
)
from integrations.exports import dsa_statement, dsa_statement_batch, lumen_notice
from integrations.platform import serializers as api
from integrations.selectors import decisions_feed
from investigations.choices import OrderConfirmation
from investigations.models import TestPurchase
from investigations.services.purchases import purchase_confirm_order
from listings.models import Marketplace
from listings.upserts import UpsertResult, listings_upsert, sellers_upsert


class PlatformView(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsMarketplaceService]
    throttle_classes = [ServiceTokenRateThrottle]
    # The API's schema class, whatever the global default: `extend_schema` below builds on it.
    schema = ApiAutoSchema()

    @property
    def marketplace(self) -> Marketplace:
        """The service token's marketplace: the scope of every read below."""
        return self.request.auth.marketplace

    def items(self) -> QuerySet[CaseItem]:
        return CaseItem.objects.for_marketplace(self.marketplace)

    @staticmethod
    def get_scoped(queryset: QuerySet, message: str, **lookup: Any) -> Model:
        """The row of `queryset` (already scoped to the marketplace) matching `lookup`, or 404 with `message`:
        another marketplace's row and a row that does not exist answer alike."""
        found = queryset.filter(**lookup).first()
        if found is None:
            raise NotFound(message)
        return found


CONCURRENT_WRITE = "A concurrent request changed some of these rows; nothing was saved. Retry."


class BulkUpsertView(PlatformView):
    """Validate every row, then upsert all of them in one transaction, or none."""

    # A JSON body only: a form cannot carry the array of row objects (another media type answers 415).
    parser_classes = [JSONParser]
    key: str
    row_serializer: type[serializers.Serializer]

    def upsert(self, rows: list[dict[str, Any]]) -> UpsertResult:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        rows = request.data.get(self.key) if isinstance(request.data, dict) else None
        limit = settings.MARKETSAFE["PLATFORM_BULK_MAX_ROWS"]
        if not isinstance(rows, list) or not rows:
            raise ValidationError({self.key: [f"Send a non-empty array '{self.key}'."]})
        if len(rows) > limit:
            raise ValidationError({self.key: [f"At most {limit} rows per request; split the array."]})
        not_objects = [i for i, row in enumerate(rows) if not isinstance(row, dict)]
        if not_objects:
            raise RowsInvalid(
                self.key, {i: {"non_field_errors": ["Each row must be a JSON object."]} for i in not_objects}
            )
        # Plainly valid rows are checked without DRF's per-field machinery (core.api.fast_rows); any other
        # request goes through the serializer, whose messages the client gets.
        validated = validate_rows(self.row_serializer, rows)
        if validated is None:
            # One list serializer, not one serializer per row: DRF deep-copies a serializer's fields for
            # every instance, which would dominate a 5,000-row request.
            serializer = self.row_serializer(data=rows, many=True)
            if not serializer.is_valid():
                errors = serializer.errors
                # By row index: a list aligned with the rows, or (newer DRF) a dict of the failing rows only.
                by_row = errors.items() if isinstance(errors, dict) else enumerate(errors)
                raise RowsInvalid(self.key, {int(i): row_errors for i, row_errors in by_row if row_errors})
            validated = serializer.validated_data
        try:
            # A refused row raises `UpsertRefused`, answered by the API base like the rows above.
            result = self.upsert(validated)
        except IntegrityError as exc:
            # Another request wrote one of these rows between our checks and our statement: send it again.
            raise Conflict(CONCURRENT_WRITE) from exc
        return Response(
            {
                "created": result.created,
                "updated": result.updated,
                "results": [{"external_id": e, "id": pk, "created": new} for e, pk, new in result.ids],
            }
        )


@extend_schema(
    tags=["platform"],
    request=api.SellerBulkSerializer,
    responses={200: api.UpsertResultSerializer, 409: error_response(CONCURRENT_WRITE)},
    summary="Create or update sellers by external id (all or nothing)",
)
class SellerBulkUpsertView(BulkUpsertView):
    key = "sellers"
    row_serializer = api.SellerRowSerializer

    def upsert(self, rows: list[dict[str, Any]]) -> UpsertResult:
        return sellers_upsert(marketplace=self.marketplace, rows=rows)


@extend_schema(
    tags=["platform"],
    request=api.ListingBulkSerializer,
    responses={200: api.UpsertResultSerializer, 409: error_response(CONCURRENT_WRITE)},
    summary="Create or update listings by external id (all or nothing)",
)
class ListingBulkUpsertView(BulkUpsertView):
    key = "listings"
    row_serializer = api.ListingRowSerializer

    def upsert(self, rows: list[dict[str, Any]]) -> UpsertResult:
        with transaction.atomic():
            result = listings_upsert(marketplace=self.marketplace, rows=rows)
            # Stay-down detection: keep the image hashes sent, then match the listings once committed.
            ids = [pk for _, pk, _ in result.ids]
            listing_image_hashes_replace(
                hashes_by_listing={
                    pk: row["image_hashes"] for pk, row in zip(ids, rows, strict=True) if "image_hashes" in row
                }
            )
            match_on_commit(ids)
        return result


ITEM_REFUSED = error_response("The item's status (or a passed deadline) does not allow this.")
NO_SUCH_ITEM = "No such item on your marketplace."


class ItemActionView(PlatformView):
    input_serializer: type[serializers.Serializer]

    def act(self, item_id: int, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def post(self, request: Request, item_id: int) -> Response:
        self.get_scoped(self.items(), NO_SUCH_ITEM, pk=item_id)  # 404 before the body is even validated
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A refusal (`core.errors.TransitionNotAllowed`) is answered by the API base: 409 `conflict`.
        self.act(item_id, serializer.validated_data)
        item = self.get_scoped(self.items(), NO_SUCH_ITEM, pk=item_id)
        return Response(
            api.ItemStateSerializer(
                {
                    "id": item.pk,
                    "case_id": item.case_id,
                    "status": item.status,
                    "brand_answer_due_at": item.brand_answer_due_at,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(
    tags=["platform"],
    request=api.CounterNoticeInputSerializer,
    responses={201: api.ItemStateSerializer, 409: ITEM_REFUSED},
    summary="Report a seller's counter-notice on a removed listing",
)
class CounterNoticeView(ItemActionView):
    input_serializer = api.CounterNoticeInputSerializer

    def act(self, item_id: int, data: dict[str, Any]) -> Any:
        # The service checks `received_at` (between the decision and now).
        return case_services.item_counter_notice(
            item_id=item_id, reason=data["reason"], explanation=data["explanation"], received_at=data.get("received_at")
        )


@extend_schema(
    tags=["platform"],
    request=api.AppealInputSerializer,
    responses={201: api.ItemStateSerializer, 409: ITEM_REFUSED},
    summary="Report a seller's appeal against a decision",
)
class AppealView(ItemActionView):
    input_serializer = api.AppealInputSerializer

    def act(self, item_id: int, data: dict[str, Any]) -> Any:
        return case_services.item_appeal(item_id=item_id, appellant="seller", grounds=data["grounds"])


@extend_schema(
    tags=["platform"],
    parameters=[api.DecisionFeedQuerySerializer],
    responses={200: api.DecisionPageSerializer},
    summary="Decisions on your listings since a cursor",
)
class DecisionFeedView(PlatformView):
    def get(self, request: Request) -> Response:
        query = _query(api.DecisionFeedQuerySerializer, request)
        # A cursor this API did not return raises `BadCursor`: 400 `invalid` with `errors.cursor`.
        page = decisions_feed(marketplace=self.marketplace, cursor=query.get("cursor") or None, limit=query["limit"])
        return Response(
            api.DecisionPageSerializer(
                {"results": page.events, "next_cursor": page.next_cursor, "has_more": page.has_more}
            ).data
        )


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request's query parameters checked by `serializer_class`, which the schema lists too; each
    given once (a repeated one is refused, not read as its last value)."""
    repeated = {name: ["Give this parameter once."] for name, values in request.query_params.lists() if len(values) > 1}
    if repeated:
        raise ValidationError(repeated)
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(
    tags=["platform"],
    parameters=[api.DSABatchQuerySerializer],
    responses={200: api.DSABatchSerializer},
    summary="Statements of reasons on your listings, as one DSA Transparency Database batch",
)
class DSAStatementBatchView(PlatformView):
    """Up to 100 statements after `after`, ready to POST to the Transparency Database's batch endpoint.

    Only statements older than `EXPORT_SETTLE_SECONDS` are served: decisions commit within seconds, so
    none can appear later behind a returned id.
    """

    def get(self, request: Request) -> Response:
        after = _query(api.DSABatchQuerySerializer, request)["after"]
        settled = timezone.now() - timedelta(seconds=settings.MARKETSAFE["EXPORT_SETTLE_SECONDS"])
        statements = dsa_statement_batch(marketplace=self.marketplace, after=after, settled_before=settled)
        return Response(
            {
                "statements": [dsa_statement(s) for s in statements],
                "next_after": statements[-1].pk if statements else after,
            }
        )


@extend_schema(tags=["platform"], responses={200: dict}, summary="A case as a Lumen-style notice (your listings)")
class LumenNoticeView(PlatformView):
    def get(self, request: Request, case_id: int) -> Response:
        cases = Case.objects.for_marketplace(self.marketplace).select_related("brand")
        case = self.get_scoped(cases, "No such case on your marketplace.", pk=case_id)
        return Response(lumen_notice(case, marketplace=self.marketplace))


# --- test purchases: the marketplace confirms the order ----------------------------------------------

#: Orders per page of the waiting list.
ORDERS_PAGE = 100
NO_SUCH_PURCHASE = "No such test purchase on your marketplace."


@extend_schema(
    tags=["platform"],
    parameters=[api.TestPurchaseOrderQuerySerializer],
    responses={200: api.TestPurchaseOrderPageSerializer},
    summary="Test purchase orders on your listings waiting for your answer",
)
class TestPurchaseOrderListView(PlatformView):
    """Orders brands placed on the marketplace's listings as test purchases, still unconfirmed, oldest first,
    100 after `after` (walk with `next_after`)."""

    __test__ = False

    def get(self, request: Request) -> Response:
        after = _query(api.TestPurchaseOrderQuerySerializer, request)["after"]
        orders = list(
            TestPurchase.objects.for_marketplace(self.marketplace)
            .filter(order_confirmation=OrderConfirmation.UNCONFIRMED, pk__gt=after)
            .select_related("listing")
            .order_by("pk")[:ORDERS_PAGE]
        )
        return Response(
            api.TestPurchaseOrderPageSerializer(
                {"orders": orders, "next_after": orders[-1].pk if orders else after}
            ).data
        )


@extend_schema(
    tags=["platform"],
    request=api.OrderAnswerInputSerializer,
    responses={200: api.TestPurchaseOrderSerializer},
    summary="Answer whether a test purchase's order exists for its listing",
)
class TestPurchaseOrderAnswerView(PlatformView):
    """The marketplace's answer: found (the purchase shows "confirmed") or not found; a later answer
    replaces an earlier one."""

    __test__ = False

    def post(self, request: Request, purchase_id: int) -> Response:
        purchases = TestPurchase.objects.for_marketplace(self.marketplace).select_related("listing")
        self.get_scoped(purchases, NO_SUCH_PURCHASE, pk=purchase_id)  # 404 before the body is read
        serializer = api.OrderAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purchase_confirm_order(purchase_id=purchase_id, **serializer.validated_data)
        return Response(api.TestPurchaseOrderSerializer(purchases.get(pk=purchase_id)).data)
