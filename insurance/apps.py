from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    name = "insurance"
    verbose_name = _("价格保障保险")

    def ready(self) -> None:
        from insurance import services
        from insurance.notifications import register_kinds
        from orders.events import OrderEvent, subscribe

        register_kinds()
        subscribe(OrderEvent.PAID, services.policies_issue_for_order)
        subscribe(OrderEvent.SUCCEEDED, services.policies_open_for_order)
        subscribe(OrderEvent.LINE_REFUNDED, services.policy_void_for_line)
