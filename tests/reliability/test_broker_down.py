"""With the broker down, buyers still file claims (stored, answered at once); when it returns,
the periodic sweep gets every one of them adjudicated and paid without anyone doing anything."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alipay.selectors import account_balance_fen
from claims.models import Claim, ClaimState
from claims.services import claim_file, claims_sweep
from insurance.services import policy_windows_advance
from orders.services import order_place
from shops.services import sku_price_change
from tests.workers import ANY_BROKER, broker_down, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker", [ANY_BROKER], indirect=True)
def test_claims_filed_while_the_broker_is_down_are_paid_when_it_returns(world, worker, monkeypatch):
    orders = [world.buy() for _ in range(3)]
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    before = account_balance_fen(world.alice)

    with broker_down(monkeypatch):
        started = time.monotonic()
        claims = []
        for order in orders:
            evidence = order_place(
                buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, 1)]
            )
            claims.append(
                claim_file(
                    order_line=world.line(order), evidence_order_number=evidence.number, buyer=world.alice
                )
            )
        answered_in = time.monotonic() - started
    assert answered_in < 5, f"filing 3 claims with the broker down took {answered_in:.1f}s"
    assert (
        list(Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("state", flat=True))
        == [ClaimState.SUBMITTED] * 3
    )

    # The broker is back; beat runs the sweep (here a minute later, past the stuck threshold).
    claims_sweep(now=timezone.now() + timedelta(minutes=5))
    assert wait_for(lambda: Claim.objects.filter(state=ClaimState.PAID).count() == 3), list(
        Claim.objects.values_list("state", flat=True)
    )
    assert account_balance_fen(world.alice) == before + 3 * (15_900 - 14_900)
