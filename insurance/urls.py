from django.urls import path

from insurance import views

app_name = "insurance"

urlpatterns = [
    path("seller/", views.dashboard, name="dashboard"),
    path("seller/exposure/", views.exposure, name="exposure"),
    path("seller/deposit/", views.deposit, name="deposit"),
    path("seller/campaigns/", views.campaigns, name="campaigns"),
    path("seller/campaign-items/<int:pk>/coverage/", views.coverage_toggle, name="coverage"),
]
