"""Claims over the API: buyers file and read theirs, staff read their insurer's, sellers read
the claims and payouts of their shops. Every decision is shown check by check."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from claims import rules, selectors
from claims.errors import refusal
from claims.models import Claim, Payout
from claims.services import claim_file
from core.api import (
    IDEMPOTENCY_PARAMETER,
    AuditEventSerializer,
    ClaimFilingThrottle,
    FieldsBuiltOnce,
    StrictIntegerField,
    error_responses,
    fen_display,
    idempotent,
)
from core.numbers import id_or_none
from core.selectors import audit_history
from orders.models import OrderLine
from orders.selectors import orders_for_buyer
from shops.api import SellerViewSetMixin


class CheckSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="SPEC's check code, e.g. `no_price_drop`.")
    result = serializers.ChoiceField(choices=[rules.PASSED, rules.FAILED, rules.SKIPPED])
    message = serializers.CharField()


class ReviewReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PriceEvidenceSerializer(serializers.Serializer):
    """A price record as the buyer sees it: never another buyer or an order number."""

    platform = serializers.CharField()
    platform_display = serializers.CharField(source="get_platform_display")
    shop = serializers.CharField(source="shop.name")
    observed_at = serializers.DateTimeField()
    unit_price_fen = serializers.IntegerField()
    unit_price_display = fen_display("unit_price_fen")


class ClaimSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    price_evidence = PriceEvidenceSerializer(
        source="price_record",
        read_only=True,
        allow_null=True,
        help_text="一键理赔 and 自动理赔: the price record that proves the drop (null for an evidence order).",
    )
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    order = serializers.CharField(source="policy.order_line.order.number", read_only=True)
    line = serializers.IntegerField(source="policy.order_line_id", read_only=True)
    title = serializers.CharField(source="policy.order_line.sku.listing.title", read_only=True)
    policy = serializers.CharField(source="policy.number", read_only=True)
    checks = serializers.SerializerMethodField(help_text="The decision, check by check.")
    review_reasons = serializers.SerializerMethodField(
        help_text=(
            "Why the claim went to staff review: shown to insurer staff and the seller, never to the "
            "buyer (who sees only the `in_review` state), so the fraud signals cannot be probed."
        )
    )
    price_difference_display = fen_display("price_difference_fen", null=True)
    compensation_display = fen_display("compensation_fen", null=True)

    class Meta:
        model = Claim
        fields = [
            "number",
            "state",
            "state_display",
            "order",
            "line",
            "title",
            "policy",
            "source",
            "evidence_order_number",
            "price_evidence",
            "checks",
            "review_reasons",
            "price_difference_fen",
            "price_difference_display",
            "compensation_fen",
            "compensation_display",
            "filed_at",
            "decided_at",
            "decision_reason",
            "paid_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CheckSerializer(many=True))
    def get_checks(self, claim: Claim) -> list[dict]:
        return [
            {"code": check["code"], "result": check["result"], "message": rules.check_message(check)}
            for check in claim.checks
        ]

    @extend_schema_field(ReviewReasonSerializer(many=True))
    def get_review_reasons(self, claim: Claim) -> list[dict]:
        viewer = getattr(self.context.get("request"), "user", None)
        if viewer is None or viewer.pk == claim.buyer_id:
            return []
        return [{"code": code, "message": rules.review_message(code)} for code in claim.review_reasons]


class ClaimDetailSerializer(ClaimSerializer):
    timeline = serializers.SerializerMethodField(help_text="The claim's audit history, oldest first.")

    class Meta(ClaimSerializer.Meta):
        fields = [*ClaimSerializer.Meta.fields, "timeline"]
        read_only_fields = fields

    @extend_schema_field(AuditEventSerializer(many=True))
    def get_timeline(self, claim: Claim) -> list[dict]:
        return AuditEventSerializer(audit_history(claim), many=True).data


class ClaimFileSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=32, help_text="The insured order's number (or its id).")
    line = StrictIntegerField(min_value=1, help_text="The insured order line's id.")
    evidence_order_number = serializers.CharField(
        max_length=64, trim_whitespace=False, help_text="The unpaid evidence order's number (举证订单号)."
    )


def _own_line(buyer: Any, order_ref: str, line_id: int) -> OrderLine:
    """The caller's order line, found by its order's number (or, failing that, its order's id);
    another buyer's order or line is 'not_found'. One query on the usual path: the line with its
    order and listing, which the 201 shows."""
    line = (
        OrderLine.objects.filter(pk=line_id, order__buyer=buyer)
        .select_related("order", "sku__listing")
        .first()
    )
    if line is not None and line.order.number != order_ref:
        # An order id is accepted only where no order of the buyer has that number.
        by_id = id_or_none(order_ref) == line.order_id
        if not by_id or orders_for_buyer(buyer).filter(number=order_ref).exists():
            line = None
    if line is None:
        raise refusal("not_found")
    return line


class ClaimLookupMixin:
    lookup_field = "number"
    lookup_value_regex = r"[0-9A-Za-z]+"


@extend_schema_view(
    list=extend_schema(summary="Own claims (staff: also the claims of their insurers), newest first"),
    retrieve=extend_schema(summary="One claim with its check-by-check decision and timeline"),
)
class ClaimViewSet(
    ClaimLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Buyers file and read their claims; insurer staff read their insurers' claims (read only)."""

    def get_queryset(self) -> QuerySet[Claim]:
        return selectors.claims_visible_to(self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ClaimSerializer if self.action == "list" else ClaimDetailSerializer

    def get_throttles(self) -> list:
        return [ClaimFilingThrottle()] if self.action == "create" else []

    @extend_schema(
        summary="File a claim (申请理赔)",
        description=(
            "Stored at once as `submitted` and adjudicated in the background; read it again for the "
            "decision. Filing the same evidence again while the claim is in flight returns that claim. "
            "Refusals: `not_insured`, `already_claimed` (409), `invalid_evidence_number`, "
            "`evidence_not_found` (400: no order has that number; no claim is kept), "
            "`not_found` (404: no such order or line among the caller's own)."
        ),
        request=ClaimFileSerializer,
        responses={201: ClaimDetailSerializer, **error_responses(400, 404, 409, 422)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        form = ClaimFileSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        line = _own_line(request.user, data["order"], data["line"])
        claim = claim_file(
            order_line=line, evidence_order_number=data["evidence_order_number"], buyer=request.user
        )
        # The claim, its policy and the line (with its order and listing) are in hand: the 201 is
        # serialised from them, reading only the timeline again.
        return Response(ClaimDetailSerializer(claim).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Claims on own shops' policies"),
    retrieve=extend_schema(summary="One claim on an own shop's policy"),
)
class SellerClaimViewSet(SellerViewSetMixin, ClaimLookupMixin, viewsets.ReadOnlyModelViewSet):
    def get_queryset(self) -> QuerySet[Claim]:
        return selectors.claims_for_seller(self.seller)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ClaimSerializer if self.action == "list" else ClaimDetailSerializer


class PayoutSerializer(serializers.ModelSerializer):
    claim = serializers.CharField(source="claim.number", read_only=True)
    order = serializers.CharField(source="claim.policy.order_line.order.number", read_only=True)
    buyer = serializers.CharField(source="claim.buyer.get_username", read_only=True)
    amount_display = fen_display("amount_fen")
    clawed_back_display = fen_display("clawed_back_fen")

    class Meta:
        model = Payout
        fields = [
            "id",
            "claim",
            "order",
            "buyer",
            "amount_fen",
            "amount_display",
            "clawed_back_fen",
            "clawed_back_display",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Payouts on own shops' policies"),
    retrieve=extend_schema(summary="One payout on an own shop's policy"),
)
class SellerPayoutViewSet(SellerViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PayoutSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Payout]:
        return selectors.payouts_for_seller(self.seller)
