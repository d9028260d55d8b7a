import logging

from celery import shared_task

from alipay.selectors import ledger_discrepancies

logger = logging.getLogger(__name__)


@shared_task
def ledger_reconcile() -> int:
    found = ledger_discrepancies()
    for item in found:
        logger.error("ledger discrepancy %s: %s", item.code, item.detail)
    return len(found)
