"""Underwriting: the insurer publishes products (保险产品) and prices the risk; each policy copies
its product's terms when it is issued, and they never change under it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alipay.models import Transfer, TransferKind
from insurance import terms
from insurance.models import InsuranceProduct, Premium, ProductRate
from insurance.selectors import products_for_item
from orders.models import Campaign
from shops.models import Platform
from tests.factories import (
    CampaignItemFactory,
    InsuranceProductFactory,
    ListingFactory,
    ShopFactory,
    SkuFactory,
)


def test_each_policy_carries_its_products_terms(world):
    world.set_terms(window_days=20, per_claim_cap_fen=8_000, review_threshold_fen=3_000, steep_drop_bp=4_000)

    policy = world.line(world.buy(succeed=False)).policy

    assert (policy.insurer, policy.product) == (world.product.insurer, world.product)
    assert (policy.premium_rate_bp, policy.window_days) == (150, 20)
    assert (policy.per_claim_cap_fen, policy.review_threshold_fen) == (8_000, 3_000)
    assert policy.risk_thresholds.steep_drop_bp == 4_000
    assert policy.risk_thresholds == world.product.risk_thresholds
    assert (policy.window_ends_at - policy.window_starts_at).days == 20


def test_changing_a_products_rate_changes_only_policies_issued_afterwards(world):
    before = world.line(world.buy(succeed=False)).policy

    world.set_terms(rate_bp=300, window_days=30, per_claim_cap_fen=1_000)
    after = world.line(world.buy(world.bob, succeed=False)).policy

    before.refresh_from_db()
    assert (before.premium_rate_bp, before.premium_fen, before.window_days, before.per_claim_cap_fen) == (
        150,
        239,  # 1.5% of ¥159.00, half up
        15,
        None,
    )
    assert (after.premium_rate_bp, after.premium_fen, after.window_days, after.per_claim_cap_fen) == (
        300,
        477,
        30,
        1_000,
    )
    assert Premium.objects.get(policy=before).amount_fen == 239


def test_the_rate_depends_on_the_platform_and_may_be_set_per_category(world):
    world.sku.listing.product.category = "智能穿戴"
    world.sku.listing.product.save(update_fields=["category"])
    ProductRate.objects.filter(product=world.product, platform=Platform.TMALL).update(rate_bp=120)
    assert world.line(world.buy(succeed=False)).policy.premium_rate_bp == 120

    ProductRate.objects.create(
        product=world.product, platform=Platform.TMALL, category="智能穿戴", rate_bp=180
    )

    policy = world.line(world.buy(world.bob, succeed=False)).policy
    assert (policy.premium_rate_bp, policy.premium_fen) == (180, 286)  # ¥159.00 × 1.8% = ¥2.862


def test_a_campaign_excluded_from_claims_pays_no_premium(world):
    Campaign.objects.filter(pk=world.campaign.pk).update(excluded_from_claims=True)

    policy = world.line(world.buy(succeed=False)).policy

    assert policy.premium_fen == 0 and policy.premium_rate_bp == 150
    assert not Premium.objects.filter(policy=policy).exists()
    assert not Transfer.objects.filter(kind=TransferKind.PREMIUM, reference=f"policy:{policy.pk}").exists()


def test_a_seller_is_offered_the_default_first_and_only_what_covers_the_item(world):
    taobao_only = InsuranceProductFactory(insurer=world.product.insurer, rates={Platform.TAOBAO: 90})
    other = InsuranceProductFactory(rates=200)
    withdrawn = InsuranceProductFactory(insurer=world.product.insurer, offered=False)
    tmall_item = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=ListingFactory(shop=world.tmall))
    )
    taobao_item = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=ListingFactory(shop=world.taobao))
    )

    on_tmall = products_for_item(seller=world.seller, campaign_item=tmall_item)
    on_taobao = products_for_item(seller=world.seller, campaign_item=taobao_item)

    assert on_tmall == [world.product, other]
    assert on_taobao == [world.product, taobao_only, other]
    assert withdrawn not in on_tmall + on_taobao


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window_days", terms.MIN_WINDOW_DAYS - 1),
        ("window_days", terms.MAX_WINDOW_DAYS + 1),
        ("per_claim_cap_fen", 0),
        ("review_threshold_fen", -1),
        ("steep_drop_bp", 0),
        ("steep_drop_bp", 10_001),
        ("shared_evidence_claims", 1),
    ],
)
def test_a_product_keeps_its_terms_in_range(world, field, value):
    product = InsuranceProduct(insurer=world.product.insurer, name="越界产品", **{field: value})

    with pytest.raises(ValidationError) as invalid:
        product.full_clean()

    assert field in invalid.value.message_dict


@pytest.mark.parametrize("rate", [terms.MIN_RATE_BP - 1, terms.MAX_RATE_BP + 1])
def test_the_database_refuses_a_rate_out_of_range(world, rate):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductRate.objects.create(product=world.product, platform=Platform.TMALL, category="x", rate_bp=rate)


def test_an_insurer_has_one_default_product(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        InsuranceProductFactory(insurer=world.product.insurer, is_default=True)


def test_a_platform_without_a_general_rate_is_not_covered(world):
    """A category rate only adjusts the platform's general rate: alone it covers nothing."""
    product = InsuranceProductFactory(insurer=world.product.insurer, rates={})
    ProductRate.objects.create(product=product, platform=Platform.TMALL, category="智能穿戴", rate_bp=100)

    assert product.rate_for(platform=Platform.TMALL, category="智能穿戴") is None
    global_shop = ShopFactory(seller=world.seller, platform=Platform.TMALL_GLOBAL)
    item = CampaignItemFactory(
        campaign=world.campaign, sku=SkuFactory(listing=ListingFactory(shop=global_shop))
    )
    assert product not in products_for_item(seller=world.seller, campaign_item=item)
