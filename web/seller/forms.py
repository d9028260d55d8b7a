from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from shops.models import Seller, Shop
from shops.selectors import shops_for_seller, skus_for_seller
from web.forms import IdChoiceField, IdempotentForm, ServiceErrorFormMixin, WholeNumberField, YuanField


class SkuPriceForm(ServiceErrorFormMixin, forms.Form):
    """The seller sets a SKU's list price (this is how later price drops happen)."""

    sku = IdChoiceField(queryset=None, widget=forms.HiddenInput)
    price = YuanField(label=_("新售价(元)"))

    error_fields: ClassVar[dict[str, str]] = {"invalid_price": "price"}

    def __init__(self, *args: Any, seller: Seller, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].queryset = skus_for_seller(seller)


class ShopChoiceField(IdChoiceField):
    def label_from_instance(self, obj: Shop) -> str:
        return str(_("%(name)s(%(platform)s)") % {"name": obj.name, "platform": obj.get_platform_display()})


class CouponForm(ServiceErrorFormMixin, forms.Form):
    shop = ShopChoiceField(queryset=None, label=_("店铺"), empty_label=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    amount = YuanField(label=_("优惠金额(元)"))
    min_spend = YuanField(label=_("使用门槛(元)"), required=False, help_text=_("不填表示无门槛"))
    valid_days = WholeNumberField(label=_("有效天数"), min_value=1, max_value=365, initial=7)

    error_fields: ClassVar[dict[str, str]] = {
        "invalid_amount": "amount",
        "coupon_amount_above_threshold": "amount",
        "invalid_name": "name",
        "invalid_period": "valid_days",
    }

    def __init__(self, *args: Any, seller: Seller, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = shops_for_seller(seller)


class DepositForm(ServiceErrorFormMixin, IdempotentForm):
    """Pay into the Juhuasuan insurance deposit (聚划算保险保证金) that premiums are drawn from."""

    amount = YuanField(label=_("缴纳金额(元)"))

    error_fields: ClassVar[dict[str, str]] = {"invalid_amount": "amount"}


class ExposureForm(forms.Form):
    """If prices fell by this much, what would the open policies pay?"""

    drop = WholeNumberField(label=_("降价幅度(%)"), min_value=1, max_value=100, initial=10)
