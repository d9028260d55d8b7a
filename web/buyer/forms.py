from datetime import datetime
from typing import Any, ClassVar

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.money import format_fen
from orders.models import OrderLine
from orders.selectors import addresses_for
from orders.services import MAX_QUANTITY, order_quote
from shops.models import Coupon, Sku
from shops.selectors import coupons_usable
from web.forms import IdChoiceField, ServiceErrorFormMixin, WholeNumberField

COUPON_CODES = ("coupon_not_applicable", "coupon_expired", "coupon_min_spend")


class CouponChoiceField(IdChoiceField):
    def label_from_instance(self, obj: Coupon) -> str:
        if obj.min_spend_fen:
            return str(
                _("%(name)s(满 %(min)s 减 %(amount)s)")
                % {
                    "name": obj.name,
                    "min": format_fen(obj.min_spend_fen),
                    "amount": format_fen(obj.amount_fen),
                }
            )
        return str(_("%(name)s(减 %(amount)s)") % {"name": obj.name, "amount": format_fen(obj.amount_fen)})


class CheckoutForm(ServiceErrorFormMixin, forms.Form):
    """One SKU, a quantity, an address and the coupons: what ``order_quote``/``order_place`` take."""

    sku = IdChoiceField(queryset=Sku.objects.select_related("listing__shop"), widget=forms.HiddenInput)
    quantity = WholeNumberField(label=_("数量"), min_value=1, max_value=MAX_QUANTITY, initial=1)
    address = IdChoiceField(
        queryset=None,
        label=_("收货地址"),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("请选择收货地址。")},
    )
    shop_coupon = CouponChoiceField(
        queryset=None, label=_("店铺优惠"), required=False, empty_label=_("不使用")
    )
    platform_coupon = CouponChoiceField(
        queryset=None, label=_("平台优惠(红包)"), required=False, empty_label=_("不使用")
    )

    error_fields: ClassVar[dict[str, str]] = {
        "invalid_quantity": "quantity",
        "invalid_address": "address",
        "empty_order": "sku",
    }

    def __init__(self, *args: Any, buyer: AbstractBaseUser, sku: Sku, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        addresses = addresses_for(buyer)
        self.fields["address"].queryset = addresses
        shop_coupons, platform_coupons = coupons_usable(shop=sku.listing.shop, now=now)
        self.fields["shop_coupon"].queryset = Coupon.objects.filter(pk__in=[c.pk for c in shop_coupons])
        self.fields["platform_coupon"].queryset = Coupon.objects.filter(
            pk__in=[c.pk for c in platform_coupons]
        )

    def quote(self) -> list[OrderLine] | None:
        """Price the order now; a refusal lands on the field it is about.

        A coupon that does not apply is named next to its field and the price is shown without
        it, so the buyer still sees the breakdown (the form stays invalid: nothing is placed
        until the buyer picks another coupon or none).
        """
        data = self.cleaned_data
        items = [(data["sku"], data["quantity"])]
        applied: dict[str, Coupon] = {}
        try:
            # The shop coupon is tried alone first, so a refused coupon is named exactly.
            for name in ("shop_coupon", "platform_coupon"):
                coupon = data.get(name)
                if coupon is None:
                    continue
                try:
                    order_quote(items=items, now=self.now, **applied, **{name: coupon})
                except ServiceError as error:
                    if error.code not in COUPON_CODES:
                        raise
                    self.add_error(name, forms.ValidationError(error.message, code=error.code))
                else:
                    applied[name] = coupon
            return order_quote(items=items, now=self.now, **applied)
        except ServiceError as error:
            self.add_service_error(error)
            return None

    @property
    def coupon_refused(self) -> bool:
        return bool(self.errors.get("shop_coupon") or self.errors.get("platform_coupon"))


class AddressForm(ServiceErrorFormMixin, forms.Form):
    recipient = forms.CharField(label=_("收货人"), max_length=64)
    phone = forms.CharField(label=_("手机号码"), max_length=32)
    region = forms.CharField(label=_("所在地区"), max_length=128)
    detail = forms.CharField(label=_("详细地址"), max_length=255)

    error_fields: ClassVar[dict[str, str]] = {"invalid_address": "detail"}


class ClaimForm(ServiceErrorFormMixin, forms.Form):
    """申请理赔: the number of the unpaid evidence order (举证订单)."""

    evidence_order_number = forms.CharField(
        label=_("举证订单号"),
        max_length=64,
        help_text=_("用同一账号、同一收货信息、同一规格和数量下单但不付款,再填入该订单号。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    error_fields: ClassVar[dict[str, str]] = {
        "invalid_evidence_number": "evidence_order_number",
        "evidence_not_found": "evidence_order_number",
        "already_claimed": "evidence_order_number",
        "not_insured": "evidence_order_number",
        "not_found": "evidence_order_number",
    }
