"""bench/simulate.py at a tiny size: what it writes is what the services would have left, the
ledger adds up, and bad options are refused with a clear message before anything is written."""

import json

import pytest
from django.contrib.auth import get_user_model

from alipay.models import Account, AccountKind, Entry, Transfer
from bench import simulate
from bench.simulate import Plan, SimulationError
from claims.models import Claim, ClaimState
from claims.reconciliation import discrepancies
from insurance.models import Policy, PolicyState
from orders.models import Campaign, Order, OrderState


@pytest.mark.django_db
def test_it_builds_campaigns_with_a_heavy_buyer_claims_in_review_and_a_balanced_ledger():
    done = simulate.simulate(
        Plan(
            orders=60,
            campaigns=3,
            heavy_buyer_orders=20,
            price_drop_share=0.5,
            claims_share=0.5,
            review_share=0.5,
        )
    )
    assert Campaign.objects.filter(seller_id=done.seller).count() == 3 == len(done.campaigns)
    insured = Order.objects.filter(number__startswith=done.prefix)
    assert insured.count() == 60
    assert set(insured.values_list("state", flat=True)) == {OrderState.SUCCEEDED}
    # the orders go round the campaigns
    assert sorted(insured.order_by().values_list("campaign_id", flat=True).distinct()) == done.campaigns
    assert insured.filter(buyer_id=done.first_buyer).count() == 20
    assert done.buyers == 1 + 4  # the heavy buyer, and 40 more orders at 10 each
    assert Policy.objects.filter(state=PolicyState.CLAIMABLE, seller_id=done.seller).count() == 60
    # every 4th order found a lower price and claimed; every other claim waits for staff
    assert (done.evidence_orders, done.claims, done.in_review) == (15, 15, 8)
    assert Claim.objects.filter(state=ClaimState.IN_REVIEW).count() == 8
    assert Claim.objects.filter(state=ClaimState.APPROVED).count() == 7
    reasons = Claim.objects.filter(state=ClaimState.IN_REVIEW).values_list("review_reasons", flat=True)
    assert all(r == ["amount_above_threshold"] for r in reasons)
    # the heavy buyer's orders were paid and settled one by one, through escrow
    buyer = get_user_model().objects.get(pk=done.first_buyer)
    account = Account.objects.get(user=buyer, kind=AccountKind.BUYER)
    assert Transfer.objects.filter(key__startswith="pay:order:").count() == 20
    assert Entry.objects.filter(account=account).count() == 1 + 20  # each chunk's top-up, each payment
    assert account.balance_fen == 0
    assert discrepancies() == []


@pytest.mark.django_db
def test_evidence_only_leaves_the_claims_to_be_filed():
    done = simulate.simulate(Plan(orders=20, price_drop_share=0.5, evidence_only=True))
    assert (done.claims, done.evidence_orders) == (0, 10)
    assert Claim.objects.count() == 0
    evidence = Order.objects.filter(number__startswith=done.evidence_prefix)
    assert set(evidence.values_list("state", flat=True)) == {OrderState.CLOSED}
    assert all(
        number.isalnum() for number in evidence.values_list("number", flat=True)
    )  # the claim form's rule


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"orders": 0}, "--orders must be a whole number from 1"),
        ({"orders": 10, "price_drop_share": 1.5}, "--price-drop-share must be a number between 0 and 1"),
        ({"orders": 10, "claims_share": -0.1}, "--claims-share must be a number between 0 and 1"),
        ({"orders": 10, "campaigns": 11}, "--campaigns must be a whole number from 1 to 10"),
        (
            {"orders": 10, "heavy_buyer_orders": 11},
            "--heavy-buyer-orders must be a whole number from 0 to 10",
        ),
        ({"orders": 10, "orders_per_buyer": 0}, "--orders-per-buyer must be a whole number from 1"),
        ({"orders": 10, "evidence_only": True, "review_share": 0.5}, "--review-share needs claims"),
    ],
)
def test_a_plan_refuses_bad_options(options, message):
    with pytest.raises(SimulationError, match=message):
        Plan(**options)


def test_the_command_line_refuses_bad_options_with_a_clear_error_and_writes_nothing(capsys):
    with pytest.raises(SystemExit) as exit_:
        simulate.main(["--orders", "5", "--price-drop-share", "2"])
    assert exit_.value.code == 2
    assert "--price-drop-share must be a number between 0 and 1, not 2.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        simulate.main(["--orders", "many"])
    assert "invalid int value: 'many'" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_command_line_reports_what_it_wrote(capsys):
    simulate.main(["--orders", "12", "--price-drop-share", "0.5", "--json"])
    written = json.loads(capsys.readouterr().out)
    assert (written["orders"], written["claims"], written["buyers"]) == (12, 6, 2)
    simulate.main(["--orders", "3", "--price-drop-share", "0"])
    assert "3 insured lines, 0 claims" in capsys.readouterr().out


@pytest.mark.django_db
def test_premium_rows_charge_each_policy_as_the_product_does():
    from insurance.models import Premium, PremiumKind

    done = simulate.simulate(Plan(orders=30, price_drop_share=0, premium_rows=True))
    premiums = Premium.objects.filter(policy__seller_id=done.seller)
    assert premiums.count() == 30
    assert set(premiums.values_list("kind", flat=True)) == {PremiumKind.CHARGE}
    policy = Policy.objects.filter(seller_id=done.seller).first()
    premium = policy.premiums.get()
    assert premium.amount_fen == policy.premium_fen
    assert premium.transfer.key == f"premium:policy:{policy.pk}"
    assert not Transfer.objects.filter(key__endswith=":premiums").exists()  # none per chunk
    assert discrepancies() == []
