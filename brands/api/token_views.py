"""The token endpoint (POST /api/v1/auth/token/) and the portal pages where members list, create and
revoke their tokens.

Token pages are brand pages (`/b/<brand_slug>/api-tokens/`): every member may create tokens for their
own membership (a token has the member's role, never more) and revoke them; owners see and may revoke
every token of the brand. The secret is shown once, on the page that answers the creation, and is never
stored.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.access import BrandAccessMixin
from brands.api import services
from brands.api.forms import ApiTokenForm
from brands.api.models import ApiToken
from brands.api.throttles import TokenObtainThrottle
from brands.api.token_serializers import TokenCreatedSerializer, TokenObtainSerializer
from brands.choices import Capability
from brands.models import BrandMembership
from core.api.schema import ApiAutoSchema, error_response
from core.views import SERVICE_ERRORS, add_service_error, refusal_text

# --- API ------------------------------------------------------------------------------------------


class TokenObtainView(APIView):
    """Exchange a username, password and brand for a token bound to that membership."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenObtainThrottle]
    # JSON only: neither a form nor multipart can carry the null `expires_in_days` (never expires) that the
    # schema allows (a form sends it as text, which the integer field refuses).
    parser_classes = [JSONParser]
    schema = ApiAutoSchema()

    @extend_schema(
        summary="Get an API token for your membership in a brand",
        request=TokenObtainSerializer,
        responses={201: TokenCreatedSerializer, 400: error_response("Wrong credentials or brand, or invalid input.")},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Through the login backends, with the request: the login lockout counts these attempts too.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None and getattr(request._request, "axes_locked_out", False):
            # The login lockout refused (or just started refusing) this username from this address: say so
            # in the API's error shape. Clearing the flag keeps django-axes' middleware from swapping this
            # answer for its HTML lockout page; the lockout itself stays in force.
            request._request.axes_locked_out = False
            raise exceptions.Throttled(
                wait=settings.AXES_COOLOFF_TIME.total_seconds(),
                detail="Too many failed sign-ins for this username from this address.",
            )
        if user is None:
            raise exceptions.ValidationError({"non_field_errors": ["Wrong username or password."]})
        membership = BrandMembership.objects.active_of(user, brand_slug=data["brand"]).first()
        if membership is None:
            raise exceptions.ValidationError({"brand": [f"You are not an active member of a brand “{data['brand']}”."]})
        days = data["expires_in_days"]
        token, secret = services.token_create(
            membership=membership,
            actor=user,
            name=data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        token.token = secret
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


# --- portal pages ---------------------------------------------------------------------------------


class ApiTokenMixin(BrandAccessMixin):
    model = ApiToken

    def visible_tokens(self) -> QuerySet[ApiToken]:
        """Owners see every token of the brand; other members their own."""
        tokens = ApiToken.objects.for_user(self.request.user, brand=self.brand).select_related(
            "membership__user", "created_by", "revoked_by"
        )
        if not self.membership.can(Capability.MANAGE):
            tokens = tokens.filter(membership=self.membership)
        return tokens


@method_decorator(never_cache, name="dispatch")
class ApiTokenListView(ApiTokenMixin, ListView):
    template_name = "api/token_list.html"
    context_object_name = "tokens"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[ApiToken]:
        return self.visible_tokens().order_by("revoked_at", "-created_at", "-pk")


@method_decorator(never_cache, name="dispatch")
class ApiTokenCreateView(ApiTokenMixin, FormView):
    """Creates a token for the member's own membership; the answer is the page that shows the secret once."""

    template_name = "api/token_form.html"
    form_class = ApiTokenForm

    def form_valid(self, form: ApiTokenForm) -> HttpResponse:
        days = form.cleaned_data["expires_in_days"]
        try:
            token, secret = services.token_create(
                membership=self.membership,
                actor=self.request.user,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except SERVICE_ERRORS as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        context = self.get_context_data(token=token, secret=secret)
        return self.response_class(
            request=self.request, template=["api/token_created.html"], context=context, using=self.template_engine
        )


class ApiTokenRevokeView(ApiTokenMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = get_object_or_404(
            ApiToken.objects.for_user(request.user, brand=self.brand).select_related("membership"), pk=kwargs["pk"]
        )
        if token.membership_id != self.membership.pk and not self.membership.can(Capability.MANAGE):
            raise PermissionDenied("Only owners revoke other members' tokens.")
        try:
            services.token_revoke(token=token, actor=request.user)
        except SERVICE_ERRORS as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked: it no longer works.")
        return redirect("api-tokens:token_list", brand_slug=self.brand.slug)
