"""Races and corner cases found in review: each would lose money or state if the fix regressed.

- a claim still in review when its window closes is paid, and its policy ends claimed;
- settling a claim while its order is refunded queues on the policy row instead of deadlocking
  (PostgreSQL: every path locks policy before claim);
- a line refunded in full before the trade succeeded gives the platform its allowance back;
- an issued policy keeps its insurer and per-claim cap whatever its coverage does later;
- two first-time coverage switches on one item do not race into a duplicate.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from alipay.models import AccountKind
from claims import services as claim_services
from claims.models import ClaimState
from claims.services import claim_adjudicate, claim_file, claim_review_approve, claims_settle
from insurance.models import PolicyState
from insurance.services import coverage_turn_on, policy_windows_advance
from orders.services import order_line_refund, order_refund
from shops.services import sku_price_change
from tests.factories import InsuranceProductFactory, InsurerFactory


@pytest.fixture
def cheaper(world):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)  # ¥10.00 below the ¥159.00 paid


# 2. a claim in review across the window close: paid, but the policy stays 'expired'
@pytest.mark.django_db
def test_claim_paid_after_window_close_marks_policy_claimed(
    world, insured_line, cheaper, place_evidence, staff
):
    insured_line.policy.review_threshold_fen = 1
    insured_line.policy.save(update_fields=["review_threshold_fen"])
    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )
    claim = claim_adjudicate(claim=claim)
    assert claim.state == ClaimState.IN_REVIEW
    policy = insured_line.policy
    policy_windows_advance(now=policy.window_ends_at + timedelta(seconds=1))  # window closes during review
    claim_review_approve(claim=claim, staff=staff, reason="ok")
    claims_settle()
    claim.refresh_from_db()
    policy.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert policy.state == PolicyState.CLAIMED, f"paid claim but policy is {policy.state}"


# 5. settlement vs. a full refund of the same line: opposite lock order -> deadlock
@pytest.mark.django_db(transaction=True)
def test_settle_and_full_refund_do_not_deadlock(
    world, insured_line, cheaper, place_evidence, monkeypatch, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrency")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # approve without settling: stop the on-commit settle
    monkeypatch.setattr(claim_services, "_settle_later", lambda: None)
    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )
    claim.refresh_from_db()
    assert claim.state == ClaimState.APPROVED
    from insurance import services as ins
    from orders import events

    policy_locked, batch_taken = threading.Event(), threading.Event()
    subs = events._subscribers[events.OrderEvent.LINE_REFUNDED]
    original = list(subs)

    def void_then_wait(**kw):
        r = ins.policy_void_for_line(**kw)  # holds the policy row lock
        policy_locked.set()
        batch_taken.wait(5)
        time.sleep(0.3)
        return r

    subs[:] = [void_then_wait if f is ins.policy_void_for_line else f for f in original]
    real_batch = claim_services._claim_batch

    def batch_then_wait(**kw):
        policy_locked.wait(5)
        n = real_batch(**kw)  # holds the claim row lock
        batch_taken.set()
        time.sleep(1.0)  # refund now waits on the claim row
        return n

    monkeypatch.setattr(claim_services, "_claim_batch", batch_then_wait)
    errors = []

    def run(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            connections.close_all()

    from orders.models import Order

    order = Order.objects.get(pk=insured_line.order_id)
    a = threading.Thread(target=run, args=(lambda: order_refund(order=order),))
    b = threading.Thread(target=run, args=(lambda: claim_services.claims_settle_batch(),))
    a.start()
    b.start()
    a.join(20)
    b.join(20)
    subs[:] = original
    assert errors == [], errors


# 6. a line fully refunded by partial refunds before success: the platform allowance goes to the seller
@pytest.mark.django_db
def test_platform_allowance_of_a_fully_refunded_line_returns_to_marketing(world):
    from alipay.services import user_account
    from orders.services import order_confirm_receipt, order_pay, order_place, order_ship
    from shops.models import Coupon

    now = timezone.now()
    red = Coupon.objects.create(
        name="红包", amount_fen=2_000, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=1)
    )
    order = order_place(
        buyer=world.alice, address=world.alice_address, items=[(world.sku, 1)], platform_coupon=red
    )
    order_pay(order=order, buyer=world.alice)
    line = order.lines.get()
    order_line_refund(line=line, amount_fen=line.paid_fen, request_id="all")
    order_ship(order=order)
    seller = user_account(user=world.seller.user, kind=AccountKind.SELLER)
    before = seller.balance_fen
    order_confirm_receipt(order=order, buyer=world.alice)
    seller.refresh_from_db()
    assert seller.balance_fen == before, (
        f"seller got {seller.balance_fen - before} fen for a fully refunded line"
    )


@pytest.mark.django_db
def test_issued_policies_keep_their_insurer_and_cap(world, place_evidence):
    """Whatever the coverage and products do later, an issued policy's insurer pays its claim
    and its own cap holds: the terms were copied onto it at issue."""
    order = world.buy()
    pingan = InsuranceProductFactory(insurer=InsurerFactory(code="pingan", name="平安"), per_claim_cap_fen=1)
    coverage_turn_on(campaign_item=world.item, seller=world.seller, product=pingan)
    world.set_terms(per_claim_cap_fen=1)
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_file(
        order_line=world.line(order), evidence_order_number=place_evidence().number, buyer=world.alice
    )
    claim = claim_adjudicate(claim=claim)
    claims_settle()

    claim.refresh_from_db()
    policy = claim.policy
    assert (policy.insurer.code, policy.per_claim_cap_fen) == ("zhongan", None)
    assert (claim.state, claim.compensation_fen) == (ClaimState.PAID, 1_000)
    assert claim.payout.transfer.entries.get(amount_fen__lt=0).account.code == "insurer:zhongan"


# Issue 10 point 3: two first-time coverage switches on the same item raced into an IntegrityError
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_coverage_switches_see_each_other(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes its write lock at BEGIN (IMMEDIATE): two switches cannot interleave")
    from core.models import AuditEvent
    from insurance.models import Coverage
    from tests.factories import CampaignItemFactory, ListingFactory, SkuFactory

    threads_per_item, items = 4, []
    errors: list[str] = []

    def switch(item, barrier) -> None:
        try:
            barrier.wait(5)
            coverage_turn_on(campaign_item=item, seller=world.seller)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            connections.close_all()

    for _ in range(12):
        item = CampaignItemFactory(
            campaign=world.campaign, sku=SkuFactory(listing=ListingFactory(shop=world.tmall))
        )
        barrier = threading.Barrier(threads_per_item)
        threads = [threading.Thread(target=switch, args=(item, barrier)) for _ in range(threads_per_item)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        items.append(item)

    assert errors == []
    for item in items:
        coverage = Coverage.objects.get(campaign_item=item)
        assert coverage.enabled
        turned_on = AuditEvent.objects.filter(object_id=coverage.pk, action="coverage_on")
        assert turned_on.count() == 1  # the others found it on and changed nothing
