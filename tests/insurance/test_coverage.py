"""Coverage (赠保价险): only the seller gifts it, per campaign item, and buyers see it before buying."""

import inspect

import pytest

from alipay.models import AccountKind
from alipay.selectors import account_balance_fen
from alipay.services import user_account
from core.errors import InvalidInput
from core.selectors import audit_history
from insurance import services as insurance_services
from insurance.errors import CoverageRefused
from insurance.models import Coverage, Policy, SellerAcceptance, SellerDecision
from insurance.selectors import products_for_item
from insurance.services import coverage_turn_off, coverage_turn_on, deposit_top_up
from orders import services as order_services
from orders.models import CampaignState
from orders.services import order_place
from tests.factories import (
    CampaignItemFactory,
    InsuranceProductFactory,
    InsurerFactory,
    ListingFactory,
    SellerFactory,
    SkuFactory,
)


@pytest.fixture
def uncovered_item(world):
    """A second item of the same campaign, with no coverage: a ¥99.00 SKU at ¥79.00."""
    sku = SkuFactory(listing=ListingFactory(shop=world.tmall), price_fen=9_900)
    return CampaignItemFactory(campaign=world.campaign, sku=sku, campaign_price_fen=7_900)


def turn_on(world, item, **kw) -> Coverage:
    return coverage_turn_on(campaign_item=item, seller=world.seller, **kw)


# --- fact 1: only sellers gift it ---------------------------------------------------------


def test_only_the_items_seller_can_turn_coverage_on(world, uncovered_item):
    """Fact 1: another seller cannot gift coverage on this seller's item; it is not even found."""
    rival = SellerFactory()
    deposit_top_up(seller=rival, amount_fen=1_000_000, key="rival-deposit")

    with pytest.raises(CoverageRefused) as refused:
        coverage_turn_on(campaign_item=uncovered_item, seller=rival)

    assert refused.value.code == "not_found"
    assert not Coverage.objects.filter(campaign_item=uncovered_item).exists()


def test_only_the_items_seller_can_turn_coverage_off(world):
    rival = SellerFactory()

    with pytest.raises(CoverageRefused) as refused:
        coverage_turn_off(coverage=world.coverage, seller=rival)

    assert refused.value.code == "not_found"
    world.coverage.refresh_from_db()
    assert world.coverage.enabled


def test_buyers_cannot_buy_the_insurance(world):
    """Fact 1: no service lets a buyer buy or turn on coverage: every insurance write path takes
    a seller (or runs for the platform), and placing an order has no insurance option."""
    for name, function in inspect.getmembers(insurance_services, inspect.isfunction):
        if function.__module__ == insurance_services.__name__:
            assert "buyer" not in inspect.signature(function).parameters, name
    assert "seller" in inspect.signature(coverage_turn_on).parameters
    place = inspect.signature(order_services.order_place).parameters
    assert not any("insur" in p or "cover" in p or "policy" in p for p in place)


def test_the_buyer_pays_nothing_for_the_gifted_coverage(world):
    """The premium is the seller's: the buyer pays the campaign price and no more."""
    alice_before = account_balance_fen(world.alice)
    deposit_before = user_account(user=world.seller.user, kind=AccountKind.DEPOSIT).balance_fen

    order = world.buy(succeed=False)

    assert order.paid_fen == 15_900
    assert account_balance_fen(world.alice) == alice_before - 15_900
    deposit_after = user_account(user=world.seller.user, kind=AccountKind.DEPOSIT).balance_fen
    assert deposit_before - deposit_after == world.line(order).policy.premium_fen == 239


# --- fact 2: visible before buying ------------------------------------------------------------


def test_buyers_see_whether_an_item_is_covered_before_buying(world, uncovered_item):
    """Fact 2: coverage is a row on the campaign item, readable before any order exists."""
    covered = {item.pk for item in world.campaign.items.filter(coverage__enabled=True)}

    assert covered == {world.item.pk}
    assert world.item.coverage.enabled is True
    assert not Coverage.objects.filter(campaign_item=uncovered_item).exists()
    assert not Policy.objects.exists()


def test_an_uncovered_item_gets_no_policy(world, uncovered_item):
    """Fact 2: not every product has it."""
    order = world.buy(sku=uncovered_item.sku)

    line = world.line(order)
    assert line.campaign_item == uncovered_item
    assert line.paid_fen == 7_900
    assert not Policy.objects.filter(order_line=line).exists()


# --- turning it on and off --------------------------------------------------------------------


def test_it_turns_coverage_on_under_the_default_product(world, uncovered_item):
    coverage = turn_on(world, uncovered_item)

    assert coverage.enabled and coverage.product == world.product
    # What a policy issued now would get, read from the product (1.5% on Tmall).
    assert (coverage.premium_rate_bp, coverage.window_days) == (150, 15)
    assert coverage.turned_on_at is not None
    [event] = audit_history(coverage)
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        "coverage_on",
        world.seller.user,
        "off",
        "on",
    )
    assert event.data["product"] == world.product.pk


def test_it_defaults_to_a_15_day_window(world, uncovered_item):
    assert turn_on(world, uncovered_item).window_days == 15


def test_turning_on_twice_turns_on_once(world, uncovered_item):
    first = turn_on(world, uncovered_item)

    again = turn_on(world, uncovered_item, product=world.product)

    assert again.pk == first.pk
    assert again.turned_on_at == first.turned_on_at
    assert audit_history(first).count() == 1


def test_turning_on_with_another_product_moves_the_item_for_new_policies_only(world):
    before = world.buy()
    other = InsuranceProductFactory(insurer=InsurerFactory(code="pingan", name="平安保险"), rates=200)

    coverage = turn_on(world, world.item, product=other)
    after = world.buy()

    assert coverage.pk == world.coverage.pk and coverage.product == other
    assert audit_history(coverage).filter(action="coverage_update").count() == 1
    old_policy, new_policy = world.line(before).policy, world.line(after).policy
    assert (old_policy.insurer.code, old_policy.premium_rate_bp, old_policy.premium_fen) == (
        "zhongan",
        150,
        239,
    )
    assert (new_policy.insurer.code, new_policy.premium_rate_bp, new_policy.premium_fen) == (
        "pingan",
        200,
        318,
    )


def test_turning_off_twice_turns_off_once(world):
    coverage_turn_off(coverage=world.coverage, seller=world.seller, reason="预算用完")
    first = Coverage.objects.get(pk=world.coverage.pk)

    again = coverage_turn_off(coverage=world.coverage, seller=world.seller, reason="预算用完")

    assert not again.enabled
    assert again.turned_off_at == first.turned_off_at
    assert audit_history(world.coverage).filter(action="coverage_off").count() == 1


def test_turning_off_stops_new_policies_but_keeps_issued_ones(world):
    before = world.buy()

    coverage_turn_off(coverage=world.coverage, seller=world.seller)
    after = world.buy()

    assert world.line(before).policy.coverage == world.coverage
    assert not Policy.objects.filter(order_line=world.line(after)).exists()
    assert Policy.objects.count() == 1


def test_it_can_be_turned_on_again(world):
    coverage_turn_off(coverage=world.coverage, seller=world.seller)

    coverage = turn_on(world, world.item)

    assert coverage.enabled
    assert Policy.objects.filter(order_line=world.line(world.buy())).exists()


def test_it_needs_enough_deposit(world):
    newcomer = SellerFactory()
    item = CampaignItemFactory(campaign__seller=newcomer)
    deposit_top_up(seller=newcomer, amount_fen=49_999, key="newcomer-deposit")

    with pytest.raises(CoverageRefused) as refused:
        coverage_turn_on(campaign_item=item, seller=newcomer)

    assert refused.value.code == "insufficient_deposit"
    assert refused.value.params == {"need": "¥500.00", "have": "¥499.99"}  # shown to sellers in yuan
    assert not Coverage.objects.filter(campaign_item=item).exists()

    deposit_top_up(seller=newcomer, amount_fen=1, key="newcomer-deposit-2")
    assert coverage_turn_on(campaign_item=item, seller=newcomer).enabled


def test_it_cannot_be_turned_on_after_the_campaign(world, uncovered_item):
    world.end_campaign()
    assert world.campaign.state == CampaignState.ENDED

    with pytest.raises(CoverageRefused) as refused:
        turn_on(world, uncovered_item)

    assert refused.value.code == "campaign_over"
    assert not Coverage.objects.filter(campaign_item=uncovered_item).exists()


def test_a_seller_cannot_set_the_insurers_terms(world):
    """Underwriting: rate, window, cap and review threshold come from the insurer's product."""
    parameters = set(inspect.signature(coverage_turn_on).parameters)

    assert parameters == {"campaign_item", "seller", "product"}
    with pytest.raises(TypeError):
        coverage_turn_on(campaign_item=world.item, seller=world.seller, premium_rate_bp=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("product", "decision", "code"),
    [
        ({"offered": False}, None, "product_withdrawn"),
        ({}, False, "seller_not_underwritten"),  # declined
        ({"seller_acceptance": SellerAcceptance.LISTED}, None, "seller_not_underwritten"),  # not listed
        ({"rates": {"taobao": 100}}, None, "platform_not_covered"),  # the item is on Tmall
    ],
)
def test_it_refuses_a_product_the_insurer_does_not_offer_the_seller(
    world, uncovered_item, product, decision, code
):
    offer = InsuranceProductFactory(insurer=world.product.insurer, **product)
    if decision is not None:
        SellerDecision.objects.create(product=offer, seller=world.seller, accepted=decision)

    with pytest.raises(CoverageRefused) as refused:
        turn_on(world, uncovered_item, product=offer)

    assert refused.value.code == code
    assert not Coverage.objects.filter(campaign_item=uncovered_item).exists()
    assert offer not in products_for_item(seller=world.seller, campaign_item=uncovered_item)


def test_a_listed_seller_may_pick_a_listed_product(world, uncovered_item):
    offer = InsuranceProductFactory(insurer=world.product.insurer, seller_acceptance=SellerAcceptance.LISTED)
    SellerDecision.objects.create(product=offer, seller=world.seller, accepted=True)

    assert turn_on(world, uncovered_item, product=offer).product == offer


def test_without_any_offer_it_says_so(world, uncovered_item):
    SellerDecision.objects.create(product=world.product, seller=world.seller, accepted=False)

    with pytest.raises(CoverageRefused) as refused:
        turn_on(world, uncovered_item)

    assert refused.value.code == "no_product"


def test_it_refuses_something_that_is_not_a_product(world, uncovered_item):
    with pytest.raises(InvalidInput) as refused:
        turn_on(world, uncovered_item, product=world.product.pk)

    assert refused.value.code == "invalid_product"


def test_a_live_campaign_item_may_be_covered_before_anyone_buys(world, uncovered_item):
    coverage = turn_on(world, uncovered_item)

    order = order_place(buyer=world.bob, address=world.bob_address, items=[(uncovered_item.sku, 1)])
    order_services.order_pay(order=order, buyer=world.bob)

    assert order.lines.get().policy.coverage == coverage
