"""Seller API for shops, listings and SKUs (and the seller permission the other apps reuse)."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import StrictIntegerField, error_responses, fen_display
from shops import selectors
from shops.models import CatalogProduct, Listing, Seller, Shop, Sku
from shops.services import MAX_PRICE_FEN, sku_price_change


class IsSeller(BasePermission):
    """A seller is a user with a seller account; anyone else gets 403 ``not_a_seller``."""

    message = _("只有商家账号可以使用此接口。")
    code = "not_a_seller"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and hasattr(request.user, "seller"))


class SellerViewSetMixin:
    """Seller endpoints: authenticated sellers only, querysets scoped to ``self.seller``."""

    permission_classes = [IsAuthenticated, IsSeller]
    request: Request

    @property
    def seller(self) -> Seller:
        return self.request.user.seller


# --- serializers ----------------------------------------------------------------------------


class ShopSerializer(serializers.ModelSerializer):
    platform_display = serializers.CharField(source="get_platform_display", read_only=True)

    class Meta:
        model = Shop
        fields = ["id", "name", "platform", "platform_display", "created_at"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogProduct
        fields = ["id", "brand", "model", "name", "barcode"]
        read_only_fields = fields


class SkuSerializer(serializers.ModelSerializer):
    specs = serializers.DictField(child=serializers.CharField(), read_only=True)
    title = serializers.CharField(source="listing.title", read_only=True)
    shop = serializers.IntegerField(source="listing.shop_id", read_only=True)
    price_display = fen_display("price_fen")

    class Meta:
        model = Sku
        fields = [
            "id",
            "listing",
            "shop",
            "title",
            "specs",
            "specs_key",
            "price_fen",
            "price_display",
            "updated_at",
        ]
        read_only_fields = fields


class SkuPriceSerializer(serializers.Serializer):
    price_fen = StrictIntegerField(
        min_value=1, max_value=MAX_PRICE_FEN, help_text="The new list price in fen."
    )


class ListingSkuSerializer(serializers.ModelSerializer):
    specs = serializers.DictField(child=serializers.CharField(), read_only=True)
    price_display = fen_display("price_fen")

    class Meta:
        model = Sku
        fields = ["id", "specs", "specs_key", "price_fen", "price_display", "updated_at"]
        read_only_fields = fields


class ListingSerializer(serializers.ModelSerializer):
    product = ProductSerializer(read_only=True)
    skus = ListingSkuSerializer(many=True, read_only=True)

    class Meta:
        model = Listing
        fields = ["id", "shop", "title", "product", "skus", "created_at"]
        read_only_fields = fields


# --- views ----------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Own shops"), retrieve=extend_schema(summary="One own shop"))
class SellerShopViewSet(SellerViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ShopSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Shop]:
        return selectors.shops_for_seller(self.seller)


@extend_schema_view(
    list=extend_schema(summary="Own listings with their SKUs"),
    retrieve=extend_schema(summary="One own listing"),
)
class SellerListingViewSet(SellerViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ListingSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Listing]:
        return selectors.listings_for_seller(self.seller)


@extend_schema_view(list=extend_schema(summary="Own SKUs"), retrieve=extend_schema(summary="One own SKU"))
class SellerSkuViewSet(
    SellerViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = SkuSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Sku]:
        return selectors.skus_for_seller(self.seller)

    @extend_schema(
        summary="Change a SKU's list price",
        description="A lower price here is what a buyer's evidence order will show.",
        request=SkuPriceSerializer,
        responses={200: SkuSerializer, **error_responses(400)},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sku = self.get_object()
        form = SkuPriceSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        sku = sku_price_change(sku=sku, price_fen=form.validated_data["price_fen"], actor=request.user)
        return Response(SkuSerializer(self.get_queryset().get(pk=sku.pk)).data)
