"""Fraud signals (风控, SPEC "Fraud signals"): a claim that passes every check but shows a signal goes
to staff review with the values the signal compared; an honest claim does not. The review threshold
and the default steep drop (half) are in test_review.py."""

from datetime import timedelta

import pytest
from django.db.models import F

from alipay.services import balance_top_up
from claims import rules
from claims.models import Claim, ClaimState
from claims.services import claim_adjudicate, claim_file
from core.selectors import audit_history
from insurance.services import policy_windows_advance
from shops.models import PriceRecord, PriceSource
from shops.services import sku_price_change
from tests.factories import AddressFactory

pytestmark = pytest.mark.django_db


def claim_decided(world, order, evidence, buyer=None) -> Claim:
    buyer = buyer or world.alice
    claim = claim_file(order_line=world.line(order), evidence_order_number=evidence.number, buyer=buyer)
    return claim_adjudicate(claim=claim)


def compared(claim: Claim) -> dict:
    """The values each review reason compared, as kept with the decision."""
    return audit_history(claim).get(action="claim_adjudicate").data["review"]


def bought_and_ended(world, buyer=None, address=None):
    order = world.buy(buyer, address=address)
    world.end_campaign()
    policy_windows_advance()
    return order


# --- steep drop: the product's own share --------------------------------------------------------


def test_a_drop_steeper_than_the_products_share_goes_to_review(world, place_evidence):
    world.set_terms(steep_drop_bp=1_000)  # more than 10 % below what was paid
    order = bought_and_ended(world)
    sku_price_change(sku=world.other_shop_sku, price_fen=13_900)  # 12.6 % below ¥159.00

    claim = claim_decided(world, order, place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["steep_drop"])
    assert compared(claim)["steep_drop"] == {"evidence_fen": 13_900, "paid_fen": 15_900}


def test_a_drop_within_the_products_share_is_approved(world, place_evidence):
    world.set_terms(steep_drop_bp=1_000)
    order = bought_and_ended(world)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)  # 6.3 % below

    claim = claim_decided(world, order, place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


# --- brief price: the evidence price went back up within the product's minutes ----------------


def test_a_price_restored_within_minutes_goes_to_review_with_how_long_it_stood(world, place_evidence):
    order = bought_and_ended(world)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = place_evidence()
    sku_price_change(sku=world.other_shop_sku, price_fen=18_900)  # back up at once

    claim = claim_decided(world, order, evidence)

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["brief_price"])
    values = compared(claim)["brief_price"]
    assert (values["price_fen"], values["next_price_fen"], values["limit"]) == (14_900, 18_900, 120)
    detail = rules.review_detail("brief_price", values)
    assert "¥149.00" in detail and "¥189.00" in detail and "120" in detail


def test_a_price_that_stood_longer_than_the_products_minutes_is_approved(world, place_evidence):
    order = bought_and_ended(world)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    # The lower price was set three hours ago; the evidence order came after it.
    PriceRecord.objects.filter(sku=world.other_shop_sku, source=PriceSource.LIST_PRICE).update(
        observed_at=F("observed_at") - timedelta(hours=3)
    )
    evidence = place_evidence()
    sku_price_change(sku=world.other_shop_sku, price_fen=18_900)

    claim = claim_decided(world, order, evidence)

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


def test_a_lower_price_still_on_sale_is_approved(world, place_evidence):
    order = bought_and_ended(world)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_decided(world, order, place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


# --- linked account: the evidence came from the seller or ships to the seller ------------------


def test_the_sellers_own_account_goes_to_review(world, place_evidence):
    """The seller buys the covered item as a buyer and claims it."""
    seller = world.seller.user
    address = AddressFactory(user=seller, phone="13700000001", detail="阿里巴巴西溪园区")
    balance_top_up(user=seller, amount_fen=1_000_000, key="seller-as-buyer")
    order = bought_and_ended(world, seller, address)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_decided(world, order, place_evidence(seller, address=address), buyer=seller)

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["linked_account"])
    assert compared(claim)["linked_account"] == {"link": "account", "value": seller.username}


def test_evidence_shipped_to_the_sellers_phone_goes_to_review(world, place_evidence):
    AddressFactory(user=world.seller.user, phone="13700000001", detail="阿里巴巴西溪园区")
    alices = AddressFactory(user=world.alice, phone="137 0000 0001")  # the seller's phone, spaced
    order = bought_and_ended(world, world.alice, alices)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_decided(world, order, place_evidence(address=alices))

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["linked_account"])
    values = compared(claim)["linked_account"]
    assert values == {"link": "phone", "value": "13700000001"}
    assert "13700000001" in rules.review_detail("linked_account", values)


def test_evidence_shipped_to_the_sellers_address_goes_to_review(world, place_evidence):
    AddressFactory(user=world.seller.user, phone="13700000001", detail="阿里巴巴西溪园区")
    alices = AddressFactory(user=world.alice, detail="阿里巴巴 西溪园区")
    order = bought_and_ended(world, world.alice, alices)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_decided(world, order, place_evidence(address=alices))

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["linked_account"])
    assert compared(claim)["linked_account"]["link"] == "address"


def test_a_buyer_unrelated_to_the_seller_is_approved(world, place_evidence):
    AddressFactory(user=world.seller.user, phone="13700000001", detail="阿里巴巴西溪园区")
    order = bought_and_ended(world)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_decided(world, order, place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


# --- shared evidence: one evidence order cited by several buyers within the product's hours ----


def cite(world, buyer, order, evidence) -> Claim:
    """Another buyer cites alice's evidence order for their own purchase (refused: not theirs)."""
    claim = claim_decided(world, order, evidence, buyer=buyer)
    assert claim.state == ClaimState.REJECTED
    return claim


@pytest.fixture
def three_buyers(world, mallory, mallory_address):
    orders = {
        "alice": world.buy(),
        "bob": world.buy(world.bob),
        "mallory": world.buy(mallory, address=mallory_address),
    }
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    return orders


def test_an_evidence_order_cited_by_three_buyers_goes_to_review(world, mallory, three_buyers, place_evidence):
    evidence = place_evidence()
    cite(world, world.bob, three_buyers["bob"], evidence)
    cite(world, mallory, three_buyers["mallory"], evidence)

    claim = claim_decided(world, three_buyers["alice"], evidence)

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["shared_evidence"])
    values = compared(claim)["shared_evidence"]
    assert values == {"number": evidence.number, "claimants": 3, "hours": 24}
    assert evidence.number in rules.review_detail("shared_evidence", values)


def test_an_evidence_order_cited_by_fewer_buyers_is_approved(world, three_buyers, place_evidence):
    evidence = place_evidence()
    cite(world, world.bob, three_buyers["bob"], evidence)

    claim = claim_decided(world, three_buyers["alice"], evidence)

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


def test_citations_older_than_the_products_hours_do_not_count(world, mallory, three_buyers, place_evidence):
    evidence = place_evidence()
    old = [
        cite(world, world.bob, three_buyers["bob"], evidence),
        cite(world, mallory, three_buyers["mallory"], evidence),
    ]
    Claim.objects.filter(pk__in=[c.pk for c in old]).update(filed_at=F("filed_at") - timedelta(hours=25))

    claim = claim_decided(world, three_buyers["alice"], evidence)

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])
