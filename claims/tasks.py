import logging

from celery import shared_task
from django.db import OperationalError

from claims import services
from claims.models import Claim
from claims.summaries import refresh
from core.numbers import is_int

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def claim_adjudicate(claim_id: int) -> str | None:
    if not is_int(claim_id):
        logger.error("claim_adjudicate: claim_id must be an integer, got %r", claim_id)
        return None
    claim = Claim.objects.filter(pk=claim_id).first()
    if claim is None:
        logger.warning("claim_adjudicate: no claim %s, skipped", claim_id)
        return None
    return services.claim_adjudicate(claim=claim).state


@shared_task(autoretry_for=(OperationalError,), retry_backoff=1, retry_jitter=True, max_retries=5)
def claims_settle(batch_size: int | None = None) -> int:
    if batch_size is not None and not (is_int(batch_size) and batch_size >= 1):
        logger.error("claims_settle: batch_size must be a positive integer, got %r", batch_size)
        return 0
    return services.claims_settle(batch_size=batch_size)


@shared_task
def claims_sweep() -> dict:
    return services.claims_sweep()


@shared_task
def reconcile() -> bool:
    from claims.reconciliation import reconciliation_run

    run = reconciliation_run(trigger="beat")
    if not run.ok:
        logger.error(
            "reconciliation found %d discrepancies (run %s): %s", run.discrepancy_total, run.pk, run.summary()
        )
    return run.ok


@shared_task(autoretry_for=(OperationalError,), retry_backoff=1, retry_jitter=True, max_retries=3)
def summaries_refresh() -> dict:
    return refresh.summaries_refresh()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def price_drops_detect(full: bool = False) -> dict:
    from claims.detection import price_drops_detect as detect

    return detect(full=bool(full))


@shared_task
def price_drops_follow_up() -> dict:
    """Beat, every few minutes: bring drops up to date, warn of windows closing with a drop
    unclaimed, and file the automatic claims that are due."""
    from claims.detection import price_drops_detect as detect
    from claims.price_claims import claims_file_automatic, notices_window_closing

    detected = detect()
    return {
        "drops_written": detected["drops_written"],
        "closing_notices": notices_window_closing(),
        "automatic_claims": claims_file_automatic(),
    }
