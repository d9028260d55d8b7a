"""The seller dashboard: KPIs, the 'why' benefits, exposure, charts, the coverage switch,
the deposit, and the catalog (SKU prices, coupons)."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from alipay.models import AccountKind
from alipay.selectors import account_balance_fen
from claims.summaries.read import seller_exposure
from insurance.models import Coverage, SellerDecision
from insurance.services import coverage_turn_off
from shops.models import Coupon
from tests.factories import CampaignItemFactory, InsuranceProductFactory, SellerFactory, SkuFactory
from tests.tallies import refresh_tallies
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

# Session, user, seller (twice), its user, shops, campaigns, deposit, when the summaries were
# refreshed, and the summaries: figures, per day, per campaign (+ the campaigns), effect (2), exposure.
DASHBOARD_QUERIES = 18  # with the unread notices and the unclaimed drops (issue 11)


def test_the_dashboard_shows_premiums_payouts_benefits_and_charts(world, seller_client):
    world.buy()
    refresh_tallies()
    page = seller_client.get(reverse("insurance:dashboard")).content.decode()
    assert 'data-kpi="premiums">¥2.39' in page  # 1.5% of ¥159.00, half up
    assert 'data-kpi="deposit">¥9,997.61' in page
    for benefit in ("提升转化", "带动复购", "建立信任", "稳住价格心智"):
        assert benefit in page
    for chart in ("chart-daily", "chart-rates", "chart-effect"):
        assert f'id="{chart}"' in page
    effect = json.loads(
        re.search(r'<script id="chart-effect" type="application/json">(.*?)</script>', page).group(1)
    )
    assert effect["data"]["datasets"][0]["data"] == [100.0, 0.0]  # covered: all paid, no repeat yet
    assert "chart.umd.min.js" in page


def test_the_exposure_is_the_capped_sum_over_open_policies(world, seller_client, htmx):
    world.set_terms(per_claim_cap_fen=2_000)  # the policies copy the product's cap
    world.buy()
    world.buy(world.bob, quantity=2)
    refresh_tallies()  # the page reads the summaries
    # 10%: alice min(¥15.90, ¥20.00) + bob min(¥31.80, ¥20.00) = ¥35.90
    assert seller_exposure(seller=world.seller, drop_bp=1_000)["exposure_fen"] == 3_590
    page = seller_client.get(reverse("insurance:exposure"), {"drop": 10}, **htmx).content.decode()
    assert "data-exposure>¥35.90" in page
    page = seller_client.get(reverse("insurance:exposure"), {"drop": 5}, **htmx).content.decode()
    assert "data-exposure>¥23.85" in page  # ¥7.95 + ¥15.90
    page = seller_client.get(reverse("insurance:exposure"), {"drop": 500}, **htmx).content.decode()
    assert 'data-error-for="drop"' in page


def test_an_excluded_campaign_adds_no_exposure(world):
    world.buy()
    type(world.campaign).objects.filter(pk=world.campaign.pk).update(excluded_from_claims=True)
    assert seller_exposure(seller=world.seller, drop_bp=5_000)["exposure_fen"] == 0


def test_the_switch_turns_coverage_off_and_on(world, seller_client, htmx):
    url = reverse("insurance:coverage", args=[world.item.pk])
    response = seller_client.post(url, {}, **htmx)
    assert 'data-coverage="off"' in response.content.decode()
    assert not Coverage.objects.get(pk=world.coverage.pk).enabled
    response = seller_client.post(url, {"enabled": "on"}, **htmx)
    page = response.content.decode()
    assert 'data-coverage="on"' in page and "1.50%" in page
    coverage = Coverage.objects.get(pk=world.coverage.pk)
    assert coverage.enabled and coverage.premium_rate_bp == 150  # the terms survive the round trip


def test_the_switch_shows_the_cost_at_current_sales(world, seller_client, htmx):
    world.buy(quantity=2)
    world.buy(world.bob)
    refresh_tallies()
    page = seller_client.post(
        reverse("insurance:coverage", args=[world.item.pk]), {"enabled": "on"}, **htmx
    ).content.decode()
    assert "¥477.00" in page  # three pieces sold for ¥159.00
    assert "data-estimate>¥7.16" in page  # 1.5% of ¥477.00, half up


def test_a_new_item_is_switched_on_with_the_default_product(world, seller_client, htmx):
    item = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=world.sku.listing, specs={"颜色": "白色"})
    )
    page = seller_client.post(
        reverse("insurance:coverage", args=[item.pk]), {"enabled": "on"}, **htmx
    ).content.decode()
    assert 'data-coverage="on"' in page and "1.50%" in page  # the default product's Tmall rate
    assert item.coverage.product == world.product


def test_without_enough_deposit_the_switch_says_why(world, htmx):
    poor = SellerFactory()
    item = CampaignItemFactory(campaign__seller=poor)
    response = client_for(poor.user).post(
        reverse("insurance:coverage", args=[item.pk]), {"enabled": "on"}, **htmx
    )
    page = response.content.decode()
    assert 'data-coverage="off"' in page
    assert 'data-error-for="enabled">保证金不足' in page


def test_another_sellers_item_is_a_404(world, htmx):
    other = SellerFactory()
    response = client_for(other.user).post(reverse("insurance:coverage", args=[world.item.pk]), {}, **htmx)
    assert response.status_code == 404
    assert Coverage.objects.get(pk=world.coverage.pk).enabled


def test_without_htmx_the_switch_redirects_back(world, seller_client):
    response = seller_client.post(reverse("insurance:coverage", args=[world.item.pk]), {})
    assert response.status_code == 302 and response.url == reverse("insurance:campaigns")


def test_the_campaigns_page_lists_items_with_switches(world, seller_client, django_assert_num_queries):
    coverage_turn_off(coverage=world.coverage, seller=world.seller)
    # Three queries more than before products, however many items: the rates of the products
    # the items are covered by, and the products on offer (with their rates and the insurers'
    # decisions on the seller); one for the detected drops; one for when the summaries the
    # sales and premiums are read from were last brought up to date.
    with django_assert_num_queries(16):
        page = seller_client.get(reverse("insurance:campaigns")).content.decode()
    assert f'id="coverage-{world.item.pk}"' in page and 'data-coverage="off"' in page
    for _ in range(4):
        CampaignItemFactory(
            campaign=world.campaign, sku=SkuFactory(listing=world.sku.listing, specs={"n": str(_)})
        )
    world.buy()
    with django_assert_num_queries(16):
        page = seller_client.get(reverse("insurance:campaigns")).content.decode()
    assert page.count('role="switch"') == 5


def test_the_deposit_top_up_is_paid_once(world, seller_client):
    before = account_balance_fen(world.seller.user, AccountKind.DEPOSIT)
    data = {"amount": "1000", "key": "5b3f2a4e-1a2b-4c3d-8e9f-001122334455"}
    assert seller_client.post(reverse("insurance:deposit"), data).status_code == 302
    seller_client.post(reverse("insurance:deposit"), data)  # a double submit
    assert account_balance_fen(world.seller.user, AccountKind.DEPOSIT) - before == 100_000


def test_a_bad_deposit_amount_is_refused_next_to_the_field(world, seller_client):
    response = seller_client.post(
        reverse("insurance:deposit"), {"amount": "-5", "key": "5b3f2a4e-1a2b-4c3d-8e9f-001122334455"}
    )
    assert response.status_code == 400
    assert 'data-error-for="amount">金额格式不正确' in response.content.decode()


def test_the_seller_changes_a_price(world, seller_client):
    response = seller_client.post(
        reverse("shops:catalog"), {"form": "price", "sku": world.other_shop_sku.pk, "price": "149.00"}
    )
    assert response.status_code == 302
    world.other_shop_sku.refresh_from_db()
    assert world.other_shop_sku.price_fen == 14_900


def test_a_bad_price_is_refused_next_to_the_field(world, seller_client):
    response = seller_client.post(
        reverse("shops:catalog"), {"form": "price", "sku": world.sku.pk, "price": "0"}
    )
    assert response.status_code == 400
    assert 'data-error-for="price">金额必须是大于零的整数' in response.content.decode()


def test_another_sellers_sku_cannot_be_repriced(world):
    other = SellerFactory()
    response = client_for(other.user).post(
        reverse("shops:catalog"), {"form": "price", "sku": world.sku.pk, "price": "1.00"}
    )
    assert response.status_code == 404
    world.sku.refresh_from_db()
    assert world.sku.price_fen == 19_900


def test_the_catalog_warns_where_a_price_drop_would_pay_out(world, seller_client):
    world.buy()
    refresh_tallies()
    page = seller_client.get(reverse("shops:catalog")).content.decode()
    assert "同款有 1 份保单在保价期内" in page


def test_the_seller_issues_a_coupon(world, seller_client):
    response = seller_client.post(
        reverse("shops:catalog"),
        {
            "form": "coupon",
            "shop": world.tmall.pk,
            "name": "满100减8",
            "amount": "8",
            "min_spend": "100",
            "valid_days": 7,
        },
    )
    assert response.status_code == 302
    coupon = Coupon.objects.get(name="满100减8")
    assert (coupon.shop, coupon.amount_fen, coupon.min_spend_fen) == (world.tmall, 800, 10_000)


def test_a_coupon_without_an_amount_is_refused(world, seller_client):
    response = seller_client.post(
        reverse("shops:catalog"),
        {"form": "coupon", "shop": world.tmall.pk, "name": "x", "amount": "", "valid_days": 7},
    )
    assert response.status_code == 400
    assert 'data-error-for="amount"' in response.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "insurance:dashboard",
        "insurance:campaigns",
        "shops:catalog",
        "claims:seller_claims",
        "orders:seller_orders",
    ],
)
def test_seller_pages_are_for_sellers(world, seller_client, alice_client, name):
    assert seller_client.get(reverse(name)).status_code == 200
    assert alice_client.get(reverse(name)).status_code == 403
    assert Client().get(reverse(name)).status_code == 302


def test_the_dashboard_query_count_does_not_grow(world, seller_client, django_assert_num_queries):
    world.buy()
    refresh_tallies()
    with django_assert_num_queries(DASHBOARD_QUERIES):
        seller_client.get(reverse("insurance:dashboard"))
    for _ in range(4):
        world.buy(world.bob)
    refresh_tallies()
    with django_assert_num_queries(DASHBOARD_QUERIES):
        seller_client.get(reverse("insurance:dashboard"))


def test_conversion_and_repeat_purchase_compare_covered_and_uncovered_items(world):
    from insurance.selectors import coverage_effect
    from orders.services import order_place

    rice = CampaignItemFactory(campaign=world.campaign, sku=SkuFactory(listing__shop=world.tmall))
    world.buy()
    world.buy()  # alice comes back: a repeat buyer of a covered item
    order_place(buyer=world.bob, address=world.bob_address, items=[(world.sku, 1)])  # placed, never paid
    world.buy(world.bob, sku=rice.sku)
    effect = coverage_effect(world.seller)
    assert effect["covered"] == {
        "placed": 3,
        "paid": 2,
        "buyers": 1,
        "repeat": 1,
        "conversion_bp": 6_666,
        "repeat_bp": 10_000,
    }
    assert effect["uncovered"] == {
        "placed": 1,
        "paid": 1,
        "buyers": 1,
        "repeat": 0,
        "conversion_bp": 10_000,
        "repeat_bp": 0,
    }


def test_the_seller_picks_an_offered_product_the_default_preselected(world, seller_client, htmx):
    item = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=world.sku.listing, specs={"颜色": "白色"})
    )
    reviewed = InsuranceProductFactory(insurer=world.product.insurer, name="大额审核版", rates=250)
    page = seller_client.get(reverse("insurance:campaigns")).content.decode()
    row = page[page.index(f'id="item-{item.pk}"') :]
    assert f'<option value="{world.product.pk}" selected>' in row and "大额审核版 · 2.50%" in row

    response = seller_client.post(
        reverse("insurance:coverage", args=[item.pk]), {"enabled": "on", "product": reviewed.pk}, **htmx
    )

    page = response.content.decode()
    assert 'data-coverage="on"' in page and "data-rate>2.50%" in page
    assert f'<option value="{reviewed.pk}" selected>' in page
    assert Coverage.objects.get(campaign_item=item).product == reviewed


def test_a_product_not_offered_is_refused_beside_the_switch(world, seller_client, htmx):
    declined = InsuranceProductFactory(insurer=world.product.insurer, name="拒保产品")
    SellerDecision.objects.create(product=declined, seller=world.seller, accepted=False)
    url = reverse("insurance:coverage", args=[world.item.pk])

    page = seller_client.post(url, {"enabled": "on", "product": declined.pk}, **htmx).content.decode()

    assert 'data-error-for="enabled">请选择列表中的保险产品。' in page
    assert Coverage.objects.get(pk=world.coverage.pk).product == world.product
    assert "拒保产品" not in page


def test_a_campaign_excluded_from_claims_shows_no_premium(world, seller_client):
    type(world.campaign).objects.filter(pk=world.campaign.pk).update(excluded_from_claims=True)
    world.buy()

    page = seller_client.get(reverse("insurance:campaigns")).content.decode()

    assert "data-estimate>¥0.00" in page and "不支持理赔的活动不收保费" in page
