"""The simulated Alipay: a double-entry, append-only ledger whose balances are the sums of their rows."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from alipay.errors import InsufficientBalance
from alipay.models import Account, AccountKind, Entry, Transfer, TransferKind
from alipay.selectors import account_balance_fen, entries_for_user, ledger_discrepancies
from alipay.services import (
    Leg,
    balance_top_up,
    system_account,
    transfer_post,
    user_account,
)
from claims.models import Claim, ClaimState
from claims.services import claim_adjudicate, claim_file, claim_review_approve, claims_settle
from core.errors import InvalidInput
from insurance.services import deposit_top_up, policy_windows_advance
from orders.services import order_line_refund, order_place, order_refund, orders_close_unpaid
from shops.services import coupon_issue, sku_price_change
from tests.factories import UserFactory


def assert_ledger_balances() -> None:
    """Each account's balance is the sum of its entries, and all entries sum to zero."""
    assert ledger_discrepancies() == []
    assert Entry.objects.aggregate(total=Sum("amount_fen"))["total"] in (0, None)
    for account in Account.objects.all():
        rows = account.entries.aggregate(total=Sum("amount_fen"))["total"] or 0
        assert account.balance_fen == rows, account.code
        if not account.allow_negative:
            assert account.balance_fen >= 0, account.code
    for transfer in Transfer.objects.all():
        assert transfer.entries.aggregate(total=Sum("amount_fen"))["total"] == 0, transfer.key


@pytest.fixture
def carol(db):
    return UserFactory(username="carol")


# --- a whole scenario -----------------------------------------------------------------------------


def test_the_ledger_balances_after_a_full_scenario(
    world, place_evidence, staff, django_capture_on_commit_callbacks
):
    until = timezone.now() + timedelta(days=30)
    shop_coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_001, valid_until=until)
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=333, valid_until=until)
    paid_out = world.buy(quantity=2, shop_coupon=shop_coupon, platform_coupon=red_packet)
    clawed = world.buy(world.bob)
    voided = world.buy(succeed=False)
    in_review = world.buy(quantity=3)
    order_refund(order=voided)  # before the window: premium refunded
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=7_900)
    with django_capture_on_commit_callbacks(execute=True):
        for order, buyer, quantity in (
            (paid_out, world.alice, 2),
            (clawed, world.bob, 1),
            (in_review, world.alice, 3),
        ):
            claim_file(
                order_line=world.line(order),
                evidence_order_number=place_evidence(buyer, quantity=quantity).number,
                buyer=buyer,
            )
    in_review_claims = Claim.objects.filter(state=ClaimState.IN_REVIEW)
    assert in_review_claims.count() == 2  # the steep drops; alice's couponed pair was paid at once
    with django_capture_on_commit_callbacks(execute=True):
        for claim in in_review_claims:
            claim_review_approve(claim=claim, staff=staff, reason="核实")
    order_line_refund(line=world.line(paid_out), amount_fen=777, request_id="AS-1")
    order_refund(order=clawed)
    orders_close_unpaid(now=timezone.now() + timedelta(hours=1))

    assert_ledger_balances()
    assert system_account(AccountKind.ESCROW).balance_fen == 0
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT).count() == 3
    assert Transfer.objects.filter(kind=TransferKind.CLAWBACK).count() == 2
    assert Transfer.objects.filter(kind=TransferKind.PREMIUM_REFUND).count() == 1


def test_the_reconciliation_finds_a_tampered_balance(world):
    account = user_account(user=world.alice, kind=AccountKind.BUYER)
    Account.objects.filter(pk=account.pk).update(balance_fen=account.balance_fen + 1)

    [found] = ledger_discrepancies()

    assert found.code == "balance_mismatch"
    assert account.code in found.detail


# --- posting transfers ------------------------------------------------------------------------


def test_it_posts_a_balanced_transfer(carol):
    external = system_account(AccountKind.EXTERNAL)
    wallet = user_account(user=carol, kind=AccountKind.BUYER)

    transfer = transfer_post(
        key="t-1", kind=TransferKind.TOP_UP, legs=[Leg(external, -12_345), Leg(wallet, 12_345)], memo="充值"
    )

    assert {(e.account_id, e.amount_fen) for e in transfer.entries.all()} == {
        (external.pk, -12_345),
        (wallet.pk, 12_345),
    }
    assert account_balance_fen(carol) == 12_345
    assert [e.amount_fen for e in entries_for_user(carol)] == [12_345]
    assert_ledger_balances()


def test_the_same_key_posts_once(carol):
    external = system_account(AccountKind.EXTERNAL)
    wallet = user_account(user=carol, kind=AccountKind.BUYER)
    first = transfer_post(key="t-1", kind=TransferKind.TOP_UP, legs=[Leg(external, -100), Leg(wallet, 100)])

    again = transfer_post(key="t-1", kind=TransferKind.TOP_UP, legs=[Leg(external, -100), Leg(wallet, 100)])

    assert again.pk == first.pk
    assert account_balance_fen(carol) == 100
    assert Entry.objects.count() == 2


@pytest.mark.parametrize(
    "amounts,code",
    [
        ((-100, 99), "unbalanced_transfer"),
        ((0, 0), "invalid_transfer"),
        ((), "invalid_transfer"),
    ],
)
def test_it_refuses_a_malformed_transfer(carol, amounts, code):
    accounts = [system_account(AccountKind.EXTERNAL), user_account(user=carol, kind=AccountKind.BUYER)]
    legs = [Leg(account, amount) for account, amount in zip(accounts, amounts, strict=False)]

    with pytest.raises(InvalidInput) as refused:
        transfer_post(key="bad", kind=TransferKind.TOP_UP, legs=legs)

    assert refused.value.code == code
    assert not Transfer.objects.exists()


def test_it_refuses_one_account_twice_in_a_transfer(carol):
    wallet = user_account(user=carol, kind=AccountKind.BUYER)

    with pytest.raises(InvalidInput) as refused:
        transfer_post(key="bad", kind=TransferKind.TOP_UP, legs=[Leg(wallet, -1), Leg(wallet, 1)])

    assert refused.value.code == "invalid_transfer"


def test_it_refuses_an_unknown_kind(carol):
    legs = [
        Leg(system_account(AccountKind.EXTERNAL), -1),
        Leg(user_account(user=carol, kind=AccountKind.BUYER), 1),
    ]

    with pytest.raises(InvalidInput) as refused:
        transfer_post(key="bad", kind="gift", legs=legs)

    assert refused.value.code == "invalid_transfer"
    assert not Transfer.objects.exists()


def test_a_buyer_balance_never_goes_negative(carol):
    balance_top_up(user=carol, amount_fen=100, key="carol-topup")
    wallet = user_account(user=carol, kind=AccountKind.BUYER)

    with pytest.raises(InsufficientBalance) as refused:
        transfer_post(
            key="overdraw",
            kind=TransferKind.REFUND,
            legs=[Leg(wallet, -101), Leg(system_account(AccountKind.ESCROW), 101)],
        )

    assert refused.value.code == "insufficient_balance"
    assert account_balance_fen(carol) == 100
    assert not Transfer.objects.filter(key="overdraw").exists()
    assert_ledger_balances()


def test_entries_are_append_only(world):
    entry = Entry.objects.first()

    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.amount_fen = 1
        entry.save(update_fields=["amount_fen"])
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()

    assert Entry.objects.get(pk=entry.pk).amount_fen != 1
    assert_ledger_balances()


# --- top-ups ------------------------------------------------------------------------------------


def test_a_top_up_credits_exactly_once(carol):
    balance_top_up(user=carol, amount_fen=12_345, key="card-1")
    balance_top_up(user=carol, amount_fen=12_345, key="card-1")

    assert account_balance_fen(carol) == 12_345
    assert Transfer.objects.get(key="card-1").kind == TransferKind.TOP_UP


def test_a_buyer_without_an_account_has_nothing(carol):
    assert account_balance_fen(carol) == 0


@pytest.mark.parametrize("amount", [0, -1, True, False, 1.5, "100", None, 10**10 + 1, 10**30])
def test_a_top_up_refuses_a_bad_amount(carol, amount):
    with pytest.raises(InvalidInput) as refused:
        balance_top_up(user=carol, amount_fen=amount, key="card-1")

    assert refused.value.code == "invalid_amount"
    assert not Transfer.objects.exists()


def test_a_deposit_top_up_credits_exactly_once(world):
    deposit = user_account(user=world.seller.user, kind=AccountKind.DEPOSIT)
    before = deposit.balance_fen

    deposit_top_up(seller=world.seller, amount_fen=50_000, key="deposit-2")
    deposit_top_up(seller=world.seller, amount_fen=50_000, key="deposit-2")

    deposit.refresh_from_db()
    assert deposit.balance_fen == before + 50_000
    assert Transfer.objects.get(key="deposit-2").kind == TransferKind.DEPOSIT


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, "100", 10**10 + 1, 10**30])
def test_a_deposit_top_up_refuses_a_bad_amount(world, amount):
    transfers = Transfer.objects.count()

    with pytest.raises(InvalidInput) as refused:
        deposit_top_up(seller=world.seller, amount_fen=amount, key="deposit-2")

    assert refused.value.code == "invalid_amount"
    assert Transfer.objects.count() == transfers


def test_an_unpaid_evidence_order_moves_no_money(world, place_evidence):
    entries = Entry.objects.count()

    evidence = place_evidence()
    order_place(buyer=world.bob, address=world.bob_address, items=[(world.sku, 1)])
    orders_close_unpaid(now=evidence.pay_deadline)

    assert Entry.objects.count() == entries
    assert_ledger_balances()


def test_claim_money_flows_only_through_the_ledger(world, insured_line, place_evidence):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    claim = claim_adjudicate(
        claim=claim_file(
            order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
        )
    )
    claims_settle()

    claim.refresh_from_db()
    payout_rows = Entry.objects.filter(transfer__reference=f"claim:{claim.pk}")
    assert sorted(payout_rows.values_list("amount_fen", flat=True)) == [-1_000, 1_000]
    assert_ledger_balances()
