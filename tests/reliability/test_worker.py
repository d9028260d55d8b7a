"""A real `celery worker` process adjudicates and pays a claim, over filesystem:// and Redis."""

import pytest

from alipay.selectors import account_balance_fen, ledger_discrepancies
from claims.models import Claim, ClaimState
from claims.services import claim_file
from orders.services import order_place
from shops.services import sku_price_change
from tests.workers import REDIS, wait_for


def _assert_paid_by_worker(world, worker) -> None:
    order = world.buy(quantity=1)
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = order_place(buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, 1)])
    before = account_balance_fen(world.alice)
    claim = claim_file(order_line=world.line(order), evidence_order_number=evidence.number, buyer=world.alice)
    paid = wait_for(lambda: Claim.objects.get(pk=claim.pk).state == ClaimState.PAID)
    assert paid, f"the worker did not pay the claim (worker exit code: {worker.poll()})"
    assert account_balance_fen(world.alice) == before + (15_900 - 14_900)
    # It was the worker process, not this one, that ran the tasks.
    log = worker.log_path.read_text()
    assert "claims.tasks.claim_adjudicate" in log and "claims.tasks.claims_settle" in log, log[-2000:]
    assert ledger_discrepancies() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker", ["filesystem://"], indirect=True)
def test_it_is_paid_by_a_real_worker_over_the_filesystem_broker(world, worker):
    _assert_paid_by_worker(world, worker)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not REDIS.startswith("redis://"), reason="CELERY_BROKER_URL is not a redis:// URL")
@pytest.mark.parametrize("worker", [REDIS], indirect=True)
def test_it_is_paid_by_a_real_worker_over_redis(world, worker):
    _assert_paid_by_worker(world, worker)
