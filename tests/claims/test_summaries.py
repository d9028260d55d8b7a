"""The dashboard's figures read from the summaries equal the raw computation, to the fen, on a
varied book; the rollup follows changes incrementally, is harmless twice, and reconciliation
fails on a tampered summary row."""

from datetime import datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from claims import selectors as raw_claims
from claims.models import ClaimState
from claims.reconciliation import reconciliation_run
from claims.summaries import compute, read, refresh
from claims.summaries.check import summary_discrepancies
from claims.summaries.models import (
    BuyerBlockTally,
    BuyerTally,
    CoverageDayTally,
    CoverageTally,
    EffectTally,
    ItemSalesTally,
    LossDayTally,
    OpenPolicyTally,
    TallyMetric,
)
from insurance import selectors as raw_insurance
from insurance.models import Policy
from insurance.services import coverage_turn_on, policy_windows_advance
from orders import selectors as raw_orders
from orders.models import CampaignItem
from orders.services import order_pay, order_place, order_refund
from tests.admin.scenarios import in_review, lifecycle
from tests.factories import CampaignItemFactory, SkuFactory
from tests.tallies import refresh_tallies

pytestmark = pytest.mark.django_db

TALLIES = (
    CoverageTally,
    CoverageDayTally,
    OpenPolicyTally,
    LossDayTally,
    ItemSalesTally,
    EffectTally,
    BuyerTally,
    BuyerBlockTally,
)


@pytest.fixture
def book(world):
    """Two campaigns with paid, clawed-back, rejected and in-review claims; a refunded order
    (a voided policy and a premium refund); an uncovered item bought in the same order as a
    covered one; an unpaid order; a buyer who bought twice; a cap on one coverage."""
    uncovered = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=world.sku.listing, specs={"颜色": "白色"})
    )
    world.buy()
    world.buy()  # alice buys again: a repeat buyer
    both = order_place(buyer=world.bob, address=world.bob_address, items=[(world.sku, 2), (uncovered.sku, 1)])
    order_pay(order=both, buyer=world.bob)
    order_refund(order=world.buy(world.bob), reason="changed mind")
    order_place(buyer=world.bob, address=world.bob_address, items=[(uncovered.sku, 3)])  # unpaid
    world.set_terms(per_claim_cap_fen=2_000)  # policies issued from now on copy the cap
    lifecycle(world, buyers=3, extras=False)
    in_review(world, buyers=2)
    lifecycle(world, buyers=2, file_claims=False, extras=False)
    return world


def _same_figures(seller) -> None:
    figures = read.SellerFigures(seller)
    assert figures.policy_counts() == raw_insurance.seller_policy_counts(seller)
    assert figures.claim_counts() == raw_claims.seller_claim_counts(seller)
    assert figures.premium_totals() == raw_insurance.seller_premium_totals(seller)
    assert figures.payout_totals() == raw_claims.seller_payout_totals(seller)
    start = timezone.localdate() - timedelta(days=29)
    since = timezone.make_aware(datetime.combine(start, time.min))
    assert read.seller_claims_per_day(seller=seller, since=start) == raw_claims.seller_claims_per_day(
        seller=seller, since=since
    )
    rates = [(c.pk, c.policies, c.claimed, c.paid) for c in read.seller_claim_rates(seller)]
    assert rates == [(c.pk, c.policies, c.claimed, c.paid) for c in raw_claims.seller_claim_rates(seller)]
    assert read.coverage_effect(seller) == raw_insurance.coverage_effect(seller)
    assert read.open_policies_by_spec(seller) == raw_insurance.open_policies_by_spec(seller)
    items = list(CampaignItem.objects.values_list("pk", flat=True))
    assert read.campaign_item_sales(items) == raw_orders.campaign_item_sales(items)
    assert read.premiums_by_item(items) == raw_insurance.premiums_by_item(items)
    for drop_bp in (1, 1_000, 5_000, 10_000):  # the cap binds on some policies from 5,000 up
        exposure = read.seller_exposure(seller=seller, drop_bp=drop_bp)
        assert exposure == raw_insurance.seller_exposure(seller=seller, drop_bp=drop_bp)


def test_the_summaries_equal_the_raw_figures(book):
    book.buy(book.bob, quantity=3)  # an open policy under the capped terms
    refresh_tallies()
    _same_figures(book.seller)
    caps = set(OpenPolicyTally.objects.values_list("cap_fen", flat=True))
    assert caps == {0, 2_000}  # open policies issued with and without the product's cap
    figures = read.SellerFigures(book.seller)
    # The book is as varied as it says.
    assert {ClaimState.PAID, ClaimState.IN_REVIEW} <= set(figures.claim_counts())
    assert figures.premium_totals()["refunded"] > 0 and figures.payout_totals()["clawed_back"] > 0
    effect = read.coverage_effect(book.seller)
    assert effect["covered"]["repeat"] == 1 and effect["uncovered"]["placed"] == 2


def test_the_summaries_equal_the_raw_figures_across_many_blocks(book, monkeypatch):
    # Blocks of two ids: every policy, order and buyer block boundary is crossed.
    monkeypatch.setattr(compute, "BLOCK", 2)
    monkeypatch.setattr(refresh, "BLOCK", 2)
    refresh_tallies(full=True)
    assert CoverageTally.objects.values("block").distinct().count() > 3
    _same_figures(book.seller)
    assert reconciliation_run(trigger="command").ok


def test_the_rollup_follows_changes_incrementally(world):
    refresh_tallies()
    _same_figures(world.seller)
    lifecycle(world, buyers=2, extras=False)
    order = world.buy(world.bob)
    refresh_tallies()  # incremental: only what the audit log says changed
    _same_figures(world.seller)
    order_refund(order=order, reason="after sales")
    world.end_campaign(days_ago=20)
    policy_windows_advance()  # windows close: policies expire in a batch
    result = refresh_tallies()
    assert not result["full"] and result["policy_blocks"] >= 1
    _same_figures(world.seller)
    incremental = {model: sorted(map(str, model.objects.all())) for model in TALLIES}
    refresh_tallies(full=True)
    assert {model: sorted(map(str, model.objects.all())) for model in TALLIES} == incremental


def test_switching_coverage_on_counts_the_items_orders_as_covered(world):
    item = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=world.sku.listing, specs={"颜色": "蓝色"})
    )
    world.buy(sku=item.sku)
    refresh_tallies()
    assert read.coverage_effect(world.seller)["uncovered"]["buyers"] == 1
    coverage_turn_on(campaign_item=item, seller=world.seller)
    refresh_tallies()
    assert read.coverage_effect(world.seller)["covered"]["buyers"] == 1
    _same_figures(world.seller)


def test_running_the_rollup_twice_changes_nothing(book):
    refresh_tallies()
    before = {model: sorted(map(str, model.objects.all())) for model in TALLIES}
    second = refresh_tallies()
    assert second["policy_blocks"] == 0 and second["order_blocks"] == 0
    assert {model: sorted(map(str, model.objects.all())) for model in TALLIES} == before


def test_the_first_run_builds_everything(book):
    result = refresh.summaries_refresh()
    assert result["full"]
    _same_figures(book.seller)


def test_reconciliation_fails_on_a_tampered_summary_row(book):
    refresh_tallies()
    assert reconciliation_run(trigger="command").ok
    tally = CoverageTally.objects.filter(seller=book.seller, metric=TallyMetric.PREMIUM).first()
    CoverageTally.objects.filter(pk=tally.pk).update(fen=tally.fen + 1)

    run = reconciliation_run(trigger="command")

    assert not run.ok
    assert [d["code"] for d in run.discrepancies] == ["summary_mismatch"]
    assert "coveragetally" in run.discrepancies[0]["detail"]
    with pytest.raises(CommandError):
        call_command("reconcile")


@pytest.mark.parametrize("model", [EffectTally, BuyerBlockTally, OpenPolicyTally, ItemSalesTally])
def test_reconciliation_finds_each_kind_of_tampering(book, model):
    refresh_tallies()
    model.objects.filter(pk=model.objects.order_by("pk").first().pk).delete()
    assert [d.code for d in summary_discrepancies()] == ["summary_mismatch"]


def test_a_change_the_rollup_has_not_seen_is_not_a_discrepancy(book):
    refresh.summaries_refresh()  # as beat runs it: the last minute stays after the bookmark
    book.buy(book.bob)  # the next run counts it
    assert reconciliation_run(trigger="command").ok


def test_a_policy_changed_behind_the_audit_log_is_found(book):
    refresh_tallies()
    Policy.objects.filter(pk=Policy.objects.order_by("pk").first().pk).update(insured_fen=1)
    assert "summary_mismatch" in {d.code for d in summary_discrepancies()}
