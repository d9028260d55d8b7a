"""Factories for the domain. Money is fen; times are aware."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from insurance import terms
from insurance.models import InsuranceProduct, Insurer, ProductRate
from orders.models import Address, Campaign, CampaignItem, CampaignState
from shops.models import (
    CatalogProduct,
    Listing,
    Platform,
    PriceRecord,
    PriceSource,
    Seller,
    Shop,
    Sku,
    specs_key,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-Secret-123")


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"seller{n}"))
    name = factory.Sequence(lambda n: f"品牌旗舰{n}")


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    seller = factory.SubFactory(SellerFactory)
    name = factory.Sequence(lambda n: f"店铺{n}")
    platform = Platform.TMALL


class CatalogProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogProduct

    brand = "小米"
    model = factory.Sequence(lambda n: f"MODEL-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.brand} {o.model}")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    shop = factory.SubFactory(ShopFactory)
    product = factory.SubFactory(CatalogProductFactory)
    title = factory.LazyAttribute(lambda o: f"{o.product.name} 官方正品")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    listing = factory.SubFactory(ListingFactory)
    specs = factory.LazyFunction(lambda: {"颜色": "黑色", "尺码": "M"})
    specs_key = factory.LazyAttribute(lambda o: specs_key(o.specs))
    price_fen = 19_900


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    seller = factory.SubFactory(SellerFactory)
    name = factory.Sequence(lambda n: f"聚划算 {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    state = CampaignState.LIVE


class CampaignItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignItem

    campaign = factory.SubFactory(CampaignFactory)
    sku = factory.SubFactory(SkuFactory, listing__shop__seller=factory.SelfAttribute("....campaign.seller"))
    campaign_price_fen = 15_900


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    recipient = "张三"
    phone = "13800138000"
    region = "浙江省 杭州市 余杭区"
    detail = "文一西路 969 号"


class InsurerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insurer
        django_get_or_create = ("code",)

    code = "zhongan"
    name = "众安保险"


class PriceRecordFactory(factory.django.DjangoModelFactory):
    """A public price of a SKU at a given time, as shops.services records it (for times the
    services cannot reach, such as the edge of a window)."""

    class Meta:
        model = PriceRecord

    sku = factory.SubFactory(SkuFactory)
    product_id = factory.LazyAttribute(lambda o: o.sku.listing.product_id)
    specs_key = factory.LazyAttribute(lambda o: o.sku.specs_key)
    shop_id = factory.LazyAttribute(lambda o: o.sku.listing.shop_id)
    platform = factory.LazyAttribute(lambda o: o.sku.listing.shop.platform)
    unit_price_fen = 9_900
    observed_at = factory.LazyFunction(timezone.now)
    source = PriceSource.LIST_PRICE
    source_id = factory.LazyAttribute(lambda o: o.sku.pk)


class InsuranceProductFactory(factory.django.DjangoModelFactory):
    """An insurer's product. ``rates=150`` puts one rate on every platform (the default rate when
    not given); ``rates={"tmall": 120}`` covers only the platforms named."""

    class Meta:
        model = InsuranceProduct
        skip_postgeneration_save = True

    insurer = factory.SubFactory(InsurerFactory)
    name = factory.Sequence(lambda n: f"价格保障保险 {n}")

    @factory.post_generation
    def rates(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        if not create:
            return
        extracted = terms.DEFAULT_RATE_BP if extracted is None else extracted
        pairs = (
            extracted.items() if isinstance(extracted, dict) else [(p, extracted) for p in Platform.values]
        )
        ProductRate.objects.bulk_create(
            ProductRate(product=obj, platform=platform, rate_bp=rate) for platform, rate in pairs
        )
