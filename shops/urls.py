from django.urls import path

from shops import views

app_name = "shops"

urlpatterns = [
    path("seller/catalog/", views.catalog, name="catalog"),
]
