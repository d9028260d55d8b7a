"""Detected price drops over the API (主动保价): the caller's own drops, and 一键理赔 on one.

The proof is shown anonymised — platform, shop, time and price of the price record — never
another buyer or an order number.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from claims import selectors
from claims.api import ClaimDetailSerializer
from claims.models import PriceDrop
from claims.price_claims import claim_file_from_drop
from core.api import IDEMPOTENCY_PARAMETER, ClaimFilingThrottle, error_responses, fen_display, idempotent


class PriceDropSerializer(serializers.ModelSerializer):
    policy = serializers.CharField(source="policy.number", read_only=True)
    order = serializers.CharField(source="policy.order_line.order.number", read_only=True)
    line = serializers.IntegerField(source="policy.order_line_id", read_only=True)
    title = serializers.CharField(source="policy.order_line.sku.listing.title", read_only=True)
    amount_display = fen_display("amount_fen")
    unit_price_display = fen_display("unit_price_fen")
    platform = serializers.CharField(source="record.platform", read_only=True)
    platform_display = serializers.CharField(source="record.get_platform_display", read_only=True)
    shop = serializers.CharField(source="record.shop.name", read_only=True)
    observed_at = serializers.DateTimeField(source="record.observed_at", read_only=True)
    window_ends_at = serializers.DateTimeField(source="policy.window_ends_at", read_only=True)
    claim = serializers.CharField(
        source="claim_number",
        read_only=True,
        allow_null=True,
        help_text="The claim in flight or paid on the policy, or null while unclaimed.",
    )

    class Meta:
        model = PriceDrop
        fields = [
            "id",
            "policy",
            "order",
            "line",
            "title",
            "amount_fen",
            "amount_display",
            "unit_price_fen",
            "unit_price_display",
            "difference_fen",
            "platform",
            "platform_display",
            "shop",
            "observed_at",
            "window_ends_at",
            "first_seen_at",
            "improved_at",
            "claim",
        ]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary="Own detected price drops (主动保价), newest first"))
class PriceDropViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = PriceDropSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[PriceDrop]:
        return selectors.price_drops_for_buyer(self.request.user)

    def get_throttles(self) -> list:
        return [ClaimFilingThrottle()] if self.action == "claim" else []

    @extend_schema(
        summary="一键理赔: claim a detected drop",
        description=(
            "Files a claim whose evidence is the drop's price record (the lowest price seen in the "
            "window so far); an item is claimed once, so claiming now forgoes a later, lower price. "
            "Stored as `submitted` and adjudicated in the background. Calling again while that "
            "claim is in flight returns it; `already_claimed` (409) once it is paid or another "
            "claim is under way. Another buyer's drop is 404."
        ),
        request=None,
        responses={201: ClaimDetailSerializer, **error_responses(404, 409, 422)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def claim(self, request: Request, pk: str | None = None) -> Response:
        claim = claim_file_from_drop(drop=self.get_object(), buyer=request.user)
        shown = selectors.claims_visible_to(request.user).get(pk=claim.pk)
        return Response(ClaimDetailSerializer(shown).data, status=status.HTTP_201_CREATED)
