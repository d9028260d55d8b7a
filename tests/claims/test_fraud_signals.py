"""Fraud signals (风控, SPEC "Fraud signals"): a claim that passes every check but shows a signal goes
to staff review with the values the signal compared; an honest claim does not. The review threshold
and the default steep drop (half) are in test_review.py."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from alipay.services import balance_top_up
from claims import rules
from claims.detection import price_drops_detect
from claims.models import Claim, ClaimState, PriceDrop
from claims.price_claims import claim_file_from_drop
from claims.services import claim_adjudicate, claim_file
from core.selectors import audit_history
from insurance.services import policy_windows_advance
from shops.models import PriceRecord, PriceSource
from shops.services import coupon_issue, sku_price_change
from tests.factories import AddressFactory, UserFactory

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


# --- shared price record: one order line's price behind the claims of several buyers -----------


def one_click_decided(drop: PriceDrop) -> Claim:
    return claim_adjudicate(claim=claim_file_from_drop(drop=drop, buyer=drop.policy.buyer))


def drops_of(orders: dict) -> dict:
    price_drops_detect()
    return {
        name: PriceDrop.objects.select_related("policy__buyer", "record").get(policy__order_line__order=order)
        for name, order in orders.items()
    }


def review_page(client, claim: Claim) -> str:
    return client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()


def test_one_cheap_sale_behind_three_buyers_claims_goes_to_review(world, three_buyers, admin_client):
    """The staged sale: one account pays ¥144.00 (¥149.00 less a platform red packet, no public
    price), and that single order line proves the drops of alice, bob and mallory."""
    carol = UserFactory(username="carol")
    balance_top_up(user=carol, amount_fen=1_000_000, key="carol-topup")
    red_packet = coupon_issue(
        shop=None, name="红包", amount_fen=500, valid_until=timezone.now() + timedelta(days=1)
    )
    carols = world.buy(
        carol, sku=world.other_shop_sku, address=AddressFactory(user=carol), platform_coupon=red_packet
    )
    drops = drops_of(three_buyers)
    record = drops["alice"].record
    assert record.source == PriceSource.ORDER_LINE and {d.record_id for d in drops.values()} == {record.pk}
    one_click_decided(drops["bob"])
    one_click_decided(drops["mallory"])

    claim = one_click_decided(drops["alice"])

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["shared_price_record"])
    values = compared(claim)["shared_price_record"]
    assert values["record"] == record.pk and values["shop"] == "小米淘宝店" and values["platform"] == "taobao"
    assert (values["price_fen"], values["claimants"], values["hours"]) == (14_400, 3, 24)
    detail = rules.review_detail("shared_price_record", values)
    assert "淘宝" in detail and "小米淘宝店" in detail and "¥144.00" in detail and f"#{record.pk}" in detail
    # the record, never the order or the account behind it
    assert set(values) == {"record", "platform", "shop", "observed_at", "price_fen", "claimants", "hours"}
    assert carols.number not in detail and "carol" not in detail
    page = review_page(admin_client, claim)
    assert "同一笔成交价记录被多个买家用于理赔" in page and detail in page


def test_a_public_price_behind_three_buyers_claims_is_approved(world, three_buyers):
    """The Taobao shop's list price of ¥149.00 is open to anyone: many buyers citing it is expected."""
    drops = drops_of(three_buyers)
    assert drops["alice"].record.source == PriceSource.LIST_PRICE
    one_click_decided(drops["bob"])
    one_click_decided(drops["mallory"])

    claim = one_click_decided(drops["alice"])

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


# --- new-account burst: many claims on one campaign from accounts created after it started -----


@pytest.fixture
def burst_terms(world):
    world.set_terms(new_account_burst_claims=3, new_account_burst_hours=1)


def claims_of_three(world, mallory, mallory_address, orders, place_evidence) -> list[Claim]:
    """bob and mallory claim with their own evidence orders, then alice."""
    return [
        claim_decided(world, orders["bob"], place_evidence(world.bob), buyer=world.bob),
        claim_decided(
            world, orders["mallory"], place_evidence(mallory, address=mallory_address), buyer=mallory
        ),
    ]


def test_a_burst_of_new_accounts_claims_goes_to_review(
    world, burst_terms, mallory, mallory_address, three_buyers, place_evidence, admin_client
):
    # alice, bob and mallory all signed up after the campaign started (the world is made so)
    assert world.alice.date_joined > world.campaign.starts_at
    claims_of_three(world, mallory, mallory_address, three_buyers, place_evidence)

    claim = claim_decided(world, three_buyers["alice"], place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.IN_REVIEW, ["new_account_burst"])
    values = compared(claim)["new_account_burst"]
    assert (values["claims"], values["hours"], values["limit"]) == (3, 1, 3)
    detail = rules.review_detail("new_account_burst", values)
    assert values["joined_at"] in detail and values["campaign_starts_at"] in detail and "3 笔" in detail
    page = review_page(admin_client, claim)
    assert "活动开始后注册的账号集中理赔" in page and detail in page


def test_the_product_form_shows_the_new_account_burst_thresholds(world, admin_client):
    page = admin_client.get(
        reverse("admin:insurance_insuranceproduct_change", args=[world.product.pk])
    ).content.decode()
    assert 'name="new_account_burst_claims"' in page and 'name="new_account_burst_hours"' in page


def test_accounts_older_than_the_campaign_are_not_a_burst(
    world, burst_terms, mallory, mallory_address, three_buyers, place_evidence
):
    User.objects.update(date_joined=world.campaign.starts_at - timedelta(days=30))
    world.alice.refresh_from_db()
    claims_of_three(world, mallory, mallory_address, three_buyers, place_evidence)

    claim = claim_decided(world, three_buyers["alice"], place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


def test_claims_spread_beyond_the_products_hours_are_not_a_burst(
    world, burst_terms, mallory, mallory_address, three_buyers, place_evidence
):
    earlier = claims_of_three(world, mallory, mallory_address, three_buyers, place_evidence)
    Claim.objects.filter(pk__in=[c.pk for c in earlier]).update(filed_at=F("filed_at") - timedelta(hours=2))

    claim = claim_decided(world, three_buyers["alice"], place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])


def test_the_default_thresholds_leave_a_few_new_accounts_alone(
    world, mallory, mallory_address, three_buyers, place_evidence
):
    assert (world.product.new_account_burst_claims, world.product.new_account_burst_hours) == (20, 1)
    claims_of_three(world, mallory, mallory_address, three_buyers, place_evidence)

    claim = claim_decided(world, three_buyers["alice"], place_evidence())

    assert (claim.state, claim.review_reasons) == (ClaimState.APPROVED, [])
