"""Enqueue Celery work after the transaction commits, never losing the truth if the broker is down.

The database row (a claim in 'submitted', an approved claim) is the record that work is owed; the
message is only a nudge. If the broker cannot take it, the periodic sweep finds the row later.
"""

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    def send() -> None:
        try:
            task.delay(*args)
        except OperationalError:  # the broker is down: the sweep re-queues from the database
            logger.warning(
                "could not enqueue %s%r; the sweep will pick it up", task.name, args, exc_info=True
            )

    transaction.on_commit(send)
