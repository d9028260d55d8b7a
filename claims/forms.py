from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from alipay.forms import ServiceErrorFormMixin


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
        "already_claimed": "evidence_order_number",
        "not_insured": "evidence_order_number",
        "not_found": "evidence_order_number",
    }
