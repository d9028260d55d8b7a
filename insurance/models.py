from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alipay.models import Transfer
from core.models import audit_actions_register
from insurance import terms
from orders.models import CampaignItem, OrderLine
from shops.models import Platform, Seller


class Insurer(models.Model):
    """The underwriter: premiums are paid to it, payouts are paid by it."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("保险公司"), max_length=128)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="insurers")

    class Meta:
        verbose_name = _("保险公司")
        verbose_name_plural = _("保险公司")

    def __str__(self) -> str:
        return self.name


@audit_actions_register
class InsuranceAction(models.TextChoices):
    """What coverage and policy audit rows record."""

    COVERAGE_ON = "coverage_on", _("开启保价服务")
    COVERAGE_UPDATE = "coverage_update", _("更换保险产品")
    COVERAGE_OFF = "coverage_off", _("关闭保价服务")
    POLICY_ISSUE = "policy_issue", _("出具保单")
    POLICY_OPEN = "policy_open", _("保单可理赔")
    POLICY_EXPIRE = "policy_expire", _("保价期结束,保单过期")
    POLICY_VOID = "policy_void", _("保单失效(订单退款或关闭)")
    POLICY_CLAIMED = "policy_claimed", _("保单已理赔")
    PRODUCT_CREATE = "product_create", _("发布保险产品")
    PRODUCT_CHANGE = "product_change", _("修改保险产品")


class SellerAcceptance(models.TextChoices):
    OPEN = "open", _("所有商家(拒保名单除外)")
    LISTED = "listed", _("仅承保名单内的商家")


class InsuranceProduct(models.Model):
    """保险产品: the terms an insurer publishes. A seller turning coverage on picks one; each
    policy copies its terms when it is issued, so a later change applies only to later policies."""

    insurer = models.ForeignKey(Insurer, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(_("产品名称"), max_length=128)
    offered = models.BooleanField(
        _("在售"), default=True, help_text=_("停售后商家不能再选择;已开启的保价照常出单。")
    )
    is_default = models.BooleanField(_("默认产品"), default=False, help_text=_("商家开启保价时预先选中。"))
    window_days = models.PositiveSmallIntegerField(
        _("保价天数"), default=terms.DEFAULT_WINDOW_DAYS, validators=terms.window_days_validators()
    )
    per_claim_cap_fen = models.BigIntegerField(
        _("单次赔付上限(分)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(terms.MAX_TERM_FEN)],
    )
    review_threshold_fen = models.BigIntegerField(
        _("人工审核阈值(分)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(terms.MAX_TERM_FEN)],
        help_text=_("赔付金额超过此值的理赔转人工审核;留空则不按金额转人工。"),
    )
    seller_acceptance = models.CharField(
        _("承保商家"), max_length=8, choices=SellerAcceptance.choices, default=SellerAcceptance.OPEN
    )
    brief_price_minutes = models.PositiveIntegerField(
        _("短暂低价(分钟)"),
        default=terms.RISK_DEFAULTS.brief_price_minutes,
        validators=[MinValueValidator(1)],
        help_text=_("举证价格在这段时间内恢复(改回原价或撤销优惠券)的理赔转人工审核。"),
    )
    shared_evidence_claims = models.PositiveSmallIntegerField(
        _("同一举证的理赔数(笔)"),
        default=terms.RISK_DEFAULTS.shared_evidence_claims,
        validators=[MinValueValidator(2)],
        help_text=_("同一举证订单或成交价记录在下方时长内被这么多不同买家用于理赔时转人工审核。"),
    )
    shared_evidence_hours = models.PositiveSmallIntegerField(
        _("同一举证统计时长(小时)"),
        default=terms.RISK_DEFAULTS.shared_evidence_hours,
        validators=[MinValueValidator(1)],
    )
    new_account_burst_claims = models.PositiveSmallIntegerField(
        _("新账号集中理赔(笔)"),
        default=terms.RISK_DEFAULTS.new_account_burst_claims,
        validators=[MinValueValidator(2)],
        help_text=_("同一活动在下方时长内收到这么多笔活动开始后注册的账号的理赔时转人工审核。"),
    )
    new_account_burst_hours = models.PositiveSmallIntegerField(
        _("新账号集中统计时长(小时)"),
        default=terms.RISK_DEFAULTS.new_account_burst_hours,
        validators=[MinValueValidator(1)],
    )
    steep_drop_bp = models.PositiveIntegerField(
        _("大幅降价(万分之)"),
        default=terms.RISK_DEFAULTS.steep_drop_bp,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text=_("举证价格比实付款低出这个比例(5000 = 一半)时转人工审核。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("保险产品")
        verbose_name_plural = _("保险产品")
        ordering = ["insurer_id", "-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["insurer", "name"], name="product_name_per_insurer"),
            models.UniqueConstraint(
                fields=["insurer"], condition=Q(is_default=True), name="product_one_default_per_insurer"
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=terms.MIN_WINDOW_DAYS, window_days__lte=terms.MAX_WINDOW_DAYS),
                name="product_window",
            ),
            models.CheckConstraint(
                condition=Q(per_claim_cap_fen__isnull=True) | Q(per_claim_cap_fen__gt=0), name="product_cap"
            ),
            models.CheckConstraint(
                condition=Q(review_threshold_fen__isnull=True) | Q(review_threshold_fen__gte=0),
                name="product_review_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.insurer} · {self.name}"

    def rate_for(self, *, platform: str, category: str = "") -> int | None:
        """The premium rate (万分之) on one platform: the category's own rate if the product has
        one, else the platform's. A product covers a platform when it has the platform's general
        rate (a category rate only overrides it); none when it does not."""
        rates = {(rate.platform, rate.category): rate.rate_bp for rate in self.rates.all()}
        general = rates.get((platform, ""))
        if general is None or not category:
            return general
        return rates.get((platform, category), general)

    def offer_refusal(self, *, accepted: bool | None, platform: str, category: str) -> str | None:
        """Why this product cannot cover an item of a seller (a code of ``insurance.errors``), or
        None when it can.

        ``accepted`` is the insurer's word on the seller for this product (None: no word).
        """
        if not self.offered:
            return "product_withdrawn"
        if accepted is False or (self.seller_acceptance == SellerAcceptance.LISTED and not accepted):
            return "seller_not_underwritten"
        if self.rate_for(platform=platform, category=category) is None:
            return "platform_not_covered"
        return None

    @property
    def risk_thresholds(self) -> terms.RiskThresholds:
        return terms.RiskThresholds(**{name: getattr(self, name) for name in terms.RISK_DEFAULTS.as_dict()})


class ProductRate(models.Model):
    """A product's premium rate on one platform, or on one category of a platform (an override)."""

    product = models.ForeignKey(InsuranceProduct, on_delete=models.PROTECT, related_name="rates")
    platform = models.CharField(_("平台"), max_length=16, choices=Platform.choices)
    category = models.CharField(
        _("类目"), max_length=64, blank=True, default="", help_text=_("留空表示该平台所有类目。")
    )
    rate_bp = models.PositiveIntegerField(_("保费费率(万分之)"), validators=terms.rate_bp_validators())

    class Meta:
        verbose_name = _("费率")
        verbose_name_plural = _("费率")
        ordering = ["product_id", "platform", "category"]
        constraints = [
            models.UniqueConstraint(fields=["product", "platform", "category"], name="rate_once_per_scope"),
            models.CheckConstraint(
                condition=Q(rate_bp__gte=terms.MIN_RATE_BP, rate_bp__lte=terms.MAX_RATE_BP), name="rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.category or '*'} {self.rate_bp}"


class SellerDecision(models.Model):
    """An insurer's word on one seller for one product: underwrite (承保名单) or decline (拒保)."""

    product = models.ForeignKey(InsuranceProduct, on_delete=models.PROTECT, related_name="seller_decisions")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    accepted = models.BooleanField(_("承保"), help_text=_("不勾选即拒保该商家。"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("商家承保决定")
        verbose_name_plural = _("商家承保决定")
        constraints = [models.UniqueConstraint(fields=["product", "seller"], name="decision_once_per_seller")]

    def __str__(self) -> str:
        return f"{self.seller} {'✓' if self.accepted else '✗'}"


class Coverage(models.Model):
    """Price protection a seller gifts on one campaign item (赠保价险), under an insurer's product.

    The coverage holds no terms of its own: each policy copies the product's terms at issue.
    """

    campaign_item = models.OneToOneField(CampaignItem, on_delete=models.PROTECT, related_name="coverage")
    product = models.ForeignKey(InsuranceProduct, on_delete=models.PROTECT, related_name="coverages")
    enabled = models.BooleanField(_("已开启"), default=False)
    turned_on_at = models.DateTimeField(_("开启时间"), null=True, blank=True)
    turned_off_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("保价服务")
        verbose_name_plural = _("保价服务")

    def __str__(self) -> str:
        return f"{self.campaign_item}"

    @property
    def insurer(self) -> Insurer:
        return self.product.insurer

    @property
    def window_days(self) -> int:
        """The window a policy issued now gets (the badge's "若 N 天降价")."""
        return self.product.window_days

    @property
    def premium_rate_bp(self) -> int | None:
        """The rate a policy issued now pays, on this item's platform and category."""
        listing = self.campaign_item.sku.listing
        return self.product.rate_for(platform=listing.shop.platform, category=listing.product.category)

    @property
    def is_on(self) -> bool:
        """赠保价险 is switched on: new paid lines of the item get a policy."""
        return self.enabled

    @staticmethod
    def on_for(item: Any) -> "Coverage | None":
        """The campaign item's coverage when it is switched on, else None (reads ``item.coverage``)."""
        coverage = getattr(item, "coverage", None) if item is not None else None
        return coverage if coverage is not None and coverage.is_on else None


class PolicyState(models.TextChoices):
    PENDING = "pending", _("待生效")
    CLAIMABLE = "claimable", _("可理赔")
    CLAIMED = "claimed", _("已理赔")
    VOIDED = "voided", _("已失效(退款/关闭)")
    EXPIRED = "expired", _("已过期")


class Policy(models.Model):
    number = models.CharField(_("保单号"), max_length=32)
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="policies")
    # The terms, copied from the coverage's product when the policy is issued; they never change.
    insurer = models.ForeignKey(Insurer, on_delete=models.PROTECT, related_name="policies")
    product = models.ForeignKey(InsuranceProduct, on_delete=models.PROTECT, related_name="policies")
    premium_rate_bp = models.PositiveIntegerField(_("保费费率(万分之)"))
    window_days = models.PositiveSmallIntegerField(_("保价天数"))
    per_claim_cap_fen = models.BigIntegerField(_("单次赔付上限(分)"), null=True, blank=True)
    review_threshold_fen = models.BigIntegerField(_("人工审核阈值(分)"), null=True, blank=True)
    risk_terms = models.JSONField(_("风控阈值"), default=dict, blank=True)
    # One item of one order gets the service once (一笔订单的同一商品只能享受一次).
    order_line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="policy")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="policies")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="policies")
    state = models.CharField(
        _("状态"), max_length=16, choices=PolicyState.choices, default=PolicyState.PENDING
    )
    insured_fen = models.BigIntegerField(_("保险金额(实付款,分)"))
    premium_fen = models.BigIntegerField(_("保费(分)"))
    window_starts_at = models.DateTimeField(_("保价期开始"))
    window_ends_at = models.DateTimeField(_("保价期结束"))
    issued_at = models.DateTimeField(_("承保时间"), auto_now_add=True)
    claimable_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("保单")
        verbose_name_plural = _("保单")
        ordering = ["-issued_at", "-id"]
        constraints = [
            # Looked up whole, never by pattern: no pattern-ops index as unique=True would add.
            models.UniqueConstraint(fields=["number"], name="policy_number_unique"),
            models.CheckConstraint(
                condition=Q(window_ends_at__gt=models.F("window_starts_at")), name="policy_window"
            ),
            models.CheckConstraint(
                condition=Q(insured_fen__gte=0, premium_fen__gte=0), name="policy_amounts"
            ),
            models.CheckConstraint(
                condition=Q(
                    premium_rate_bp__gte=terms.MIN_RATE_BP,
                    premium_rate_bp__lte=terms.MAX_RATE_BP,
                    window_days__gte=terms.MIN_WINDOW_DAYS,
                    window_days__lte=terms.MAX_WINDOW_DAYS,
                ),
                name="policy_terms",
            ),
            models.CheckConstraint(
                condition=Q(per_claim_cap_fen__isnull=True) | Q(per_claim_cap_fen__gt=0), name="policy_cap"
            ),
        ]
        indexes = [
            # The staff list of policies, newest first.
            models.Index(fields=["-issued_at", "-id"], name="policy_newest"),
            models.Index(fields=["state", "window_starts_at"]),
            models.Index(fields=["state", "window_ends_at"]),
            # Price-drop detection walks the claimable policies in primary-key chunks, and follows
            # those that became claimable since its last run.
            models.Index(fields=["id"], condition=Q(state="claimable"), name="policy_claimable"),
            models.Index(
                fields=["claimable_at"], condition=Q(state="claimable"), name="policy_claimable_since"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def risk_thresholds(self) -> terms.RiskThresholds:
        return terms.RiskThresholds.from_dict(self.risk_terms)

    def window_contains(self, at: datetime) -> bool:
        """The claim window ``[window_starts_at, window_ends_at)`` holds ``at``."""
        return self.window_starts_at <= at < self.window_ends_at

    def window_phase(self, at: datetime) -> str:
        """``before``, ``open`` or ``closed``: where ``at`` falls against the claim window."""
        if at < self.window_starts_at:
            return "before"
        return "open" if at < self.window_ends_at else "closed"


class PremiumKind(models.TextChoices):
    CHARGE = "charge", _("保费收取")
    REFUND = "refund", _("退保保费")


class Premium(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="premiums")
    kind = models.CharField(_("类型"), max_length=8, choices=PremiumKind.choices)
    amount_fen = models.BigIntegerField(_("金额(分)"))
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("保费")
        verbose_name_plural = _("保费")
        constraints = [
            models.UniqueConstraint(fields=["policy", "kind"], name="premium_once_per_kind"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="premium_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.kind} {self.amount_fen}"
