from collections import Counter

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alipay.models import Transfer
from core.models import audit_actions_register
from insurance.models import Policy
from orders.models import Order
from shops.models import CatalogProduct, PriceRecord


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


@audit_actions_register
class ClaimAction(models.TextChoices):
    """What a claim's audit rows record: the steps of its timeline as the buyer reads them."""

    FILE = "claim_file", _("提交理赔申请")
    ADJUDICATE = "claim_adjudicate", _("系统判责")
    REVIEW = "claim_review", _("保险公司人工审核")
    SETTLE = "claim_settle", _("赔款已打入支付宝余额")
    REJECT_REFUND = "claim_reject_refund", _("原订单退款,理赔关闭")
    REDUCE_REFUND = "claim_reduce_refund", _("原订单部分退款,赔付金额调整")
    PAYOUT_CLAWBACK = "payout_clawback", _("订单退款,理赔款追回")


class ClaimSource(models.TextChoices):
    EVIDENCE_ORDER = "evidence_order", _("举证订单")
    ONE_CLICK = "one_click", _("一键理赔")
    AUTOMATIC = "automatic", _("自动理赔")


PRICE_RECORD_SOURCES = [ClaimSource.ONE_CLICK, ClaimSource.AUTOMATIC]


class Claim(models.Model):
    number = models.CharField(_("理赔单号"), max_length=32)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    # A database default too: campaign-sized imports write claims with INSERT … SELECT.
    source = models.CharField(
        _("理赔方式"),
        max_length=16,
        choices=ClaimSource.choices,
        default=ClaimSource.EVIDENCE_ORDER,
        db_default=ClaimSource.EVIDENCE_ORDER,
    )
    evidence_order_number = models.CharField(_("举证订单号"), max_length=32, blank=True)
    evidence_order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_for"
    )
    # 一键理赔 and 自动理赔: the platform's own price record is the evidence (one record may prove
    # the drop of many policies).
    price_record = models.ForeignKey(
        PriceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
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
    filed_at = models.DateTimeField(_("申请时间"))  # indexed by claim_newest
    decided_at = models.DateTimeField(_("判责时间"), null=True, blank=True)
    # When the claim last went to staff review (adjudication, or a hold before payment): the
    # review queue waits from here, and turnaround is measured to the staff's decision.
    review_started_at = models.DateTimeField(_("转人工时间"), null=True, blank=True)
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
            # Evidence is an order number or a price record, by the way the claim was filed.
            models.CheckConstraint(
                condition=(
                    Q(source=ClaimSource.EVIDENCE_ORDER, price_record__isnull=True)
                    & ~Q(evidence_order_number="")
                )
                | Q(source__in=PRICE_RECORD_SOURCES, price_record__isnull=False, evidence_order__isnull=True),
                name="claim_evidence_by_source",
            ),
        ]
        indexes = [
            # Claim lists (seller, staff), newest first, paged by (filed_at, id).
            models.Index(fields=["-filed_at", "-id"], name="claim_newest"),
            # The review queue and each state's tab; the sweep's "submitted before" too.
            models.Index(fields=["state", "-filed_at", "-id"], name="claim_state_newest"),
            # The review queue, longest wait first (its id breaks ties): read in order, 50 at a time.
            models.Index(fields=["state", "review_started_at", "id"], name="claim_review_queue"),
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
    # Up to LISTED_PER_KIND details of each kind, and the true count of each kind.
    discrepancies = models.JSONField(_("差异"), default=list, blank=True)
    counts = models.JSONField(_("各类差异数"), default=dict, blank=True)

    class Meta:
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'OK' if self.ok else 'DISCREPANCIES'}"

    @property
    def discrepancy_total(self) -> int:
        """Every discrepancy found, listed or not (runs from before the counts: those listed)."""
        return sum(self.counts.values()) if self.counts else len(self.discrepancies)

    def summary(self) -> str:
        """``transfer_unbalanced: 150 (100 listed), ledger_not_zero: 1``."""
        listed = Counter(d["code"] for d in self.discrepancies)
        return ", ".join(
            f"{code}: {count}" + (f" ({listed[code]} listed)" if listed[code] < count else "")
            for code, count in self.counts.items()
        )


# The pre-aggregated figures live in their own module; importing them here registers them.
from claims.summaries.models import (  # noqa: E402, F401
    BuyerBlockTally,
    BuyerTally,
    CoverageDayTally,
    CoverageTally,
    EffectTally,
    ItemSalesTally,
    LossDayTally,
    OpenPolicyTally,
    SummaryState,
)


class PriceWatch(models.Model):
    """The lowest price recorded for one catalog product + spec values inside one claim window:
    what every open policy sharing that product, spec and window is compared with.

    Policies of one campaign item share a window, so a campaign of a million policies has a
    handful of watches; detection keeps each current from the new price records alone and only
    then touches the policies of the watches that changed (``pending``).
    """

    product = models.ForeignKey(CatalogProduct, on_delete=models.PROTECT, related_name="+")
    specs_key = models.CharField(_("规格键"), max_length=255)
    window_starts_at = models.DateTimeField(_("保价期开始"))
    window_ends_at = models.DateTimeField(_("保价期结束"))
    best_record = models.ForeignKey(
        PriceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    best_price_fen = models.BigIntegerField(_("最低成交单价(分)"), null=True, blank=True)
    # Price records up to this id were read into ``best_*`` (0: never computed yet).
    seen_up_to = models.BigIntegerField(default=0)
    # The best price changed and its policies have not all been brought up to it yet.
    pending = models.BooleanField(default=False)
    improved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("降价监测")
        verbose_name_plural = _("降价监测")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "specs_key", "window_starts_at", "window_ends_at"], name="price_watch_once"
            ),
        ]
        indexes = [models.Index(fields=["product", "specs_key"], name="price_watch_product")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.specs_key} {self.window_starts_at:%Y-%m-%d}"


class PriceDrop(models.Model):
    """A detected drop (主动保价): for one claimable policy, the lowest price record of the same
    product and spec inside its window, and what a claim on it would pay. One per policy; it only
    rises as lower prices appear, never silently falls."""

    policy = models.OneToOneField(Policy, on_delete=models.PROTECT, related_name="price_drop")
    # No index and no database constraint of its own: drops are read by policy, and half a million
    # drops proven by one record would each lock that record's row to check it. The record is one
    # detection just read (and price records are never deleted).
    record = models.ForeignKey(
        PriceRecord, on_delete=models.PROTECT, related_name="drops", db_index=False, db_constraint=False
    )
    unit_price_fen = models.BigIntegerField(_("成交单价(分)"))
    # The insured line's actual paid − unit price × its quantity.
    difference_fen = models.BigIntegerField(_("差价(分)"))
    # After the caps and any partial refund, as a claim filed when it was seen would pay.
    amount_fen = models.BigIntegerField(_("可赔金额(分)"))
    first_seen_at = models.DateTimeField(_("发现时间"))
    improved_at = models.DateTimeField(_("最近降价时间"))
    # When the amount last rose (a lower price under the cap): the buyer hears of it then.
    raised_at = models.DateTimeField(_("可赔金额上调时间"))

    class Meta:
        verbose_name = _("降价发现")
        verbose_name_plural = _("降价发现")
        ordering = ["-improved_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0, difference_fen__gt=0, unit_price_fen__gte=0),
                name="price_drop_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.amount_fen}"


class DetectionCursor(models.Model):
    """How far detection has read the price records: its high-water mark (one row per name).

    Each run reads the records after ``rescan_from`` — the mark of the run before the last — so a
    record whose transaction committed a little after a run read past its id is still seen by
    the next one. Re-reading is harmless: every write of detection only ever lowers a price.
    Policies that became claimable are followed the same way by their ``claimable_at``.
    """

    name = models.CharField(max_length=32, unique=True)
    seen_up_to = models.BigIntegerField(default=0)
    rescan_from = models.BigIntegerField(default=0)
    policies_seen_at = models.DateTimeField(null=True, blank=True)
    policies_rescan_from = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("降价检测进度")
        verbose_name_plural = _("降价检测进度")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_up_to}"
