"""From coverage on to money in the buyer's balance, through the Celery tasks."""

import pytest

from alipay.selectors import account_balance_fen, ledger_discrepancies
from claims.models import ClaimState, Payout
from claims.services import claim_file
from claims.tasks import claims_settle
from insurance.models import PolicyState
from insurance.tasks import policy_windows_advance
from orders.models import CampaignState
from orders.services import order_place
from orders.tasks import campaigns_advance
from shops.services import sku_price_change


@pytest.mark.django_db(transaction=True)
def test_it_pays_the_difference_into_the_buyers_balance(world, django_capture_on_commit_callbacks):
    order = world.buy(quantity=2)
    line = world.line(order)
    assert line.paid_fen == 31_800
    policy = line.policy
    assert policy.state == PolicyState.PENDING
    assert policy.premium_fen == 477  # 1.5% of ¥318.00, half up

    world.end_campaign()
    world.campaign.state = CampaignState.LIVE
    world.campaign.save(update_fields=["state"])
    campaigns_advance.delay()
    world.campaign.refresh_from_db()
    assert world.campaign.state == CampaignState.ENDED
    policy_windows_advance.delay()
    policy.refresh_from_db()
    assert policy.state == PolicyState.CLAIMABLE

    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = order_place(buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, 2)])
    before = account_balance_fen(world.alice)

    claim = claim_file(order_line=line, evidence_order_number=evidence.number, buyer=world.alice)
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID, [c for c in claim.checks if c["result"] != "passed"]
    assert claim.compensation_fen == 31_800 - 29_800
    assert account_balance_fen(world.alice) == before + 2_000
    assert Payout.objects.get(claim=claim).amount_fen == 2_000
    policy.refresh_from_db()
    assert policy.state == PolicyState.CLAIMED

    assert claims_settle.delay().get() == 0  # a second settlement pays nothing
    assert account_balance_fen(world.alice) == before + 2_000
    assert ledger_discrepancies() == []
