"""The brand's case endpoints: cases (list, file, read, withdraw, CSV import with a dry run) and their
items (list, read, and the brand's actions: resubmit, answer a counter-notice, appeal, withdraw).

Thin views: reads through `cases.selectors` (tenant-scoped), filters through `cases.filtersets`, input
through the web forms' validation, writes through `cases.services`. A service's refusal is answered by the
API's one error handler (`core.api.exceptions`): 400 for invalid input, and 409 `conflict` for a
`core.errors.TransitionNotAllowed` (the item's status, a deadline or its assignee does not allow it).
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from brands.api.viewsets import BrandScopedGenericViewSet
from brands.choices import Capability
from cases import importing, selectors, services
from cases.action_forms import AppealForm, CounterNoticeAnswerForm, ResubmitForm, WithdrawForm
from cases.api import filing
from cases.api.serializers import (
    CaseAnswerSerializer,
    CaseAppealSerializer,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseImportResultSerializer,
    CaseImportSerializer,
    CaseImportStatusSerializer,
    CaseItemDetailSerializer,
    CaseItemSerializer,
    CaseListSerializer,
    CaseResubmitSerializer,
    CaseWithdrawResultSerializer,
    CaseWithdrawSerializer,
)
from cases.choices import AppellantSide, CounterNoticeAnswer
from cases.filtersets import CaseFilterSet, CaseItemFilterSet
from cases.models import Appeal, Case, CaseDraft, CaseItem, CounterNotice
from core.api.exceptions import Conflict, form_validation_error
from core.api.schema import error_response
from core.filters import IdFilter

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: The answer of an item action its status (or a passed deadline) does not allow.
REFUSED = error_response("The item's status (or a passed deadline) does not allow this action.")
IDEMPOTENCY_MAX_CHARS = Case._meta.get_field("idempotency_key").max_length
FILING_PARSERS = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]


def _idempotency_key(request: Request) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if len(key) > IDEMPOTENCY_MAX_CHARS or not key.isprintable():
        raise serializers.ValidationError(
            {IDEMPOTENCY_HEADER: [f"Use up to {IDEMPOTENCY_MAX_CHARS} printable characters, e.g. a UUID."]}
        )
    return key.strip()


#: What `_idempotency_key` accepts: up to 100 printable characters (`str.isprintable`: no control
#: characters, and none of Latin-1's non-printing ones).
IDEMPOTENCY_SCHEMA = {
    "type": "string",
    "maxLength": IDEMPOTENCY_MAX_CHARS,
    "pattern": "^[^\\u0000-\\u001f\\u007f-\\u00a0\\u00ad]*$",
}


def _idempotency_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(IDEMPOTENCY_HEADER, IDEMPOTENCY_SCHEMA, OpenApiParameter.HEADER, description=description)


def _run_form(form_class: type, data: dict[str, Any], files: dict[str, list] | None = None) -> Any:
    """Validate with the web page's form, so both refuse the same input with the same words."""
    form = form_class(data, MultiValueDict(files or {}))
    if not form.is_valid():
        raise form_validation_error(form)
    return form


@extend_schema_view(
    list=extend_schema(summary="List the brand's cases"),
    retrieve=extend_schema(summary="A case with its declarations and evidence"),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedGenericViewSet):
    model = Case
    filterset_class = CaseFilterSet
    capabilities = {"create": Capability.FILE, "withdraw": Capability.FILE, "import_csv": Capability.FILE}
    parser_classes = FILING_PARSERS

    def brand_queryset(self) -> QuerySet[Case]:
        if self.action == "list":
            return selectors.case_list(user=self.request.user, brand=self.brand)
        return selectors.case_detail(user=self.request.user, brand=self.brand)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "list": CaseListSerializer,
            "create": CaseCreateSerializer,
            "import_csv": CaseImportSerializer,
            "withdraw": CaseWithdrawSerializer,
        }.get(self.action, CaseDetailSerializer)

    def _detail(self, case: Case, *, status_code: int) -> Response:
        case = selectors.case_detail(user=self.request.user, brand=self.brand).get(pk=case.pk)
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(
        summary="File a case with its listings",
        parameters=[
            _idempotency_parameter(
                "Repeat a request with the same key and the case it filed is returned (200) instead of a second "
                "one being filed."
            )
        ],
        responses={201: CaseDetailSerializer, 200: CaseDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _idempotency_key(request)
        earlier = filing.filed_with_key(brand=self.brand, idempotency_key=key)
        if earlier is not None:
            return self._detail(earlier, status_code=status.HTTP_200_OK)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        checked = filing.validate_filing(brand=self.brand, user=request.user, attrs=serializer.validated_data)
        errors = filing.row_errors(checked)
        if errors:
            raise serializers.ValidationError(errors)
        case = filing.submit(filing=checked, idempotency_key=key, **self._filer(request))
        return self._detail(case, status_code=status.HTTP_201_CREATED)

    def _filer(self, request: Request) -> dict[str, Any]:
        """Who files, for `cases.api.filing`: the brand, the user and their address."""
        return {"brand": self.brand, "user": request.user, "ip_address": request.META.get("REMOTE_ADDR")}

    @extend_schema(
        summary="File a case from a CSV file, or check the file (dry run)",
        description="A file of more rows than are checked inside the request (IMPORT_INLINE_MAX_ROWS, 200) is "
        "checked, and filed, in the background: 202 with the import's status, whose `url` (also the Location "
        "header) to poll until its `state` is ready (dry run), filed or failed. An `Idempotency-Key` header "
        "(not on a dry run) makes a repeat safe: while the first request's import runs (or once it failed) a "
        "repeat answers 202 with that import's status, once it filed a case 200 with the case; a repeat never "
        "starts a second import or files a second case.",
        parameters=[_idempotency_parameter("A key of your choosing per filing (e.g. a UUID); see above.")],
        request={"multipart/form-data": CaseImportSerializer},
        responses={200: CaseImportResultSerializer, 201: CaseImportResultSerializer, 202: CaseImportStatusSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[parsers.MultiPartParser])
    def import_csv(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        options = serializer.validated_data
        key = "" if options["dry_run"] else _idempotency_key(request)
        earlier = filing.filed_with_key(brand=self.brand, idempotency_key=key)
        if earlier is not None:
            result = {"dry_run": False, "valid_count": 0, "invalid_count": 0, "warning_count": 0, "rows": []}
            result["case"] = selectors.case_detail(user=request.user, brand=self.brand).get(pk=earlier.pk)
            return Response(CaseImportResultSerializer(result, context=self.get_serializer_context()).data)
        started = filing.import_started_with_key(brand=self.brand, idempotency_key=key)
        if started is not None:
            return _import_accepted(started, request=request)
        checked = filing.validate_filing(
            brand=self.brand, user=request.user, attrs=options, require_file=True, check_rows=False
        )
        if len(checked.preview.rows) > importing.inline_max_rows():
            # Too many rows to check and file inside the request: the web form's background drafts.
            try:
                draft = filing.start_import(
                    filing=checked,
                    idempotency_key=key,
                    dry_run=options["dry_run"],
                    skip_invalid=options["skip_invalid"],
                    **self._filer(request),
                )
            except importing.StaleDraft as exc:
                raise Conflict(str(exc)) from exc
            return _import_accepted(draft, request=request)
        checked.preview = importing.preview_rows(brand=self.brand, rows=checked.preview.rows)
        preview = checked.preview
        result = {
            "dry_run": options["dry_run"],
            "valid_count": len(preview.valid),
            "invalid_count": preview.invalid_count,
            "warning_count": preview.warning_count,
            "rows": preview.rows,
            "case": None,
        }
        code = status.HTTP_200_OK
        if not options["dry_run"]:
            errors = filing.row_errors(checked)
            if errors and not options["skip_invalid"]:
                raise serializers.ValidationError(errors)
            if not preview.valid:
                raise serializers.ValidationError({"listing_file": ["No row of the file can be filed."]})
            case = filing.submit(filing=checked, idempotency_key=key, **self._filer(request))
            result["case"] = selectors.case_detail(user=request.user, brand=self.brand).get(pk=case.pk)
            code = status.HTTP_201_CREATED
        return Response(CaseImportResultSerializer(result, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary="Withdraw every item of the case that can still be withdrawn",
        responses={
            200: CaseWithdrawResultSerializer,
            409: error_response("No item of the case can be withdrawn any more."),
        },
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: int) -> Response:
        case = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = _run_form(WithdrawForm, serializer.validated_data)
        item_ids = list(
            self.scoped(CaseItem)
            .filter(case=case, status__in=services.ALLOWED_FROM["withdraw"])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not item_ids:
            raise Conflict(f"No item of case #{case.pk} can be withdrawn any more.")
        outcome = services.items_each(
            item_ids=item_ids,
            apply=lambda item_id: services.item_withdraw(
                item_id=item_id, actor=request.user, reason=form.cleaned_data["reason"]
            ),
        )
        return Response({"withdrawn": outcome.done, "refused": {str(k): v for k, v in outcome.refused.items()}})


class CaseItemAPIFilterSet(CaseItemFilterSet):
    """The reported-listings filters of the pages, plus the case an item belongs to."""

    case = IdFilter(field_name="case_id", label="Case id")

    class Meta(CaseItemFilterSet.Meta):
        pass


@extend_schema_view(
    list=extend_schema(summary="List the brand's reported listings (case items)"),
    retrieve=extend_schema(summary="A reported listing with its counter-notices and appeals"),
)
class CaseItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedGenericViewSet):
    model = CaseItem
    filterset_class = CaseItemAPIFilterSet
    parser_classes = FILING_PARSERS

    def brand_queryset(self) -> QuerySet[CaseItem]:
        if self.action == "list":
            # The page's selector reads only the columns the page shows; the API shows a few more.
            # The counter-notices the brand accepted: the actions column asks whether one was (appeal_refusal),
            # and without them each reinstated item would cost a query.
            accepted = CounterNotice.objects.for_brand(self.brand).filter(answer=CounterNoticeAnswer.ACCEPTED)
            return (
                selectors.item_list(user=self.request.user, brand=self.brand)
                .only(*CaseItemSerializer.LIST_COLUMNS)
                .prefetch_related(Prefetch("counter_notices", queryset=accepted))
            )
        return (
            self.scoped()
            .select_related("listing__marketplace", "listing__seller")
            .prefetch_related(
                Prefetch("counter_notices", queryset=CounterNotice.objects.for_brand(self.brand).order_by("attempt")),
                Prefetch("appeals", queryset=Appeal.objects.for_brand(self.brand).order_by("filed_at")),
            )
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "list": CaseItemSerializer,
            "resubmit": CaseResubmitSerializer,
            "answer": CaseAnswerSerializer,
            "appeal": CaseAppealSerializer,
            "withdraw": CaseWithdrawSerializer,
        }.get(self.action, CaseItemDetailSerializer)

    def _done(self, item_id: int) -> Response:
        item = self.get_queryset().get(pk=item_id)
        return Response(CaseItemDetailSerializer(item, context=self.get_serializer_context()).data)

    def _act(self, request: Request, form_class: type, perform: Callable[[CaseItem, Any], object]) -> Response:
        """Validate the action's input with the page's form, call the service, answer with the item."""
        item = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        files = {"evidence": data.pop("evidence")} if "evidence" in data else None
        perform(item, _run_form(form_class, data, files))
        return self._done(item.pk)

    @extend_schema(
        summary="Amend an item in clarification and send it back for review",
        responses={200: CaseItemDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: int) -> Response:
        return self._act(
            request,
            ResubmitForm,
            lambda item, form: services.item_resubmit(
                item_id=item.pk, actor=request.user, note=form.cleaned_data["note"]
            ),
        )

    @extend_schema(
        summary="Answer the seller's counter-notice: accept, or reject with evidence",
        responses={200: CaseItemDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: int) -> Response:
        return self._act(
            request,
            CounterNoticeAnswerForm,
            lambda item, form: services.item_brand_answer(
                item_id=item.pk,
                actor=request.user,
                accept=form.cleaned_data["answer"] == form.ACCEPT,
                note=form.cleaned_data["note"],
                evidence=form.evidence_inputs(),
            ),
        )

    @extend_schema(summary="Appeal the decision on an item", responses={200: CaseItemDetailSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def appeal(self, request: Request, pk: int) -> Response:
        return self._act(
            request,
            AppealForm,
            lambda item, form: services.item_appeal(
                item_id=item.pk, appellant=AppellantSide.BRAND, grounds=form.cleaned_data["grounds"], actor=request.user
            ),
        )

    @extend_schema(
        summary="Withdraw the report of this listing", responses={200: CaseItemDetailSerializer, 409: REFUSED}
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: int) -> Response:
        return self._act(
            request,
            WithdrawForm,
            lambda item, form: services.item_withdraw(
                item_id=item.pk, actor=request.user, reason=form.cleaned_data["reason"]
            ),
        )


def _import_accepted(draft: CaseDraft, *, request: Request) -> Response:
    """202 with the background import's status, whose URL the Location header repeats."""
    body = import_status(draft, request=request)
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


def import_status(draft: CaseDraft, *, request: Request) -> dict[str, Any]:
    """The status of a background CSV import (`CaseImportStatusSerializer`)."""
    checked = draft.checked_rows is not None
    preview = importing.draft_preview(draft)
    return CaseImportStatusSerializer(
        {
            "id": draft.pk,
            "url": request.build_absolute_uri(reverse("cases-api:case-import-detail", kwargs={"pk": draft.pk})),
            "state": draft.state,
            "dry_run": "then" not in draft.payload,
            "rows_total": draft.rows_total,
            "rows_done": draft.rows_done,
            "valid_count": len(preview.valid) if checked else None,
            "invalid_count": preview.invalid_count if checked else None,
            "warning_count": preview.warning_count if checked else None,
            "rows": preview.rows if checked else [],
            "case": draft.case_id,
            "errors": draft.errors,
        }
    ).data


@extend_schema_view(retrieve=extend_schema(summary="The status of a CSV import checked in the background"))
class CaseImportViewSet(mixins.RetrieveModelMixin, BrandScopedGenericViewSet):
    """Background CSV imports (202 from `cases/import/`), read by the brand's members like its cases (the
    web form's drafts stay their author's: they are pages to go on editing, these only a status)."""

    model = CaseDraft
    lookup_value_converter = "uuid"
    serializer_class = CaseImportStatusSerializer

    def brand_queryset(self) -> QuerySet[CaseDraft]:
        return CaseDraft.objects.filter(brand=self.brand)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(import_status(self.get_object(), request=request))
