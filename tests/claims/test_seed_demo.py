"""The demo is a believable month (issue 10 #15): dozens of buyers, sales over 30 days, covered
and uncovered items, claims paid, rejected and in review, consistent timestamps; it can be reset."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Max, Min, Q

from claims.models import Claim, ClaimState
from insurance.models import Policy, PolicyState
from orders.models import Order, OrderLine, OrderState


def test_the_demo_month_is_believable(db):
    # One seeding for every check below: it plays a month of campaigns.
    call_command("seed_demo", verbosity=0)
    dozens_of_buyers_and_sales_over_thirty_days()
    claims_paid_rejected_and_in_review_and_policies_in_every_end_state()
    timestamps_follow_each_order_and_claim_through_its_life()


def dozens_of_buyers_and_sales_over_thirty_days():
    first, last = Order.objects.aggregate(first=Min("created_at"), last=Max("created_at")).values()
    assert last - first >= timedelta(days=25)
    assert Order.objects.values("buyer").distinct().count() >= 30
    covered = OrderLine.objects.filter(campaign_item__coverage__enabled=True).count()
    uncovered = OrderLine.objects.filter(
        campaign_item__isnull=False, campaign_item__coverage__isnull=True
    ).count()
    assert covered > 20 and uncovered > 5
    assert Order.objects.filter(state=OrderState.CLOSED).exists()
    assert Order.objects.filter(state=OrderState.REFUNDED).exists()


def claims_paid_rejected_and_in_review_and_policies_in_every_end_state():
    states = set(Claim.objects.values_list("state", flat=True))
    assert {ClaimState.PAID, ClaimState.REJECTED, ClaimState.IN_REVIEW} <= states
    policies = set(Policy.objects.values_list("state", flat=True))
    assert {PolicyState.CLAIMABLE, PolicyState.CLAIMED, PolicyState.EXPIRED, PolicyState.VOIDED} <= policies


def timestamps_follow_each_order_and_claim_through_its_life():
    out_of_order = Order.objects.filter(
        Q(paid_at__lt=F("created_at"))
        | Q(shipped_at__lt=F("paid_at"))
        | Q(succeeded_at__lt=F("shipped_at"))
        | Q(refunded_at__lt=F("paid_at"))
    )
    assert not out_of_order.exists()
    assert not Claim.objects.filter(Q(decided_at__lt=F("filed_at")) | Q(paid_at__lt=F("decided_at"))).exists()
    assert not Claim.objects.filter(filed_at__lt=F("policy__order_line__order__succeeded_at")).exists()


def test_reset_replays_the_demo_from_an_empty_database(transactional_db):
    call_command("seed_demo", verbosity=0)
    claims = Claim.objects.count()
    call_command("seed_demo", "--reset", verbosity=0)
    assert Claim.objects.count() == claims
    assert Order.objects.values("buyer").distinct().count() >= 30


def test_reset_is_refused_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", "--reset", verbosity=0)
