"""Notices (消息中心): one per event, stored with the event, e-mailed once after commit — and still
e-mailed, once, when the broker was down at the time."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from claims.detection import price_drops_detect
from notices import tasks
from notices.models import Notice
from notices.selectors import unread_count
from notices.services import notice_mark_read, notice_post, notices_email, notices_email_pending
from shops.services import sku_price_change


@pytest.fixture
def alice_reads_mail(world):
    world.alice.email = "alice@example.com"
    world.alice.save(update_fields=["email"])
    return world.alice


def post(user, key="claim_decided:1:approved", **params):
    return notice_post(
        user_id=user.pk,
        kind="claim_decided",
        key=key,
        params={"claim": "LP1", "order": "O1", "state": "approved", **params},
        link="/orders/O1/",
    )


def test_one_event_is_one_notice_and_one_mail(alice_reads_mail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post(alice_reads_mail)
        again = post(alice_reads_mail)

    assert first is not None and again is None
    assert Notice.objects.filter(user=alice_reads_mail).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert "LP1" in mail.outbox[0].subject and "/orders/O1/" in mail.outbox[0].body
    first.refresh_from_db()
    assert first.sent_at is not None and first.email_to == "alice@example.com"

    assert notices_email(ids=[first.pk]) == 0  # a repeat (or the sweep) sends nothing more
    assert notices_email_pending() == 0
    assert len(mail.outbox) == 1


def test_the_notice_is_not_sent_before_its_transaction_commits(
    alice_reads_mail, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        post(alice_reads_mail)
    assert len(mail.outbox) == 0
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_a_broker_outage_loses_no_mail_and_sends_none_twice(
    alice_reads_mail, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(tasks.notice_email, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        notice = post(alice_reads_mail)
    assert len(mail.outbox) == 0
    notice.refresh_from_db()
    assert notice.sent_at is None  # still owed: the row is the record

    monkeypatch.undo()
    assert notices_email_pending() == 1  # beat's sweep, once the broker is back
    assert notices_email_pending() == 0
    assert len(mail.outbox) == 1


def test_a_mail_server_that_fails_leaves_the_notice_for_the_sweep(alice_reads_mail, settings, monkeypatch):
    notice = post(alice_reads_mail)
    Notice.objects.filter(pk=notice.pk).update(sent_at=None)

    from django.core.mail.backends.locmem import EmailBackend

    monkeypatch.setattr(
        EmailBackend, "send_messages", lambda self, messages: (_ for _ in ()).throw(OSError("down"))
    )
    assert notices_email(ids=[notice.pk]) == 0
    monkeypatch.undo()

    notice.refresh_from_db()
    assert notice.sent_at is None and notice.email_claimed_at is None
    assert notices_email_pending() == 1


def test_a_sender_that_died_is_replaced_after_the_lease(alice_reads_mail):
    notice = post(alice_reads_mail)
    Notice.objects.filter(pk=notice.pk).update(sent_at=None, email_claimed_at=timezone.now())
    mail.outbox.clear()

    assert notices_email(ids=[notice.pk]) == 0  # another sender holds it
    Notice.objects.filter(pk=notice.pk).update(email_claimed_at=timezone.now() - timedelta(minutes=11))
    assert notices_email(ids=[notice.pk]) == 1
    assert len(mail.outbox) == 1


def test_a_person_without_an_address_gets_the_notice_but_no_mail(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = post(world.bob)
    notice.refresh_from_db()
    assert notice.sent_at is not None and notice.email_to == ""
    assert len(mail.outbox) == 0


def test_reading_marks_once_and_counts_unread(world):
    first, second = post(world.alice, key="a"), post(world.alice, key="b")
    assert unread_count(world.alice) == 2

    read = notice_mark_read(notice=first, user=world.alice)
    at = read.read_at
    notice_mark_read(notice=first, user=world.alice)

    first.refresh_from_db()
    assert first.read_at == at
    assert unread_count(world.alice) == 1
    with pytest.raises(Exception) as refused:
        notice_mark_read(notice=second, user=world.bob)
    assert refused.value.code == "not_found"


def test_a_detected_drop_tells_the_buyer_once_in_words(
    world, insured_line, alice_reads_mail, django_capture_on_commit_callbacks
):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    with django_capture_on_commit_callbacks(execute=True):
        price_drops_detect()
        price_drops_detect()
        price_drops_detect(full=True)

    [notice] = Notice.objects.filter(user=world.alice, kind="drop_detected")
    assert "¥10.00" in notice.title
    assert "淘宝" in notice.body and "小米淘宝店" in notice.body and "¥149.00" in notice.body
    drop = insured_line.policy.price_drop
    assert notice.link == f"/drops/{drop.pk}/"  # the drop's page: its order, with 一键理赔
    assert [m.subject for m in mail.outbox].count(notice.title) == 1


def test_a_lower_price_is_a_new_notice(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    sku_price_change(sku=world.other_shop_sku, price_fen=13_900)
    price_drops_detect()
    price_drops_detect()

    kinds = list(Notice.objects.filter(user=world.alice).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["drop_detected", "drop_raised"]
    assert "¥20.00" in Notice.objects.get(kind="drop_raised").title


def test_the_seller_hears_what_a_price_change_triggered(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    price_drops_detect()

    [notice] = Notice.objects.filter(user=world.seller.user, kind="seller_drops")
    assert notice.params["policies"] == 1 and notice.params["amount_fen"] == 1_000
    assert "1" in notice.title and "¥10.00" in notice.body
