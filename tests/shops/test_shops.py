"""Shops, the catalog, SKU prices and coupons."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import InvalidInput
from core.selectors import audit_history
from shops.models import Coupon, Listing, Sku, specs_key
from shops.services import MAX_PRICE_FEN, coupon_issue, sku_price_change
from tests.factories import CatalogProductFactory, ShopFactory, SkuFactory


def until():
    return timezone.now() + timedelta(days=7)


# --- the same product on several platforms --------------------------------------------------


def test_the_same_catalog_product_is_listed_on_tmall_and_taobao(world):
    """Fact 4: one catalog product, listed by several shops on several platforms."""
    product = world.sku.listing.product

    platforms = set(Listing.objects.filter(product=product).values_list("shop__platform", flat=True))

    assert platforms == {"tmall", "taobao"}
    assert world.sku.specs_key == world.other_shop_sku.specs_key == "尺码=M;颜色=黑色"


def test_a_product_is_listed_once_per_shop(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Listing.objects.create(shop=world.tmall, product=world.sku.listing.product, title="重复")


def test_a_catalog_product_is_unique_by_brand_and_model(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogProductFactory(brand="小米", model="Band 9")


def test_specs_are_compared_after_normalising_full_width_and_order():
    assert (
        specs_key({"颜色": "黑色", "尺码": "Ｍ "})
        == specs_key({" 尺码": "M", "颜色": "黑色"})
        == "尺码=M;颜色=黑色"
    )
    assert specs_key({"颜色": "白色", "尺码": "M"}) != specs_key({"颜色": "黑色", "尺码": "M"})
    assert specs_key({}) == ""


def test_a_listing_has_each_spec_combination_once(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        SkuFactory(listing=world.sku.listing, specs={"尺码": "M", "颜色": "黑色"})


# --- prices -----------------------------------------------------------------------------------


def test_it_changes_a_price(world):
    sku = sku_price_change(sku=world.other_shop_sku, price_fen=14_900, actor=world.seller.user)

    assert sku.price_fen == Sku.objects.get(pk=sku.pk).price_fen == 14_900
    event = audit_history(sku).get()
    assert (event.action, event.actor, event.data) == (
        "price_change",
        world.seller.user,
        {"from": 18_900, "to": 14_900},
    )


def test_changing_to_the_same_price_twice_changes_once(world):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    updated_at = Sku.objects.get(pk=world.other_shop_sku.pk).updated_at

    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    assert audit_history(world.other_shop_sku).count() == 1
    assert Sku.objects.get(pk=world.other_shop_sku.pk).updated_at == updated_at


def test_a_price_change_does_not_touch_placed_orders(world):
    order = world.buy(sku=world.other_shop_sku)

    sku_price_change(sku=world.other_shop_sku, price_fen=9_900)

    assert world.line(order).paid_fen == 18_900


@pytest.mark.parametrize("price", [0, -1, True, False, 1.5, "100", None, MAX_PRICE_FEN + 1, 10**30])
def test_it_refuses_a_bad_price(world, price):
    with pytest.raises(InvalidInput) as refused:
        sku_price_change(sku=world.other_shop_sku, price_fen=price)

    assert refused.value.code == "invalid_price"
    assert Sku.objects.get(pk=world.other_shop_sku.pk).price_fen == 18_900
    assert not audit_history(world.other_shop_sku).exists()


def test_it_accepts_the_highest_price(world):
    assert sku_price_change(sku=world.other_shop_sku, price_fen=MAX_PRICE_FEN).price_fen == MAX_PRICE_FEN


# --- coupons ------------------------------------------------------------------------------------


def test_it_issues_a_shop_coupon(world):
    coupon = coupon_issue(
        shop=world.tmall, name=" 满200减20 ", amount_fen=2_000, min_spend_fen=20_000, valid_until=until()
    )

    assert (coupon.shop, coupon.name, coupon.amount_fen, coupon.min_spend_fen) == (
        world.tmall,
        "满200减20",
        2_000,
        20_000,
    )
    assert not coupon.is_platform
    assert coupon.active
    assert coupon.valid_from <= timezone.now() < coupon.valid_until


def test_it_issues_a_platform_allowance_without_a_shop(db):
    red_packet = coupon_issue(shop=None, name="88VIP 红包", amount_fen=500, valid_until=until())

    assert red_packet.is_platform


@pytest.mark.parametrize(
    "kw,code",
    [
        ({"amount_fen": 0}, "invalid_amount"),
        ({"amount_fen": -500}, "invalid_amount"),
        ({"amount_fen": True}, "invalid_amount"),
        ({"amount_fen": 5.0}, "invalid_amount"),
        ({"amount_fen": MAX_PRICE_FEN + 1}, "invalid_amount"),
        ({"min_spend_fen": -1}, "invalid_amount"),
        ({"min_spend_fen": True}, "invalid_amount"),
        ({"min_spend_fen": "0"}, "invalid_amount"),
        ({"name": ""}, "invalid_name"),
        ({"name": "  "}, "invalid_name"),
        ({"name": "券" * 101}, "invalid_name"),
        ({"valid_until": timezone.now() - timedelta(seconds=1)}, "invalid_period"),
    ],
)
def test_it_refuses_a_bad_coupon(db, kw, code):
    shop = ShopFactory()
    terms = {"shop": shop, "name": "店铺券", "amount_fen": 500, "valid_until": until(), **kw}

    with pytest.raises(InvalidInput) as refused:
        coupon_issue(**terms)

    assert refused.value.code == code
    assert not Coupon.objects.exists()


def test_a_coupon_must_end_after_it_starts(db):
    start = timezone.now() + timedelta(days=1)

    with pytest.raises(InvalidInput) as refused:
        coupon_issue(shop=None, name="红包", amount_fen=500, valid_from=start, valid_until=start)

    assert refused.value.code == "invalid_period"
