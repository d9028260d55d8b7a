from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("理赔")

    def ready(self) -> None:
        from claims import selectors, services
        from claims.notifications import register_kinds
        from insurance.services import policy_expiry_hold_register
        from orders.events import OrderEvent, subscribe

        subscribe(OrderEvent.LINE_REFUNDED, services.claims_after_refund)
        policy_expiry_hold_register(selectors.policies_with_claim_in_flight)
        register_kinds()
