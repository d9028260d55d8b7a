from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("shop/", views.storefront, name="storefront"),
    path("shop/campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("shop/items/<int:pk>/", views.listing_detail, name="listing"),
    path("orders/checkout/", views.checkout, name="checkout"),
    path("orders/checkout/quote/", views.quote, name="quote"),
    path("orders/addresses/new/", views.address_new, name="address_new"),
    path("orders/", views.my_orders, name="mine"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/pay/", views.order_pay, name="pay"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("orders/<str:number>/confirm/", views.order_confirm, name="confirm"),
    path("seller/orders/", views.seller_orders, name="seller_orders"),
    path("seller/orders/<str:number>/ship/", views.seller_ship, name="seller_ship"),
]
