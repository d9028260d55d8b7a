"""The web pages: the buyer portal (storefront, checkout, my orders, order details with 保险服务,
Alipay balance), the seller dashboard, and login.

URL names keep the namespace of the domain they are about (``orders:detail``,
``claims:panel``, ``insurance:dashboard``…), so templates and links read the same wherever the
view lives.
"""

from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from web import access, wallet
from web.buyer import insurance as buyer_insurance
from web.buyer import notices, storefront
from web.buyer import orders as buyer_orders
from web.seller import catalog, coverage, dashboard
from web.seller import claims as seller_claims
from web.seller import orders as seller_orders

shops_urls = [
    path("seller/catalog/", catalog.catalog, name="catalog"),
]
orders_urls = [
    path("shop/", storefront.storefront, name="storefront"),
    path("shop/campaigns/<int:pk>/", storefront.campaign_detail, name="campaign"),
    path("shop/items/<int:pk>/", storefront.listing_detail, name="listing"),
    path("orders/checkout/", storefront.checkout, name="checkout"),
    path("orders/checkout/quote/", storefront.quote, name="quote"),
    path("orders/addresses/new/", storefront.address_new, name="address_new"),
    path("orders/", buyer_orders.my_orders, name="mine"),
    path("orders/<str:number>/", buyer_orders.order_detail, name="detail"),
    path("orders/<str:number>/pay/", buyer_orders.order_pay, name="pay"),
    path("orders/<str:number>/cancel/", buyer_orders.order_cancel, name="cancel"),
    path("orders/<str:number>/confirm/", buyer_orders.order_confirm, name="confirm"),
    path("seller/orders/", seller_orders.seller_orders, name="seller_orders"),
    path("seller/orders/<str:number>/ship/", seller_orders.seller_ship, name="seller_ship"),
]
insurance_urls = [
    path("seller/", dashboard.dashboard, name="dashboard"),
    path("seller/exposure/", dashboard.exposure, name="exposure"),
    path("seller/deposit/", dashboard.deposit, name="deposit"),
    path("seller/campaigns/", coverage.campaigns, name="campaigns"),
    path("seller/campaign-items/<int:pk>/coverage/", coverage.coverage_toggle, name="coverage"),
]
claims_urls = [
    path("orders/<str:number>/lines/<int:line_id>/claim/", buyer_insurance.claim_file, name="file"),
    path("orders/<str:number>/lines/<int:line_id>/insurance/", buyer_insurance.claim_panel, name="panel"),
    path(
        "orders/<str:number>/lines/<int:line_id>/one-click/",
        buyer_insurance.claim_one_click,
        name="one_click",
    ),
    path("seller/claims/", seller_claims.seller_claims, name="seller_claims"),
]
notices_urls = [
    path("notices/", notices.notice_list, name="list"),
    path("notices/<int:pk>/", notices.notice_open, name="open"),
    path("notices/read-all/", notices.notices_read_all, name="read_all"),
    path("drops/<int:pk>/", notices.drop_open, name="drop"),
    path("settings/auto-claim/", notices.auto_claim_switch, name="auto_claim"),
]
alipay_urls = [
    path("alipay/", wallet.balance, name="balance"),
    path("alipay/top-up/", wallet.top_up, name="top_up"),
]

urlpatterns = [
    path("", access.landing, name="home"),
    # Lazy: with hashed static names the manifest exists only after collectstatic.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", include((shops_urls, "shops"))),
    path("", include((orders_urls, "orders"))),
    path("", include((insurance_urls, "insurance"))),
    path("", include((claims_urls, "claims"))),
    path("", include((alipay_urls, "alipay"))),
    path("", include((notices_urls, "notices"))),
]
