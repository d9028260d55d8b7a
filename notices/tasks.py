import logging

from celery import shared_task

from core.numbers import is_int
from notices import services

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notice_email(notice_id: int) -> int:
    if not is_int(notice_id):
        logger.error("notice_email: notice_id must be an integer, got %r", notice_id)
        return 0
    return services.notices_email(ids=[notice_id])


@shared_task
def notices_email_pending() -> int:
    """Beat's sweep, and the nudge after a batch of notices: send whatever is still unsent."""
    return services.notices_email_pending()
