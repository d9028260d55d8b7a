from django.urls import path

from alipay import views

app_name = "alipay"

urlpatterns = [
    path("alipay/", views.balance, name="balance"),
    path("alipay/top-up/", views.top_up, name="top_up"),
]
