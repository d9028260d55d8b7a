from django.urls import path

from claims import views

app_name = "claims"

urlpatterns = [
    path("orders/<str:number>/lines/<int:line_id>/claim/", views.claim_file, name="file"),
    path("orders/<str:number>/lines/<int:line_id>/insurance/", views.claim_panel, name="panel"),
    path("seller/claims/", views.seller_claims, name="seller_claims"),
]
