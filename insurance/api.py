"""Insurers, the storefront's coverage badge, and the seller's coverage switch and policies."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import StrictIntegerField, StrictPrimaryKeyRelatedField, error_responses, fen_display
from insurance import selectors
from insurance.errors import refusal
from insurance.models import Coverage, InsuranceProduct, Insurer, Policy
from insurance.services import coverage_turn_off, coverage_turn_on
from orders.models import CampaignItem
from shops.api import SellerViewSetMixin


class InsurerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Insurer
        fields = ["id", "code", "name"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Insurers (underwriters)"), retrieve=extend_schema(summary="One insurer")
)
class InsurerViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = InsurerSerializer
    queryset = Insurer.objects.order_by("pk")
    lookup_value_regex = r"[0-9]+"


# --- campaign items -------------------------------------------------------------------------


def _is_covered(item: CampaignItem) -> bool:
    return Coverage.on_for(item) is not None


class ProductRateSerializer(serializers.Serializer):
    platform = serializers.CharField()
    category = serializers.CharField(help_text="Empty: every category of the platform.")
    rate_bp = serializers.IntegerField(help_text="Premium as a rate of the insured amount, in 1/10000.")


class InsuranceProductSerializer(serializers.ModelSerializer):
    """An insurer's published terms (保险产品). Policies copy them when they are issued."""

    insurer = InsurerSerializer(read_only=True)
    rates = ProductRateSerializer(many=True, read_only=True)
    per_claim_cap_display = fen_display("per_claim_cap_fen", null=True)
    review_threshold_display = fen_display("review_threshold_fen", null=True)

    class Meta:
        model = InsuranceProduct
        fields = [
            "id",
            "name",
            "insurer",
            "is_default",
            "rates",
            "window_days",
            "per_claim_cap_fen",
            "per_claim_cap_display",
            "review_threshold_fen",
            "review_threshold_display",
        ]
        read_only_fields = fields


class CoverageSerializer(serializers.ModelSerializer):
    """The coverage of an item and the terms a policy issued now would get from its product."""

    product = InsuranceProductSerializer(read_only=True)
    insurer = InsurerSerializer(source="product.insurer", read_only=True)
    premium_rate_bp = serializers.IntegerField(read_only=True, allow_null=True)
    window_days = serializers.IntegerField(read_only=True)
    per_claim_cap_fen = serializers.IntegerField(
        source="product.per_claim_cap_fen", read_only=True, allow_null=True
    )
    review_threshold_fen = serializers.IntegerField(
        source="product.review_threshold_fen", read_only=True, allow_null=True
    )

    class Meta:
        model = Coverage
        fields = [
            "enabled",
            "product",
            "insurer",
            "premium_rate_bp",
            "window_days",
            "per_claim_cap_fen",
            "review_threshold_fen",
            "turned_on_at",
            "turned_off_at",
        ]
        read_only_fields = fields


class ItemCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    excluded_from_claims = serializers.BooleanField()
    exclusion_note = serializers.CharField()


class ItemSkuSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(source="listing.title")
    shop = serializers.CharField(source="listing.shop.name")
    platform = serializers.CharField(source="listing.shop.platform")
    specs = serializers.DictField(child=serializers.CharField())
    price_fen = serializers.IntegerField()
    price_display = fen_display("price_fen")


class SellerCampaignItemSerializer(serializers.ModelSerializer):
    campaign = ItemCampaignSerializer(read_only=True)
    sku = ItemSkuSerializer(read_only=True)
    campaign_price_display = fen_display("campaign_price_fen")
    covered = serializers.SerializerMethodField(help_text="Coverage is on: new buyers get a policy.")
    coverage = CoverageSerializer(allow_null=True, read_only=True, help_text="Null if never turned on.")

    class Meta:
        model = CampaignItem
        fields = [
            "id",
            "campaign",
            "sku",
            "campaign_price_fen",
            "campaign_price_display",
            "covered",
            "coverage",
        ]
        read_only_fields = fields

    def get_covered(self, item: CampaignItem) -> bool:
        return _is_covered(item)


# What a seller may not send: the insurer's product sets every term.
INSURER_TERMS = ("insurer", "premium_rate_bp", "window_days", "per_claim_cap_fen", "review_threshold_fen")


class CoverageOnSerializer(serializers.Serializer):
    product = StrictPrimaryKeyRelatedField(
        queryset=InsuranceProduct.objects.select_related("insurer"),
        required=False,
        allow_null=True,
        default=None,
        help_text="One of the item's offered products (GET …/products/); the default offer when omitted.",
    )

    def validate(self, data: dict) -> dict:
        sent = (
            sorted(set(self.initial_data) & set(INSURER_TERMS)) if isinstance(self.initial_data, dict) else []
        )
        if sent:
            raise refusal("terms_set_by_insurer", fields=", ".join(sent))
        return data


class CoverageOffSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        summary="Items of own campaigns with their coverage",
        parameters=[OpenApiParameter("campaign", int, description="Only the items of this campaign.")],
    ),
    retrieve=extend_schema(summary="One item of an own campaign"),
)
class SellerCampaignItemViewSet(SellerViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SellerCampaignItemSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[CampaignItem]:
        queryset = selectors.campaign_items_for_seller(self.seller)
        if self.action == "list" and "campaign" in self.request.query_params:
            campaign = StrictIntegerField(min_value=1).run_validation(self.request.query_params["campaign"])
            queryset = queryset.filter(campaign_id=campaign)
        return queryset

    def _fresh(self, item: CampaignItem) -> dict:
        return SellerCampaignItemSerializer(self.get_queryset().get(pk=item.pk)).data

    @extend_schema(
        summary="The insurance products offered for this item, the preselected default first",
        responses={200: InsuranceProductSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def products(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        offered = selectors.products_for_item(seller=self.seller, campaign_item=item)
        return Response(InsuranceProductSerializer(offered, many=True).data)

    @extend_schema(
        summary="Gift price protection on this item (赠保价险)",
        description="Under one of the item's offered products (the default offer when none is named); "
        "the product's insurer sets the rate, window, cap and review threshold, so sending any of them "
        "is a 400. Needs enough deposit (保证金); the campaign must not have ended. Again with another "
        "product moves the item to it for policies issued from then on.",
        request=CoverageOnSerializer,
        responses={200: SellerCampaignItemSerializer, **error_responses(400, 409)},
    )
    @action(detail=True, methods=["post"], url_path="coverage-on")
    def coverage_on(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        form = CoverageOnSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        coverage_turn_on(campaign_item=item, seller=self.seller, product=form.validated_data["product"])
        return Response(self._fresh(item))

    @extend_schema(
        summary="Stop gifting price protection on this item",
        description="Stops new policies; policies already issued stay. Turning off what is off changes nothing.",
        request=CoverageOffSerializer,
        responses={200: SellerCampaignItemSerializer, **error_responses(400)},
    )
    @action(detail=True, methods=["post"], url_path="coverage-off")
    def coverage_off(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        form = CoverageOffSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        coverage = getattr(item, "coverage", None)
        if coverage is not None:
            coverage_turn_off(coverage=coverage, seller=self.seller, reason=form.validated_data["reason"])
        return Response(self._fresh(item))


class StorefrontCampaignItemSerializer(serializers.ModelSerializer):
    campaign = ItemCampaignSerializer(read_only=True)
    sku = ItemSkuSerializer(read_only=True)
    campaign_price_display = fen_display("campaign_price_fen")
    covered = serializers.SerializerMethodField(help_text="The item carries the 赠保价险 badge.")
    window_days = serializers.SerializerMethodField()
    badge = serializers.SerializerMethodField(help_text="The badge text, null when not covered.")

    class Meta:
        model = CampaignItem
        fields = [
            "id",
            "campaign",
            "sku",
            "campaign_price_fen",
            "campaign_price_display",
            "covered",
            "window_days",
            "badge",
        ]
        read_only_fields = fields

    def get_covered(self, item: CampaignItem) -> bool:
        return _is_covered(item)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_window_days(self, item: CampaignItem) -> int | None:
        return item.coverage.window_days if _is_covered(item) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_badge(self, item: CampaignItem) -> str | None:
        if not _is_covered(item):
            return None
        if item.campaign.excluded_from_claims:
            note = item.campaign.exclusion_note or _("部分场景不支持理赔")
            return _("赠保价险(%(note)s)") % {"note": note}
        return _("赠保价险:卖家赠送,若%(days)s天内降价,保险赔付差额") % {"days": item.coverage.window_days}


@extend_schema_view(
    list=extend_schema(summary="Campaign items on sale or coming, with the coverage badge", auth=[]),
    retrieve=extend_schema(summary="One campaign item with its coverage badge", auth=[]),
)
class StorefrontCampaignItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Public: the storefront shows, before buying, whether an item is covered. No login needed."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = StorefrontCampaignItemSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[CampaignItem]:
        return selectors.storefront_campaign_items()


# --- policies -------------------------------------------------------------------------------


class PolicySerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    buyer = serializers.CharField(source="buyer.get_username", read_only=True)
    order = serializers.CharField(source="order_line.order.number", read_only=True)
    title = serializers.CharField(source="order_line.sku.listing.title", read_only=True)
    campaign = serializers.IntegerField(source="coverage.campaign_item.campaign_id", read_only=True)
    campaign_item = serializers.IntegerField(source="coverage.campaign_item_id", read_only=True)
    insured_display = fen_display("insured_fen")
    premium_display = fen_display("premium_fen")
    product = serializers.CharField(
        source="product.name", read_only=True, help_text="The product whose terms the policy copied at issue."
    )

    class Meta:
        model = Policy
        fields = [
            "number",
            "state",
            "state_display",
            "buyer",
            "order",
            "order_line",
            "title",
            "campaign",
            "campaign_item",
            "insured_fen",
            "insured_display",
            "premium_fen",
            "premium_display",
            "product",
            "premium_rate_bp",
            "window_days",
            "per_claim_cap_fen",
            "window_starts_at",
            "window_ends_at",
            "issued_at",
            "claimable_at",
            "voided_at",
            "expired_at",
            "claimed_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Policies issued on own campaign items"),
    retrieve=extend_schema(summary="One policy of an own campaign item"),
)
class SellerPolicyViewSet(SellerViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PolicySerializer
    lookup_field = "number"
    lookup_value_regex = r"[0-9A-Za-z]+"

    def get_queryset(self) -> QuerySet[Policy]:
        return selectors.policies_for_seller(self.seller)
