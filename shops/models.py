import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import audit_actions_register


class Platform(models.TextChoices):
    TAOBAO = "taobao", _("淘宝")
    TMALL = "tmall", _("天猫")
    TMALL_GLOBAL = "tmall_global", _("天猫国际")


@audit_actions_register
class ShopAction(models.TextChoices):
    """What SKU and coupon audit rows record."""

    PRICE_CHANGE = "price_change", _("修改售价")
    COUPON_ISSUE = "coupon_issue", _("发放优惠券")


class Seller(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="seller")
    name = models.CharField(_("商家名称"), max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("商家")
        verbose_name_plural = _("商家")

    def __str__(self) -> str:
        return self.name


class Shop(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="shops")
    name = models.CharField(_("店铺名称"), max_length=128)
    platform = models.CharField(_("平台"), max_length=16, choices=Platform.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = _("店铺")
        constraints = [models.UniqueConstraint(fields=["platform", "name"], name="shop_unique_name")]

    def __str__(self) -> str:
        return f"{self.name}({self.get_platform_display()})"


class CatalogProduct(models.Model):
    """The product itself (brand + model, or barcode), whichever shop lists it."""

    brand = models.CharField(_("品牌"), max_length=64)
    model = models.CharField(_("型号"), max_length=128)
    name = models.CharField(_("商品名称"), max_length=200)
    barcode = models.CharField(_("条码"), max_length=32, null=True, blank=True, unique=True)
    # An insurer may price the risk per category (an insurance product's rate per platform and
    # category); empty when the product has none.
    category = models.CharField(_("类目"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("标准商品")
        verbose_name_plural = _("标准商品")
        constraints = [models.UniqueConstraint(fields=["brand", "model"], name="catalog_brand_model")]

    def __str__(self) -> str:
        return f"{self.brand} {self.model}"


class Listing(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="listings")
    product = models.ForeignKey(CatalogProduct, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField(_("宝贝标题"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("在售商品")
        verbose_name_plural = _("在售商品")
        constraints = [models.UniqueConstraint(fields=["shop", "product"], name="listing_once_per_shop")]

    def __str__(self) -> str:
        return self.title


def specs_key(specs: dict[str, str]) -> str:
    """A canonical text for spec values: ``{"尺码": "M", "颜色": "黑色"}`` → ``尺码=M;颜色=黑色``."""
    norm = {
        unicodedata.normalize("NFKC", str(k)).strip(): unicodedata.normalize("NFKC", str(v)).strip()
        for k, v in specs.items()
    }
    return ";".join(f"{k}={norm[k]}" for k in sorted(norm))


class Sku(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="skus")
    specs = models.JSONField(_("规格"), default=dict)
    specs_key = models.CharField(_("规格键"), max_length=255)
    price_fen = models.BigIntegerField(_("售价(分)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKU")
        constraints = [
            models.UniqueConstraint(fields=["listing", "specs_key"], name="sku_unique_specs"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="sku_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.listing.title} [{self.specs_key}]"


class Coupon(models.Model):
    """A shop coupon (店铺优惠) when it has a shop, a platform allowance or 红包 when it has none."""

    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.PROTECT, related_name="coupons")
    name = models.CharField(_("名称"), max_length=100)
    amount_fen = models.BigIntegerField(_("优惠金额(分)"))
    min_spend_fen = models.BigIntegerField(_("使用门槛(分)"), default=0)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="coupon_amount_positive"),
            models.CheckConstraint(condition=Q(min_spend_fen__gte=0), name="coupon_min_spend"),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="coupon_period"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_platform(self) -> bool:
        return self.shop_id is None


class PriceSource(models.TextChoices):
    ORDER_LINE = "order_line", _("成交")
    LIST_PRICE = "list_price", _("改价")
    CAMPAIGN_PRICE = "campaign_price", _("活动价")
    SHOP_COUPON = "shop_coupon", _("店铺券后价")


# How a buyer reads a price, by where it came from.
PRICE_WORDS = {
    PriceSource.ORDER_LINE: _("成交价"),
    PriceSource.LIST_PRICE: _("售价"),
    PriceSource.CAMPAIGN_PRICE: _("活动价"),
    PriceSource.SHOP_COUPON: _("券后价"),
}


class PriceRecord(models.Model):
    """One actual price of a catalog product + spec values (成交价记录), in any shop on any platform.

    A paid order line (its actual paid amount ÷ quantity, rounded up to the fen), or a SKU's public
    price whenever it changed. The source is a neutral reference (kind + id): shops sits below orders
    and never points at an order, and a record shows no buyer at all. ``order_ref`` is the order of
    an order-line record, so detection can leave out the insured order itself.
    """

    product = models.ForeignKey(CatalogProduct, on_delete=models.PROTECT, related_name="price_records")
    specs_key = models.CharField(_("规格键"), max_length=255)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="price_records")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="price_records")
    platform = models.CharField(_("平台"), max_length=16, choices=Platform.choices)
    unit_price_fen = models.BigIntegerField(_("成交单价(分)"))
    observed_at = models.DateTimeField(_("成交时间"))
    source = models.CharField(_("来源"), max_length=16, choices=PriceSource.choices)
    source_id = models.BigIntegerField(_("来源编号"))
    order_ref = models.BigIntegerField(_("订单编号"), null=True, blank=True)
    # A price of a campaign excluded from claims (e.g. 双11) proves no drop.
    excluded = models.BooleanField(_("不作为降价证据"), default=False)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("成交价记录")
        verbose_name_plural = _("成交价记录")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price_fen__gte=0), name="price_record_not_negative"),
            # An order line is recorded once, whoever calls twice.
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=Q(source="order_line"),
                name="price_record_line_once",
            ),
        ]
        indexes = [
            # "The lowest unit price of this product + spec in [t0, t1)": read in price order
            # from the index alone, stopping at the first record inside the window.
            models.Index(
                fields=["product", "specs_key", "unit_price_fen", "observed_at"],
                name="price_record_lookup",
                condition=Q(excluded=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.specs_key} {self.unit_price_fen} @ {self.observed_at:%Y-%m-%d %H:%M}"

    @property
    def price_word(self) -> str:
        return str(PRICE_WORDS.get(self.source, PRICE_WORDS[PriceSource.ORDER_LINE]))
