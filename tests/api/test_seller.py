"""The seller's API: shops, listings, SKU prices, campaigns, coverage, policies, claims, payouts."""

import pytest

from insurance.models import Coverage, SellerDecision
from orders.models import CampaignState
from tests.api.conftest import client_for, error_of
from tests.factories import InsuranceProductFactory

V1 = "/api/v1/seller"


@pytest.fixture
def seller(world):
    return client_for(world.seller.user)


def test_it_lists_listings_with_their_skus(world, seller):
    listings = seller.get(f"{V1}/listings/").json()["results"]
    assert {listing["shop"] for listing in listings} == {world.tmall.pk, world.taobao.pk}
    tmall = next(listing for listing in listings if listing["shop"] == world.tmall.pk)
    assert tmall["product"]["name"] == "小米手环 9"
    assert [(s["id"], s["price_fen"], s["price_display"]) for s in tmall["skus"]] == [
        (world.sku.pk, 19_900, "¥199.00")
    ]


def test_it_changes_a_sku_price(world, seller):
    response = seller.patch(f"{V1}/skus/{world.other_shop_sku.pk}/", {"price_fen": 12_900}, format="json")
    assert response.status_code == 200
    assert (response.json()["price_fen"], response.json()["price_display"]) == (12_900, "¥129.00")
    world.other_shop_sku.refresh_from_db()
    assert world.other_shop_sku.price_fen == 12_900


@pytest.mark.parametrize("price", [0, -1, 10**10 + 1, "12.5", None])
def test_a_price_must_be_whole_positive_fen(world, seller, price):
    response = seller.patch(f"{V1}/skus/{world.sku.pk}/", {"price_fen": price}, format="json")
    assert error_of(response) == (400, "invalid")
    assert "price_fen" in response.json()["errors"]
    world.sku.refresh_from_db()
    assert world.sku.price_fen == 19_900


def test_put_is_not_offered(world, seller):
    response = seller.put(f"{V1}/skus/{world.sku.pk}/", {"price_fen": 100}, format="json")
    assert error_of(response) == (405, "method_not_allowed")


def test_it_lists_campaigns_and_their_items_with_coverage(world, seller):
    (campaign,) = seller.get(f"{V1}/campaigns/").json()["results"]
    assert (campaign["id"], campaign["state"], campaign["item_ids"]) == (
        world.campaign.pk,
        "live",
        [world.item.pk],
    )
    items = seller.get(f"{V1}/campaign-items/", {"campaign": world.campaign.pk}).json()["results"]
    (item,) = items
    assert item["covered"] is True
    assert item["campaign_price_display"] == "¥159.00"
    assert item["coverage"]["premium_rate_bp"] == 150
    assert item["coverage"]["insurer"]["code"] == "zhongan"
    assert seller.get(f"{V1}/campaign-items/", {"campaign": 999_999}).json()["count"] == 0
    assert error_of(seller.get(f"{V1}/campaign-items/", {"campaign": "x"})) == (400, "invalid")


def test_it_turns_coverage_off_and_on_again_under_an_offered_product(world, seller):
    url = f"{V1}/campaign-items/{world.item.pk}"
    off = seller.post(f"{url}/coverage-off/", {"reason": "预算用完"}, format="json")
    assert off.status_code == 200
    assert off.json()["covered"] is False
    assert seller.post(f"{url}/coverage-off/", {}, format="json").json()["covered"] is False  # again: no-op
    reviewed = InsuranceProductFactory(
        insurer=world.product.insurer,
        name="大额审核版",
        window_days=30,
        per_claim_cap_fen=5_000,
        review_threshold_fen=2_000,
        rates={"tmall": 200},
    )

    offered = seller.get(f"{url}/products/").json()
    assert [p["id"] for p in offered] == [world.product.pk, reviewed.pk]  # the default first
    assert offered[1]["rates"] == [{"platform": "tmall", "category": "", "rate_bp": 200}]
    on = seller.post(f"{url}/coverage-on/", {"product": reviewed.pk}, format="json")

    assert on.status_code == 200
    coverage = on.json()["coverage"]
    assert on.json()["covered"] is True
    assert coverage["product"]["name"] == "大额审核版"
    assert (coverage["premium_rate_bp"], coverage["window_days"], coverage["per_claim_cap_fen"]) == (
        200,
        30,
        5_000,
    )
    assert Coverage.objects.get(campaign_item=world.item).product == reviewed


def test_a_seller_cannot_set_a_rate_or_any_other_term(world, seller):
    url = f"{V1}/campaign-items/{world.item.pk}/coverage-on/"
    response = seller.post(url, {"premium_rate_bp": 1, "window_days": 90}, format="json")
    assert error_of(response) == (400, "terms_set_by_insurer")
    assert "premium_rate_bp, window_days" in response.json()["detail"]
    assert error_of(seller.post(url, {"product": 999_999}, format="json")) == (400, "invalid")
    assert Coverage.objects.get(campaign_item=world.item).product == world.product


def test_a_product_not_offered_to_the_seller_is_refused(world, seller):
    declined = InsuranceProductFactory(insurer=world.product.insurer)
    SellerDecision.objects.create(product=declined, seller=world.seller, accepted=False, note="理赔率过高")
    url = f"{V1}/campaign-items/{world.item.pk}"
    assert declined.pk not in [p["id"] for p in seller.get(f"{url}/products/").json()]
    response = seller.post(f"{url}/coverage-on/", {"product": declined.pk}, format="json")
    assert error_of(response) == (409, "seller_not_underwritten")


def test_coverage_cannot_be_turned_on_after_the_campaign(world, seller):
    world.end_campaign()
    response = seller.post(
        f"{V1}/campaign-items/{world.item.pk}/coverage-on/",
        {},
        format="json",
    )
    assert error_of(response) == (409, "campaign_over")


def test_coverage_needs_a_deposit(world, seller_b):
    client = client_for(seller_b.user)
    item = seller_b.campaigns.get().items.get()
    response = client.post(f"{V1}/campaign-items/{item.pk}/coverage-on/", {}, format="json")
    assert error_of(response) == (409, "insufficient_deposit")
    assert client.get(f"{V1}/campaign-items/{item.pk}/").json()["coverage"] is None


def test_it_lists_policies_claims_and_payouts_of_own_shops(world, scene, seller):
    (policy,) = seller.get(f"{V1}/policies/").json()["results"]
    assert (policy["order"], policy["buyer"], policy["state"]) == (scene.order.number, "alice", "claimed")
    assert (policy["insured_fen"], policy["premium_fen"], policy["premium_display"]) == (15_900, 239, "¥2.39")
    (claim,) = seller.get(f"{V1}/claims/").json()["results"]
    assert (claim["number"], claim["state"], claim["compensation_fen"]) == (scene.claim.number, "paid", 3_000)
    detail = seller.get(f"{V1}/claims/{scene.claim.number}/").json()
    assert [event["action"] for event in detail["timeline"]][:1] == ["claim_file"]
    (payout,) = seller.get(f"{V1}/payouts/").json()["results"]
    assert (payout["claim"], payout["amount_display"], payout["clawed_back_fen"]) == (
        scene.claim.number,
        "¥30.00",
        0,
    )


def test_seller_orders_show_the_orders_of_own_shops(world, scene, seller):
    numbers = {o["number"] for o in seller.get(f"{V1}/orders/").json()["results"]}
    assert numbers == {scene.order.number, scene.evidence.number}


def test_the_campaign_state_is_shown(world, seller):
    world.end_campaign()
    assert seller.get(f"{V1}/campaigns/{world.campaign.pk}/").json()["state"] == CampaignState.ENDED
