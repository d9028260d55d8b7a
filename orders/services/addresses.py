"""The buyer's shipping addresses."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
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
            raise InvalidInput("invalid_address", _("请完整填写收货地址(每项不超过长度限制)。"))
    return Address.objects.create(user=user, **{k: v.strip() for k, v in fields.items()})
