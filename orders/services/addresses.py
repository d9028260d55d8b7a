"""The buyer's shipping addresses."""

from django.contrib.auth.models import AbstractBaseUser

from orders.errors import refusal
from orders.models import (
    Address,
)


def address_create(
    *, user: AbstractBaseUser, recipient: str, phone: str, region: str, detail: str
) -> Address:
    fields = {"recipient": recipient, "phone": phone, "region": region, "detail": detail}
    for name, value in fields.items():
        limit = Address._meta.get_field(name).max_length
        if not (value or "").strip() or len(value) > limit:
            raise refusal("invalid_address:incomplete")
    return Address.objects.create(user=user, **{k: v.strip() for k, v in fields.items()})
