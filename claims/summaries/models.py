"""Pre-aggregated figures the pages read instead of counting millions of rows.

Every tally is derived data: ``claims.summaries.refresh`` rebuilds a *block* (10,000
consecutive primary keys of policies or of orders) from the raw rows, so a rebuild is idempotent
and a block never needs the old figures to be right. The pages add up the blocks of one seller,
a few hundred rows however large the campaign. ``manage.py reconcile`` compares them with the raw
rows (``claims.summaries.check``).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from insurance.models import Coverage, Insurer
from orders.models import Campaign, CampaignItem
from shops.models import Platform, Seller

# Consecutive primary keys summarised together: small enough to rebuild in milliseconds,
# large enough that a seller's million policies are a hundred blocks.
BLOCK = 10_000


class TallyMetric(models.TextChoices):
    POLICY = "policy", _("保单")  # key: policy state; n policies, fen insured
    PREMIUM = "premium", _("保费")  # key: premium kind; n premiums, fen amount
    CLAIM = "claim", _("理赔")  # key: claim state; n claims
    CLAIMED = "claimed", _("有理赔的保单")  # n policies with at least one claim
    PAYOUT = "payout", _("赔付")  # n payouts, fen amount
    CLAWBACK = "clawback", _("追回")  # fen clawed back


class CoverageTally(models.Model):
    """Per block of policies and coverage: policies by state, premiums, claims by state,
    payouts and clawbacks."""

    block = models.IntegerField()
    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=16, choices=TallyMetric.choices)
    key = models.CharField(max_length=16, blank=True)
    n = models.BigIntegerField(default=0)
    fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("保单汇总")
        verbose_name_plural = _("保单汇总")
        constraints = [
            models.UniqueConstraint(fields=["block", "coverage", "metric", "key"], name="coverage_tally_once")
        ]

    def __str__(self) -> str:
        return f"{self.block}/{self.coverage_id} {self.metric}:{self.key} {self.n} {self.fen}"


class DayMetric(models.TextChoices):
    FILED = "filed", _("理赔申请")  # n claims filed that day
    PAID = "paid", _("赔付")  # n payouts made that day, fen paid


class CoverageDayTally(models.Model):
    """Per block of policies, coverage and day (Asia/Shanghai): claims filed and payouts made."""

    block = models.IntegerField()
    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    metric = models.CharField(max_length=16, choices=DayMetric.choices)
    n = models.BigIntegerField(default=0)
    fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("每日理赔汇总")
        verbose_name_plural = _("每日理赔汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["block", "coverage", "day", "metric"], name="coverage_day_tally_once"
            )
        ]
        indexes = [models.Index(fields=["seller", "day"])]

    def __str__(self) -> str:
        return f"{self.block}/{self.coverage_id} {self.day} {self.metric} {self.n} {self.fen}"


class OpenPolicyTally(models.Model):
    """Per block of policies, coverage, insured amount and per-claim cap: the policies that may
    still pay out (pending or claimable). Exposure is ``Σ n × min(insured × drop, cap)``, exact
    to the fen for any drop, because each row holds one insured amount and one cap (the cap each
    policy copied from its product at issue; 0 when it has none)."""

    block = models.IntegerField()
    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    insured_fen = models.BigIntegerField()
    cap_fen = models.BigIntegerField(default=0)  # the policies' per-claim cap; 0: none
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("在保保单汇总")
        verbose_name_plural = _("在保保单汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["block", "coverage", "insured_fen", "cap_fen"], name="open_policy_tally_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.block}/{self.coverage_id} {self.insured_fen}×{self.n}"


class LossDayTally(models.Model):
    """Per block of policies, day (Asia/Shanghai) and the insurer's report dimensions (insurer,
    campaign, seller, platform): premiums charged and refunded on that day, and payouts made on
    that day with what later refunds clawed back from them. The loss report adds these up."""

    block = models.IntegerField()
    day = models.DateField()
    insurer = models.ForeignKey(Insurer, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    policies = models.BigIntegerField(default=0)  # premiums charged (one per policy)
    charged_fen = models.BigIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)
    payouts = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    clawed_fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("赔付率汇总")
        verbose_name_plural = _("赔付率汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["block", "day", "insurer", "campaign", "seller", "platform"],
                name="loss_day_tally_once",
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return (
            f"{self.block}/{self.day} {self.insurer_id}/{self.campaign_id} {self.charged_fen} {self.paid_fen}"
        )


class ItemSalesTally(models.Model):
    """Per block of orders and campaign item: orders paid through Juhuasuan, pieces, what
    buyers paid and what was refunded."""

    block = models.IntegerField()
    campaign_item = models.ForeignKey(CampaignItem, on_delete=models.CASCADE, related_name="+")
    orders = models.BigIntegerField(default=0)
    pieces = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("活动商品销售汇总")
        verbose_name_plural = _("活动商品销售汇总")
        constraints = [
            models.UniqueConstraint(fields=["block", "campaign_item"], name="item_sales_tally_once")
        ]

    def __str__(self) -> str:
        return f"{self.block}/{self.campaign_item_id} {self.orders}"


class EffectTally(models.Model):
    """Per block of orders and seller: Juhuasuan orders placed and paid, with a line of a
    covered (or of an uncovered) campaign item — the conversion the dashboard compares."""

    block = models.IntegerField()
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    covered = models.BooleanField()
    placed = models.BigIntegerField(default=0)
    paid = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("转化汇总")
        verbose_name_plural = _("转化汇总")
        constraints = [
            models.UniqueConstraint(fields=["block", "seller", "covered"], name="effect_tally_once")
        ]

    def __str__(self) -> str:
        return f"{self.block}/{self.seller_id} {self.covered} {self.placed}/{self.paid}"


class BuyerTally(models.Model):
    """One buyer of one seller: succeeded orders in the seller's shops, and whether a succeeded
    order held a covered (an uncovered) campaign item of the seller — the repurchase inputs."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    succeeded_orders = models.IntegerField(default=0)
    bought_covered = models.BooleanField(default=False)
    bought_uncovered = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("买家复购汇总")
        verbose_name_plural = _("买家复购汇总")
        constraints = [models.UniqueConstraint(fields=["seller", "buyer"], name="buyer_tally_once")]

    def __str__(self) -> str:
        return f"{self.seller_id}/{self.buyer_id} {self.succeeded_orders}"


class BuyerBlockTally(models.Model):
    """Per seller and block of buyer ids: buyers of covered and of uncovered items, and those
    of them who bought again (from ``BuyerTally``)."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    block = models.IntegerField()
    buyers_covered = models.BigIntegerField(default=0)
    repeat_covered = models.BigIntegerField(default=0)
    buyers_uncovered = models.BigIntegerField(default=0)
    repeat_uncovered = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("复购汇总")
        verbose_name_plural = _("复购汇总")
        constraints = [models.UniqueConstraint(fields=["seller", "block"], name="buyer_block_tally_once")]

    def __str__(self) -> str:
        return f"{self.seller_id}/{self.block}"


class SummaryState(models.Model):
    """The rollup's bookmark: every change audited before ``safe_until`` is in the tallies."""

    name = models.CharField(max_length=32, primary_key=True)
    safe_until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return self.name
