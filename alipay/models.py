"""The simulated Alipay: accounts and an append-only, double-entry ledger.

This app imports none of the product's apps; they all may use it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    BUYER = "buyer", _("买家余额")
    SELLER = "seller", _("商家余额")
    DEPOSIT = "deposit", _("聚划算保险保证金")
    INSURER = "insurer", _("保险公司")
    ESCROW = "escrow", _("担保交易")
    MARKETING = "marketing", _("平台营销补贴")
    EXTERNAL = "external", _("外部资金(充值)")


class Account(models.Model):
    code = models.CharField(_("账户编码"), max_length=64, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=AccountKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alipay_accounts",
    )
    name = models.CharField(_("户名"), max_length=128)
    allow_negative = models.BooleanField(_("允许负余额"), default=False)
    # A cache of the sum of this account's entries, moved in the same transaction as they are
    # written; reconciliation proves the two agree, the check constraint keeps it honest.
    balance_fen = models.BigIntegerField(_("余额(分)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("支付宝账户")
        verbose_name_plural = _("支付宝账户")
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance_fen__gte=0),
                name="alipay_account_no_negative_balance",
            ),
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=Q(user__isnull=False),
                name="alipay_account_one_per_user_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class TransferKind(models.TextChoices):
    TOP_UP = "top_up", _("充值")
    DEPOSIT = "deposit", _("缴纳保证金")
    ORDER_PAYMENT = "order_payment", _("订单付款")
    TRADE_SETTLEMENT = "trade_settlement", _("交易成功结算")
    REFUND = "refund", _("退款")
    PREMIUM = "premium", _("保险承保-价格保障保险-保费收取")
    PREMIUM_REFUND = "premium_refund", _("保险退保-退保保费支付")
    PAYOUT = "payout", _("价格保障保险理赔")
    CLAWBACK = "clawback", _("理赔款追回")


class Transfer(models.Model):
    """One movement of money: its entries sum to zero. Its key makes a repeat impossible."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(_("幂等键"), max_length=96)
    kind = models.CharField(_("类型"), max_length=24, choices=TransferKind.choices)
    memo = models.CharField(_("摘要"), max_length=255, blank=True)
    # What the money was for, as "<label>:<id>" (e.g. "claim:42"): Alipay knows no product model.
    reference = models.CharField(_("关联"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("资金流水")
        verbose_name_plural = _("资金流水")
        ordering = ["-created_at"]
        # Keys and references are looked up whole, never by pattern: plain b-tree indexes (a
        # unique=True / db_index=True CharField would add a second, pattern-ops index on PostgreSQL).
        constraints = [models.UniqueConstraint(fields=["key"], name="alipay_transfer_key_unique")]
        indexes = [models.Index(fields=["reference"], name="alipay_transfer_reference")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class Entry(models.Model):
    """One side of a transfer. Append-only: a correction is a new transfer."""

    # No index of their own: (transfer, account) and (account, -id) below lead with them.
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount_fen = models.BigIntegerField(_("金额(分)"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("账务分录")
        verbose_name_plural = _("账务分录")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="alipay_entry_not_zero"),
            models.UniqueConstraint(fields=["transfer", "account"], name="alipay_entry_one_per_account"),
        ]
        indexes = [models.Index(fields=["account", "-id"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_fen:+d}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are append-only")
