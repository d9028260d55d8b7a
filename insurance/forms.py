from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from alipay.forms import IdempotentForm, ServiceErrorFormMixin, YuanField


class DepositForm(ServiceErrorFormMixin, IdempotentForm):
    """Pay into the Juhuasuan insurance deposit (聚划算保险保证金) that premiums are drawn from."""

    amount = YuanField(label=_("缴纳金额(元)"))

    error_fields: ClassVar[dict[str, str]] = {"invalid_amount": "amount"}


class ExposureForm(forms.Form):
    """If prices fell by this much, what would the open policies pay?"""

    drop = forms.IntegerField(label=_("降价幅度(%)"), min_value=1, max_value=100, initial=10)
