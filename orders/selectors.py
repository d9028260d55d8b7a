from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from orders.models import Order


def orders_for_buyer(buyer: AbstractBaseUser) -> QuerySet[Order]:
    return Order.objects.filter(buyer=buyer).select_related("shop", "campaign")


def order_by_number(number: str) -> Order | None:
    return Order.objects.filter(number=number).select_related("buyer").first()
