"""The storefront: listings per platform, Juhuasuan campaign pages, the 价保 badge on covered
items only, and the listing page."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.services import campaign_create, campaign_item_add
from shops.models import Platform
from tests.factories import CampaignItemFactory, ListingFactory, ShopFactory, SkuFactory

pytestmark = pytest.mark.django_db

BADGE = "赠保价险"


@pytest.fixture
def uncovered(world):
    """A second item in the live campaign without coverage: a rice cooker at ¥259.00."""
    return CampaignItemFactory(
        campaign=world.campaign,
        sku=SkuFactory(listing=ListingFactory(shop=world.tmall, title="米家电饭煲"), price_fen=29_900),
        campaign_price_fen=25_900,
    )


def _card(page: str, listing_id: int) -> str:
    start = page.index(f'data-listing="{listing_id}"')
    return page[start : page.index("</article>", start)]


def test_it_shows_listings_with_their_platform_and_campaign_price(world, uncovered):
    page = Client().get(reverse("orders:storefront")).content.decode()
    covered_card = _card(page, world.sku.listing_id)
    assert "天猫" in covered_card
    assert "¥159.00" in covered_card and "¥199.00" in covered_card
    assert BADGE in covered_card
    assert BADGE not in _card(page, uncovered.sku.listing_id)
    taobao_card = _card(page, world.other_shop_sku.listing_id)
    assert "淘宝" in taobao_card and "¥189.00" in taobao_card and BADGE not in taobao_card


def test_it_filters_by_platform(world):
    page = Client().get(reverse("orders:storefront"), {"platform": Platform.TAOBAO}).content.decode()
    assert f'data-listing="{world.other_shop_sku.listing_id}"' in page
    assert f'data-listing="{world.sku.listing_id}"' not in page


def test_the_campaign_page_has_a_countdown_and_badges_only_on_covered_items(world, uncovered):
    page = Client().get(reverse("orders:campaign", args=[world.campaign.pk])).content.decode()
    assert "data-countdown" in page and "距结束" in page
    covered = page[page.index(f'data-item="{world.item.pk}"') :]
    covered = covered[: covered.index("</article>")]
    assert BADGE in covered and "¥159.00" in covered
    rice = page[page.index(f'data-item="{uncovered.pk}"') :]
    assert BADGE not in rice[: rice.index("</article>")]


def test_an_excluded_campaign_says_so(world):
    from django.utils import timezone

    campaign = campaign_create(
        seller=world.seller,
        name="双11",
        starts_at=timezone.now() + timezone.timedelta(days=3),
        ends_at=timezone.now() + timezone.timedelta(days=4),
        excluded_from_claims=True,
        exclusion_note="双11订单不支持保价理赔",
    )
    campaign_item_add(campaign=campaign, sku=world.other_shop_sku, campaign_price_fen=9_900)
    page = Client().get(reverse("orders:campaign", args=[campaign.pk])).content.decode()
    assert "本活动不支持保价理赔" in page and "双11订单不支持保价理赔" in page
    assert "距开始" in page


def test_the_listing_page_offers_each_sku_with_the_badge_where_covered(world):
    page = Client().get(reverse("orders:listing", args=[world.sku.listing_id])).content.decode()
    assert f'value="{world.sku.pk}"' in page
    assert BADGE in page and "聚划算" in page
    assert Client().get(reverse("orders:listing", args=[999_999])).status_code == 404


def test_the_storefront_query_count_does_not_grow_with_listings(world, django_assert_num_queries):
    client = Client()
    url = reverse("orders:storefront")
    with django_assert_num_queries(4):
        client.get(url)
    for n in range(6):
        shop = ShopFactory(seller=world.seller, platform=Platform.TMALL_GLOBAL)
        item = CampaignItemFactory(
            campaign=world.campaign, sku__listing__shop=shop, campaign_price_fen=1_000 + n
        )
        SkuFactory(listing=item.sku.listing, specs={"颜色": "白色"}, price_fen=5_000)
    with django_assert_num_queries(4):
        page = client.get(url).content.decode()
    assert page.count("data-listing=") == 8
