"""Posting notices (inside the event's transaction), reading them, and e-mailing them once."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.db import connection, models, transaction
from django.db.models import Expression, Q, QuerySet, Value
from django.utils import timezone, translation

from core.queue import enqueue_on_commit
from notices import kinds
from notices.errors import refusal
from notices.models import Notice

logger = logging.getLogger(__name__)

# An e-mail a sender took but never marked sent (the process died) is tried again after this.
EMAIL_LEASE = timedelta(minutes=10)


def _check_kind(kind: str) -> None:
    if kinds.kind_of(kind) is None:
        raise refusal("invalid_notice_kind")


def _send_later(notice_ids: list[int] | None = None) -> None:
    from notices import tasks

    if notice_ids is None:
        enqueue_on_commit(tasks.notices_email_pending)
    else:
        for pk in notice_ids:
            enqueue_on_commit(tasks.notice_email, pk)


def notice_post(
    *, user_id: int, kind: str, key: str, params: dict[str, Any] | None = None, link: str = ""
) -> Notice | None:
    """Store a notice for one event; call it inside the event's own transaction. The same event
    twice (same user and key) is one notice: the second call returns None. The e-mail goes after
    commit; if the broker is down then, the sweep sends it later."""
    _check_kind(kind)
    with transaction.atomic():
        notice, created = Notice.objects.get_or_create(
            user_id=user_id,
            key=key,
            defaults={"kind": kind, "params": params or {}, "link": link, "created_at": timezone.now()},
        )
    if not created:
        return None
    _send_later([notice.pk])
    return notice


def notices_post_query(
    *,
    queryset: QuerySet,
    kind: str,
    user: Expression,
    key: Expression,
    params: Expression,
    link: Expression | None = None,
) -> int:
    """The set-based twin of :func:`notice_post`: one notice per row of ``queryset``, written by
    the database (``INSERT … SELECT … ON CONFLICT DO NOTHING``), so a campaign-sized batch never
    passes through Python and an event already noticed is skipped. ``user``, ``key``, ``params``
    (a ``JSONObject``) and ``link`` are expressions over the queryset's rows. One e-mail sweep is
    queued after commit."""
    _check_kind(kind)
    columns = {
        "user_id": user,
        "kind": Value(kind, output_field=models.CharField()),
        "key": key,
        "params": params,
        "link": link if link is not None else Value("", output_field=models.CharField()),
        "created_at": Value(timezone.now(), output_field=models.DateTimeField()),
        "email_to": Value("", output_field=models.CharField()),
    }
    select_sql, select_params = queryset.order_by().values_list(*columns.values()).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} ({', '.join(columns)}) {select_sql} "  # noqa: S608
            "ON CONFLICT DO NOTHING",
            select_params,
        )
        posted = cursor.rowcount
    if posted:
        _send_later()
    return posted


def notice_mark_read(*, notice: Notice, user: AbstractBaseUser) -> Notice:
    """Mark one of the user's notices read. Reading it again keeps the first time."""
    if notice.user_id != user.pk:
        raise refusal("not_found")
    Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    notice.refresh_from_db(fields=["read_at"])
    return notice


def notices_mark_all_read(*, user: AbstractBaseUser) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- e-mail -----------------------------------------------------------------------------------


def _claim_for_email(ids: QuerySet | list[int], now: datetime) -> list[int]:
    """Compare-and-set: take the notices no other sender holds; return the ids this call took."""
    free = Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_LEASE)
    taken = Notice.objects.filter(pk__in=ids, sent_at__isnull=True).filter(free)
    taken.update(email_claimed_at=now)
    mine = Notice.objects.filter(pk__in=ids, email_claimed_at=now, sent_at__isnull=True)
    return list(mine.values_list("pk", flat=True))


def _message(notice: Notice) -> EmailMessage:
    with translation.override(settings.LANGUAGE_CODE):
        title, body = kinds.render(notice.kind, notice.params)
    if notice.link:
        body = f"{body}\n\n{settings.BAOJIA['SITE_URL'].rstrip('/')}{notice.link}"
    return EmailMessage(subject=title, body=body, to=[notice.user.email])


def notices_email(*, ids: QuerySet | list[int]) -> int:
    """E-mail the given notices that are still unsent, each once: taken with a compare-and-set,
    sent over one connection, then marked sent. A notice whose user has no address is marked
    sent with an empty address. A failed send leaves the notice for the sweep."""
    now = timezone.now()
    taken = _claim_for_email(ids, now)
    if not taken:
        return 0
    notices = Notice.objects.filter(pk__in=taken).select_related("user").order_by("pk")
    sent = 0
    with get_connection(fail_silently=False) as mail:
        for notice in notices:
            address = (notice.user.email or "").strip()
            if address:
                try:
                    mail.send_messages([_message(notice)])
                except OSError:
                    logger.warning(
                        "could not e-mail notice %s; the sweep will retry", notice.pk, exc_info=True
                    )
                    Notice.objects.filter(pk=notice.pk).update(email_claimed_at=None)
                    continue
            Notice.objects.filter(pk=notice.pk).update(sent_at=timezone.now(), email_to=address)
            sent += 1
    return sent


def notices_email_pending(*, limit: int = 500) -> int:
    """The sweep: e-mail what is still unsent, oldest first, ``limit`` at a time."""
    total = 0
    while True:
        ids = list(
            Notice.objects.filter(sent_at__isnull=True)
            .exclude(email_claimed_at__gte=timezone.now() - EMAIL_LEASE)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return total
        done = notices_email(ids=ids)
        total += done
        if done < len(ids):
            return total  # some failed or were taken by another sender: leave them for later
