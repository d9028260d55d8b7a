import re
import unicodedata
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import audit_actions_register
from shops.models import Coupon, Seller, Shop, Sku


class CampaignState(models.TextChoices):
    SCHEDULED = "scheduled", _("未开始")
    LIVE = "live", _("进行中")
    ENDED = "ended", _("已结束(保价期内)")
    SETTLED = "settled", _("保价期已结束")


@audit_actions_register
class OrderAction(models.TextChoices):
    """What an order's or a campaign's audit rows record, as buyers and sellers read it."""

    CAMPAIGN_CREATE = "campaign_create", _("创建活动")
    CAMPAIGN_ITEM_ADD = "campaign_item_add", _("添加活动商品")
    CAMPAIGN_ADVANCE = "campaign_advance", _("活动状态变更")
    ORDER_PLACE = "order_place", pgettext_lazy("order history", "提交订单")
    ORDER_PAY = "order_pay", _("付款成功(支付宝担保交易)")
    ORDER_SHIP = "order_ship", _("卖家已发货")
    ORDER_CONFIRM = "order_confirm", _("确认收货,交易成功")
    ORDER_CANCEL = "order_cancel", _("买家取消订单")
    ORDER_CLOSE_UNPAID = "order_close_unpaid", _("超时未付款,交易关闭")
    ORDER_REFUND = "order_refund", _("退款")
    ORDER_LINE_REFUND = "order_line_refund", _("部分退款")


class Campaign(models.Model):
    """A Juhuasuan (聚划算) flash campaign run by a seller."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(_("活动名称"), max_length=128)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    state = models.CharField(
        _("状态"), max_length=16, choices=CampaignState.choices, default=CampaignState.SCHEDULED
    )
    excluded_from_claims = models.BooleanField(_("不支持保价理赔"), default=False)
    exclusion_note = models.CharField(_("除外说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("聚划算活动")
        verbose_name_plural = _("聚划算活动")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaign_period"),
        ]
        indexes = [models.Index(fields=["state", "ends_at"])]

    def __str__(self) -> str:
        return self.name

    def runs_at(self, at: datetime) -> bool:
        """``at`` is inside the campaign's time ``[starts_at, ends_at)``, whatever the sweep set."""
        return self.starts_at <= at < self.ends_at

    def is_live_at(self, at: datetime) -> bool:
        """Juhuasuan prices apply: the campaign is live and ``at`` is inside it."""
        return self.state == CampaignState.LIVE and self.runs_at(at)

    @staticmethod
    def live_at_q(at: datetime, *, prefix: str = "") -> Q:
        """:meth:`is_live_at` as a filter, e.g. ``live_at_q(now, prefix="campaign__")``."""
        return Q(
            **{
                f"{prefix}state": CampaignState.LIVE,
                f"{prefix}starts_at__lte": at,
                f"{prefix}ends_at__gt": at,
            }
        )


class CampaignItem(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="items")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="campaign_items")
    campaign_price_fen = models.BigIntegerField(_("活动价(分)"))

    class Meta:
        verbose_name = _("活动商品")
        verbose_name_plural = _("活动商品")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sku"], name="campaign_item_once"),
            models.CheckConstraint(condition=Q(campaign_price_fen__gt=0), name="campaign_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.sku}"


def normalise_text(value: str) -> str:
    """Full-width → half-width, all white space removed: how shipping details are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))


class Address(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="addresses")
    recipient = models.CharField(_("收货人"), max_length=64)
    phone = models.CharField(_("手机号码"), max_length=32)
    region = models.CharField(_("所在地区"), max_length=128)
    detail = models.CharField(_("详细地址"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收货地址")
        verbose_name_plural = _("收货地址")

    def __str__(self) -> str:
        return f"{self.recipient} {self.phone} {self.region}{self.detail}"


class OrderState(models.TextChoices):
    CREATED = "created", _("待付款")
    PAID = "paid", _("待发货")
    SHIPPED = "shipped", _("已发货")
    SUCCEEDED = "succeeded", _("交易成功")
    CLOSED = "closed", _("交易关闭")
    REFUNDED = "refunded", _("已退款")


class Order(models.Model):
    number = models.CharField(_("订单号"), max_length=32, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    state = models.CharField(_("状态"), max_length=16, choices=OrderState.choices, default=OrderState.CREATED)
    # The shipping information as it was when the order was placed.
    ship_recipient = models.CharField(_("收货人"), max_length=64)
    ship_phone = models.CharField(_("手机号码"), max_length=32)
    ship_address = models.CharField(_("收货地址"), max_length=400)
    shop_coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    platform_coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item_total_fen = models.BigIntegerField(_("商品总价(分)"))
    shop_discount_fen = models.BigIntegerField(_("店铺优惠(分)"), default=0)
    platform_discount_fen = models.BigIntegerField(_("平台优惠(分)"), default=0)
    paid_fen = models.BigIntegerField(_("实付款(分)"))
    created_at = models.DateTimeField(_("下单时间"))  # indexed by order_newest
    pay_deadline = models.DateTimeField(_("付款截止"))
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("成交时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    paid_fen=F("item_total_fen") - F("shop_discount_fen") - F("platform_discount_fen")
                ),
                name="order_paid_is_total_less_discounts",
            ),
            models.CheckConstraint(condition=Q(paid_fen__gte=0), name="order_paid_not_negative"),
        ]
        indexes = [
            models.Index(fields=["state", "pay_deadline"]),
            # My Orders, newest first, paged by (created_at, id).
            models.Index(fields=["buyer", "-created_at", "-id"], name="order_buyer_newest"),
            # Seller and staff lists, newest first, paged by (created_at, id).
            models.Index(fields=["-created_at", "-id"], name="order_newest"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def shipping_key(self) -> tuple[str, str, str]:
        return (
            normalise_text(self.ship_recipient),
            normalise_text(self.ship_phone),
            normalise_text(self.ship_address),
        )


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="order_lines")
    campaign_item = models.ForeignKey(
        CampaignItem, null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price_fen = models.BigIntegerField(_("单价(分)"))
    item_total_fen = models.BigIntegerField(_("商品总价(分)"))
    shop_discount_fen = models.BigIntegerField(_("店铺优惠(分)"), default=0)
    platform_discount_fen = models.BigIntegerField(_("平台及达人优惠(分)"), default=0)
    paid_fen = models.BigIntegerField(_("实付款(分)"))
    refunded_fen = models.BigIntegerField(_("已退款(分)"), default=0)

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = _("订单商品")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(item_total_fen=F("unit_price_fen") * F("quantity")), name="line_total"
            ),
            models.CheckConstraint(
                condition=Q(
                    paid_fen=F("item_total_fen") - F("shop_discount_fen") - F("platform_discount_fen")
                ),
                name="line_paid_is_total_less_discounts",
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0, refunded_fen__lte=F("paid_fen"), paid_fen__gte=0),
                name="line_refund_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.sku}"
