from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alipay.models import Transfer
from orders.models import CampaignItem, OrderLine
from shops.models import Seller


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


class Coverage(models.Model):
    """Price protection a seller gifts on one campaign item (赠保价险)."""

    campaign_item = models.OneToOneField(CampaignItem, on_delete=models.PROTECT, related_name="coverage")
    insurer = models.ForeignKey(Insurer, on_delete=models.PROTECT, related_name="coverages")
    enabled = models.BooleanField(_("已开启"), default=False)
    premium_rate_bp = models.PositiveIntegerField(_("保费费率(万分之)"), default=100)
    window_days = models.PositiveSmallIntegerField(_("保价天数"), default=15)
    per_claim_cap_fen = models.BigIntegerField(_("单次赔付上限(分)"), null=True, blank=True)
    review_threshold_fen = models.BigIntegerField(_("人工审核阈值(分)"), null=True, blank=True)
    turned_on_at = models.DateTimeField(_("开启时间"), null=True, blank=True)
    turned_off_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("保价服务")
        verbose_name_plural = _("保价服务")
        constraints = [
            models.CheckConstraint(
                condition=Q(premium_rate_bp__gt=0, premium_rate_bp__lte=10_000), name="coverage_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=1, window_days__lte=90), name="coverage_window"
            ),
            models.CheckConstraint(
                condition=Q(per_claim_cap_fen__isnull=True) | Q(per_claim_cap_fen__gt=0), name="coverage_cap"
            ),
            models.CheckConstraint(
                condition=Q(review_threshold_fen__isnull=True) | Q(review_threshold_fen__gte=0),
                name="coverage_review_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_item}"

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
        ]
        indexes = [
            models.Index(fields=["state", "window_starts_at"]),
            models.Index(fields=["state", "window_ends_at"]),
        ]

    def __str__(self) -> str:
        return self.number

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
