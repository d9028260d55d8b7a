"""Plumbing every app's ``api.py`` shares: the error shape, the schema of errors, idempotent POSTs,
throttles, money fields, strict integer fields, and the token and "who am I" endpoints.

Every error the API returns is ``{"code": …, "detail": …}`` (validation errors add ``errors``, the
field-by-field details). The code is what clients and tests branch on; the detail is a sentence
for people, in the request's language.
"""

import copy
import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import InvalidInput, ServiceError, refusal
from core.models import AuditEvent, IdempotencyKey
from core.money import format_fen
from core.numbers import MAX_ID, NOT_AN_INTEGER, parse_int
from core.parsers import DepthLimitedJSONParser
from core.selectors import auto_claim_enabled
from core.services import preferences_update

# --- errors ---------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="A stable code to branch on, e.g. `already_claimed`.")
    detail = serializers.CharField(help_text="A sentence for people, in the request's language.")
    errors = serializers.DictField(
        required=False, help_text="Validation errors only (`code` = `invalid`): field → messages."
    )


_ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid` with `errors`, or a service's own code such as `invalid_evidence_number`).",
    401: "Not authenticated (`not_authenticated`, `authentication_failed`).",
    403: "Not allowed (`permission_denied`, `not_a_seller`, or a missing CSRF token with session auth).",
    404: "Not found, or not yours (`not_found`).",
    409: "The service refused in the object's current state (e.g. `already_claimed`, `order_not_payable`).",
    422: "`idempotency_key_reused`: the Idempotency-Key was already used for another request.",
    429: "Too many requests (`throttled`, or `locked_out` after repeated wrong passwords); see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``responses={200: X, **error_responses(409, 422)}`` documents the error shape per status."""
    return {
        status: OpenApiResponse(response=ErrorSerializer, description=_ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


def _error_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _first_message(errors: Any, path: tuple[str, ...] = ()) -> str:
    """``{"items": [{}, {"quantity": ["too big"]}]}`` → ``"items.1.quantity: too big"``."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if value:
                return _first_message(value, (*path, str(key)))
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                if value:
                    return _first_message(value, (*path, str(index)))
            elif value:
                where = ".".join(p for p in path if p != api_settings.NON_FIELD_ERRORS_KEY)
                return f"{where}: {value}" if where else force_str(value)
    return force_str(errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: every error as ``{"code", "detail"}``."""
    if isinstance(exc, ServiceError):
        status = 404 if exc.code == "not_found" else exc.status
        return Response(exc.as_dict(), status=status)
    if isinstance(exc, Http404):
        # Django's message names the model ("No Order matches…"): say only "not found".
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling takes over
    if isinstance(exc, exceptions.ValidationError):
        errors = (
            exc.detail if isinstance(exc.detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        )
        response.data = {"code": "invalid", "detail": _first_message(errors), "errors": errors}
    else:
        response.data = {"code": _error_code(exc), "detail": force_str(exc.detail)}
    return response


@csrf_exempt  # like every DRF view: a stray POST gets the JSON 404, not the CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        {"code": "not_found", "detail": force_str(exceptions.NotFound.default_detail)}, status=404
    )


class ApiSchema(AutoSchema):
    """Documents the error responses an operation can give, so no status is a surprise.

    The generic ones follow from the view (authentication, a path parameter or a page, a request
    body, a throttle); the ones that depend on the service (409, 422) are declared per operation
    with :func:`error_responses`.
    """

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._generic_error_statuses():
            if str(status) not in responses:
                responses[str(status)] = {
                    **self._get_response_for_code(ErrorSerializer, str(status)),
                    "description": _ERROR_DESCRIPTIONS[status],
                }
        return dict(sorted(responses.items()))

    def _generic_error_statuses(self) -> set[int]:
        statuses = set()
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            statuses.add(400)
        if self.view.get_authenticators():
            statuses.add(401)
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if "{" in self.path or self._is_list_view():
            statuses.add(404)  # a path parameter, or a page past the end
        if self.view.get_throttles():
            statuses.add(429)
        return statuses


# --- serializers ----------------------------------------------------------------------------


class FieldsBuiltOnce:
    """For a ModelSerializer on a hot path: the fields are built from the model once per class,
    then copied for each instance (DRF builds them again for every instance, which costs more
    than the answer itself on the claim filing path). Only for serializers whose fields do not
    depend on the request or the instance."""

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        if "_fields_built_once" not in cls.__dict__:
            cls._fields_built_once = super().get_fields()
        return copy.deepcopy(cls._fields_built_once)


# --- money ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class FenDisplayField(serializers.Field):
    """An amount in fen shown as ``¥1,234.50``, next to the integer field it formats."""

    def __init__(self, source: str, **kwargs: Any) -> None:
        super().__init__(source=source, read_only=True, **kwargs)

    def to_representation(self, value: int) -> str:
        return format_fen(value)


def fen_display(source: str, *, null: bool = False) -> FenDisplayField:
    return FenDisplayField(source=source, allow_null=null)


# --- numbers --------------------------------------------------------------------------------


class StrictIntegerField(serializers.IntegerField):
    """An integer read by :func:`core.numbers.parse_int`: ``1.5``, ``1.0``, ``"１"`` and ``true``
    are refused, not truncated or converted (DRF's own field reads ``"１"`` and ``1.0`` as 1)."""

    default_error_messages = {"invalid": NOT_AN_INTEGER}

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_int(data)
        except InvalidInput:
            self.fail("invalid")


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An object by its id, the id read by :func:`core.numbers.parse_int` (DRF's field hands
    ``1.5`` to the database, which finds object 1)."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "not_an_integer": NOT_AN_INTEGER,
    }

    def to_internal_value(self, data: Any) -> Any:
        try:
            pk = parse_int(data)
        except InvalidInput:
            self.fail("not_an_integer")
        if not 1 <= pk <= MAX_ID:
            self.fail("does_not_exist", pk_value=pk)
        return super().to_internal_value(pk)


# --- throttles ------------------------------------------------------------------------------


class _SettingsRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        # Read at request time, not import time, so a settings override takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ClaimFilingThrottle(_SettingsRateMixin, UserRateThrottle):
    """Claim filing per buyer (``DEFAULT_THROTTLE_RATES["claims"]``), counted in the default cache."""

    scope = "claims"


class AuthTokenThrottle(_SettingsRateMixin, AnonRateThrottle):
    """Password guessing per client address (``DEFAULT_THROTTLE_RATES["auth"]``)."""

    scope = "auth"


# --- idempotency ----------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
_KEY = re.compile(r"^[!-~]{1,255}$")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=_KEY.pattern,
    description=(
        "Optional. A retry with the same key and the same body returns the first response "
        "(header `Idempotent-Replayed: true`) without acting again; the same key with another "
        "request is 422 `idempotency_key_reused`. Keys expire after 24 hours."
    ),
)


def _fingerprint(request: Request) -> str:
    data = request.data
    body = {k: data.getlist(k) for k in data} if hasattr(data, "getlist") else data
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "user": request.user.pk, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        cls=JSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(request: Request, key: str, fingerprint: str) -> Response:
    stored = IdempotencyKey.objects.filter(user=request.user, key=key, expires_at__gt=timezone.now()).first()
    if stored is None or stored.response_status is None:
        # Only possible if the first request's row expired in the instant between: ask again.
        raise refusal("idempotency_conflict")
    if stored.fingerprint != fingerprint:
        raise refusal("idempotency_key_reused")
    return Response(
        stored.response_body, status=stored.response_status, headers={"Idempotent-Replayed": "true"}
    )


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Make a POST handler honour the ``Idempotency-Key`` header.

    The key's row is inserted in the same transaction as the work and the stored response: a
    concurrent duplicate blocks on the unique (user, key) index until the first commits, then
    fails to insert and replays what the first stored. If the handler raises, everything rolls
    back, the key included, so a retry acts anew. Without the header nothing changes.
    """

    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise refusal("invalid_idempotency_key")
        fingerprint = _fingerprint(request)
        now = timezone.now()
        with transaction.atomic():
            IdempotencyKey.objects.filter(user=request.user, key=key, expires_at__lte=now).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint, expires_at=now + IDEMPOTENCY_TTL
                    )
            except IntegrityError:
                record = None
            if record is not None:
                response = handler(view, request, *args, **kwargs)
                record.response_status = response.status_code
                record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
                record.save(update_fields=["response_status", "response_body"])
                return response
        return _replay(request, key, fingerprint)

    return wrapper


# --- audit ----------------------------------------------------------------------------------


class AuditEventSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_username", allow_null=True, default=None)

    class Meta:
        model = AuditEvent
        fields = ["action", "from_state", "to_state", "actor", "reason", "created_at"]
        read_only_fields = fields


# --- auth and identity ----------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class AuthTokenView(APIView):
    """Exchange a username and password for an API token (the same token every time)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthTokenThrottle]
    parser_classes = [DepthLimitedJSONParser, FormParser]  # `curl -d username=… -d password=…` works too

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(request._request, **form.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            # django-axes flags a locked-out login for its middleware, which would answer with
            # its own text page; the API answers in its error shape instead.
            request._request.axes_locked_out = False
            cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
            raise exceptions.Throttled(
                wait=cool_off.total_seconds() if cool_off else None,
                detail=force_str(_("登录失败次数过多,账号已暂时锁定,请稍后再试。")),
                code="locked_out",
            )
        if user is None or not user.is_active:
            raise refusal("invalid_credentials")
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(source="get_username")
    is_seller = serializers.SerializerMethodField()
    is_staff = serializers.BooleanField()
    auto_claim = serializers.SerializerMethodField(
        help_text="自动理赔: the platform files the claim with the window's lowest price shortly "
        "before the window closes. On for new accounts."
    )

    def get_is_seller(self, user: Any) -> bool:
        return hasattr(user, "seller")

    def get_auto_claim(self, user: Any) -> bool:
        return auto_claim_enabled(user)


class MeUpdateSerializer(serializers.Serializer):
    auto_claim = serializers.BooleanField(required=True)


class MeView(APIView):
    """Who the caller is: a buyer always, a seller when they own a seller account, staff; and
    the caller's own settings."""

    @extend_schema(tags=["auth"], responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        tags=["auth"],
        summary="Change own settings (自动理赔)",
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(400)},
    )
    def patch(self, request: Request) -> Response:
        form = MeUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        preferences_update(user=request.user, auto_claim=form.validated_data["auto_claim"])
        return Response(MeSerializer(request.user).data)
