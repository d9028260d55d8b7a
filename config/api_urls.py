"""The REST API: /api/v1/…, the OpenAPI schema at /api/schema/, docs at /api/docs/.

Roles: a buyer is any authenticated user; a seller is a user with a seller account (/v1/seller/…,
403 ``not_a_seller`` otherwise); staff read their insurers' claims through /v1/claims/. The
storefront (/v1/storefront/…) and the token endpoint need no login. Another user's object is 404.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from alipay.api import BalanceView, EntryViewSet
from claims.api import ClaimViewSet, SellerClaimViewSet, SellerPayoutViewSet
from claims.api_drops import PriceDropViewSet
from core.api import AuthTokenView, MeView, api_not_found
from insurance.api import (
    InsurerViewSet,
    SellerCampaignItemViewSet,
    SellerPolicyViewSet,
    StorefrontCampaignItemViewSet,
)
from notices.api import NoticeViewSet
from orders.api import AddressViewSet, OrderViewSet, SellerCampaignViewSet, SellerOrderViewSet
from shops.api import SellerListingViewSet, SellerShopViewSet, SellerSkuViewSet

router = SimpleRouter()
# buyer
router.register("addresses", AddressViewSet, basename="address")
router.register("orders", OrderViewSet, basename="order")
router.register("claims", ClaimViewSet, basename="claim")
router.register("price-drops", PriceDropViewSet, basename="price-drop")
router.register("notices", NoticeViewSet, basename="notice")
router.register("alipay/entries", EntryViewSet, basename="alipay-entry")
router.register("insurers", InsurerViewSet, basename="insurer")
# public
router.register("storefront/campaign-items", StorefrontCampaignItemViewSet, basename="storefront-item")
# seller
router.register("seller/shops", SellerShopViewSet, basename="seller-shop")
router.register("seller/listings", SellerListingViewSet, basename="seller-listing")
router.register("seller/skus", SellerSkuViewSet, basename="seller-sku")
router.register("seller/campaigns", SellerCampaignViewSet, basename="seller-campaign")
router.register("seller/campaign-items", SellerCampaignItemViewSet, basename="seller-campaign-item")
router.register("seller/orders", SellerOrderViewSet, basename="seller-order")
router.register("seller/policies", SellerPolicyViewSet, basename="seller-policy")
router.register("seller/claims", SellerClaimViewSet, basename="seller-claim")
router.register("seller/payouts", SellerPayoutViewSet, basename="seller-payout")

v1 = [
    path("auth/token/", AuthTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    path("alipay/balance/", BalanceView.as_view(), name="alipay-balance"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, in the API's error shape.
    re_path(r"^", api_not_found),
]
