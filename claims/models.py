from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alipay.models import Transfer
from insurance.models import Policy
from orders.models import Order


class ClaimState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("人工审核中")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    PAID = "paid", _("已赔付")


# Being decided or waiting for payment: such a claim keeps its policy from expiring.
IN_FLIGHT_STATES = [ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.APPROVED]
# In flight or paid: a policy has at most one such claim.
ACTIVE_STATES = [*IN_FLIGHT_STATES, ClaimState.PAID]


class Claim(models.Model):
    number = models.CharField(_("理赔单号"), max_length=32)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    evidence_order_number = models.CharField(_("举证订单号"), max_length=32)
    evidence_order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_for"
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=ClaimState.choices, default=ClaimState.SUBMITTED
    )
    # Each check as {"code", "result": passed|failed|skipped, "params"}; messages are translated
    # from the code when shown, so buyer, seller and staff read them in their own language.
    checks = models.JSONField(_("判责明细"), default=list, blank=True)
    review_reasons = models.JSONField(_("转人工原因"), default=list, blank=True)
    price_difference_fen = models.BigIntegerField(_("差价(分)"), null=True, blank=True)
    compensation_fen = models.BigIntegerField(_("赔付金额(分)"), null=True, blank=True)
    filed_at = models.DateTimeField(_("申请时间"), db_index=True)
    decided_at = models.DateTimeField(_("判责时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(_("审核意见"), blank=True)
    paid_at = models.DateTimeField(_("赔付时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("理赔申请")
        verbose_name_plural = _("理赔申请")
        ordering = ["-filed_at", "-id"]
        constraints = [
            # Looked up whole, never by pattern: no pattern-ops index as unique=True would add.
            models.UniqueConstraint(fields=["number"], name="claim_number_unique"),
            # At most one claim in flight or paid per policy: a second is impossible, not unlikely.
            models.UniqueConstraint(
                fields=["policy"], condition=Q(state__in=ACTIVE_STATES), name="claim_one_active_per_policy"
            ),
            # An evidence order backs one claim (a rejected claim releases it).
            models.UniqueConstraint(
                fields=["evidence_order"],
                condition=Q(state__in=ACTIVE_STATES, evidence_order__isnull=False),
                name="claim_evidence_used_once",
            ),
            models.CheckConstraint(
                condition=Q(compensation_fen__isnull=True) | Q(compensation_fen__gt=0),
                name="claim_compensation_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "filed_at"]),
            # Settlement marks a batch by its paid_at and finds it again through this index.
            models.Index(fields=["state", "paid_at"]),
            # Settlement's queue, oldest first: only approved claims are in it, so paying a claim
            # adds no entry, and choosing the next batch does not walk past the ones paid before.
            models.Index(
                fields=["id"], condition=Q(state=ClaimState.APPROVED), name="claim_settlement_queue"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Payout(models.Model):
    """The money a claim paid into the buyer's Alipay balance. One per claim, ever."""

    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="payout")
    amount_fen = models.BigIntegerField(_("赔付金额(分)"))
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    clawed_back_fen = models.BigIntegerField(_("已追回(分)"), default=0)
    created_at = models.DateTimeField(_("赔付时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("赔付")
        verbose_name_plural = _("赔付")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payout_positive"),
            models.CheckConstraint(
                condition=Q(clawed_back_fen__gte=0, clawed_back_fen__lte=models.F("amount_fen")),
                name="payout_clawback_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} {self.amount_fen}"


class ReconciliationRun(models.Model):
    """One run of the ledger reconciliation, kept so staff can see when money last added up."""

    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    finished_at = models.DateTimeField(_("结束时间"))
    trigger = models.CharField(_("触发方式"), max_length=16)  # "beat", "command", "admin"
    ok = models.BooleanField(_("账务一致"))
    discrepancies = models.JSONField(_("差异"), default=list, blank=True)

    class Meta:
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'OK' if self.ok else 'DISCREPANCIES'}"
