from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlipayConfig(AppConfig):
    name = "alipay"
    verbose_name = _("支付宝(模拟)")
