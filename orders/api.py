"""Buyer API for addresses and orders, seller API for campaigns and shipping.

An order line shows its policy and latest claim, which live in apps above this one. They are read
through the reverse relations (``line.policy``, ``policy.claims``) and plain serializers, so this
module imports neither ``insurance`` nor ``claims``.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import (
    IDEMPOTENCY_PARAMETER,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
    error_responses,
    fen_display,
    idempotent,
)
from orders import selectors
from orders.models import Address, Campaign, CampaignItem, Order, OrderLine
from orders.services import (
    MAX_QUANTITY,
    address_create,
    order_cancel,
    order_confirm_receipt,
    order_pay,
    order_place,
    order_ship,
)
from shops.api import SellerViewSetMixin
from shops.models import Coupon, Sku

# --- addresses ------------------------------------------------------------------------------


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", "recipient", "phone", "region", "detail", "created_at"]
        read_only_fields = ["id", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="Own shipping addresses"),
    retrieve=extend_schema(summary="One own shipping address"),
    create=extend_schema(summary="Add a shipping address", responses={201: AddressSerializer}),
)
class AddressViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AddressSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Address]:
        return Address.objects.filter(user=self.request.user).order_by("pk")

    def create(self, request: Request) -> Response:
        form = AddressSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        address = address_create(user=request.user, **form.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


# --- orders ---------------------------------------------------------------------------------


class LatestClaimSerializer(serializers.Serializer):
    number = serializers.CharField()
    state = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    compensation_fen = serializers.IntegerField(allow_null=True)
    compensation_display = fen_display("compensation_fen", null=True)


class LinePolicySerializer(serializers.Serializer):
    number = serializers.CharField()
    state = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    window_starts_at = serializers.DateTimeField()
    window_ends_at = serializers.DateTimeField()
    latest_claim = serializers.SerializerMethodField()

    @extend_schema_field(LatestClaimSerializer(allow_null=True))
    def get_latest_claim(self, policy: Any) -> dict | None:
        claims = list(policy.claims.all())  # prefetched newest first (Claim.Meta.ordering)
        return LatestClaimSerializer(claims[0]).data if claims else None


class OrderLineSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="sku.listing.title")
    specs = serializers.DictField(source="sku.specs", child=serializers.CharField())
    unit_price_display = fen_display("unit_price_fen")
    item_total_display = fen_display("item_total_fen")
    shop_discount_display = fen_display("shop_discount_fen")
    platform_discount_display = fen_display("platform_discount_fen")
    paid_display = fen_display("paid_fen")
    refunded_display = fen_display("refunded_fen")
    policy = LinePolicySerializer(
        allow_null=True, read_only=True, help_text="Null when the line is not insured."
    )

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "title",
            "specs",
            "quantity",
            "campaign_item",
            "unit_price_fen",
            "unit_price_display",
            "item_total_fen",
            "item_total_display",
            "shop_discount_fen",
            "shop_discount_display",
            "platform_discount_fen",
            "platform_discount_display",
            "paid_fen",
            "paid_display",
            "refunded_fen",
            "refunded_display",
            "policy",
        ]
        read_only_fields = fields


class OrderShopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    platform = serializers.CharField()
    platform_display = serializers.CharField(source="get_platform_display")


class OrderSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    shop = OrderShopSerializer(read_only=True)
    campaign_name = serializers.CharField(
        source="campaign.name", allow_null=True, default=None, read_only=True
    )
    item_total_display = fen_display("item_total_fen")
    shop_discount_display = fen_display("shop_discount_fen")
    platform_discount_display = fen_display("platform_discount_fen")
    paid_display = fen_display("paid_fen")
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "state",
            "state_display",
            "shop",
            "campaign",
            "campaign_name",
            "ship_recipient",
            "ship_phone",
            "ship_address",
            "item_total_fen",
            "item_total_display",
            "shop_discount_fen",
            "shop_discount_display",
            "platform_discount_fen",
            "platform_discount_display",
            "paid_fen",
            "paid_display",
            "created_at",
            "pay_deadline",
            "paid_at",
            "shipped_at",
            "succeeded_at",
            "closed_at",
            "refunded_at",
            "lines",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class OwnAddressField(StrictPrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[Address]:
        return Address.objects.filter(user=self.context["request"].user)


class OrderItemSerializer(serializers.Serializer):
    sku = StrictPrimaryKeyRelatedField(queryset=Sku.objects.all())
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderPlaceSerializer(serializers.Serializer):
    address = OwnAddressField(help_text="One of the caller's own addresses.")
    items = OrderItemSerializer(many=True, min_length=1, max_length=50)
    shop_coupon = StrictPrimaryKeyRelatedField(
        queryset=Coupon.objects.filter(shop__isnull=False), required=False, allow_null=True
    )
    platform_coupon = StrictPrimaryKeyRelatedField(
        queryset=Coupon.objects.filter(shop__isnull=True), required=False, allow_null=True
    )


def _orders_with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.select_related("shop", "campaign").prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related("sku__listing", "policy").prefetch_related(
                "policy__claims"
            ),
        )
    )


class OrderLookupMixin:
    lookup_field = "number"
    lookup_value_regex = r"[0-9A-Za-z]+"


@extend_schema_view(
    list=extend_schema(summary="Own orders, newest first, with lines, policies and claim states"),
    retrieve=extend_schema(summary="One own order"),
)
class OrderViewSet(
    OrderLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The buyer's orders. Another buyer's order is 404."""

    serializer_class = OrderSerializer

    def get_queryset(self) -> QuerySet[Order]:
        return _orders_with_lines(selectors.orders_for_buyer(self.request.user))

    def _fresh(self, order: Order) -> dict:
        return OrderSerializer(self.get_queryset().get(pk=order.pk)).data

    @extend_schema(
        summary="Place an order (待付款)",
        description=(
            "A SKU in a live campaign is bought through Juhuasuan at its campaign price. An unpaid "
            "order of the same SKU, quantity and address placed after the campaign is an evidence order."
        ),
        request=OrderPlaceSerializer,
        responses={201: OrderSerializer, **error_responses(400, 409, 422)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        form = OrderPlaceSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        order = order_place(
            buyer=request.user,
            address=data["address"],
            items=[(item["sku"], item["quantity"]) for item in data["items"]],
            shop_coupon=data.get("shop_coupon"),
            platform_coupon=data.get("platform_coupon"),
        )
        return Response(self._fresh(order), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Pay with the Alipay balance (待发货)",
        request=None,
        responses={200: OrderSerializer, **error_responses(409, 422)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def pay(self, request: Request, number: str) -> Response:
        order = order_pay(order=self.get_object(), buyer=request.user)
        return Response(self._fresh(order))

    @extend_schema(
        summary="Confirm receipt: the trade succeeds (交易成功)",
        request=None,
        responses={200: OrderSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], url_path="confirm-receipt")
    def confirm_receipt(self, request: Request, number: str) -> Response:
        order = order_confirm_receipt(order=self.get_object(), buyer=request.user)
        return Response(self._fresh(order))

    @extend_schema(
        summary="Cancel an unpaid order (交易关闭)",
        request=None,
        responses={200: OrderSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        order = order_cancel(order=self.get_object(), buyer=request.user)
        return Response(self._fresh(order))


# --- seller: orders and campaigns -----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Orders of own shops"),
    retrieve=extend_schema(summary="One order of an own shop"),
)
class SellerOrderViewSet(
    SellerViewSetMixin,
    OrderLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrderSerializer

    def get_queryset(self) -> QuerySet[Order]:
        return _orders_with_lines(Order.objects.filter(shop__seller=self.seller))

    @extend_schema(
        summary="Ship a paid order (已发货)",
        request=None,
        responses={200: OrderSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, number: str) -> Response:
        order = order_ship(order=self.get_object(), actor=request.user)
        return Response(OrderSerializer(self.get_queryset().get(pk=order.pk)).data)


class CampaignSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    item_ids = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "starts_at",
            "ends_at",
            "state",
            "state_display",
            "excluded_from_claims",
            "exclusion_note",
            "item_ids",
        ]
        read_only_fields = fields

    def get_item_ids(self, campaign: Campaign) -> list[int]:
        return [item.pk for item in campaign.items.all()]


@extend_schema_view(
    list=extend_schema(summary="Own Juhuasuan campaigns"),
    retrieve=extend_schema(summary="One own campaign"),
)
class SellerCampaignViewSet(SellerViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Campaign]:
        return (
            Campaign.objects.filter(seller=self.seller)
            .prefetch_related(
                Prefetch("items", queryset=CampaignItem.objects.order_by("pk").only("pk", "campaign_id"))
            )
            .order_by("-starts_at", "-pk")
        )
