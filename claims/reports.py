"""The insurer's reports: premiums against claims paid (the loss ratio) per campaign, seller,
platform or insurer over a date range, and how long staff take to decide claims in review.

Every figure is limited to the insurers the viewer works for (``insurance.selectors.fenced``).
Reports join claims with premiums, so they live with claims, the app above insurance.
"""

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, ClaimState
from claims.selectors import CLAIM_INSURER
from claims.summaries.models import LossDayTally
from core.money import format_fen
from insurance.models import Insurer
from insurance.selectors import fenced, insurer_ids_of
from orders.models import Campaign
from shops.models import Platform, Seller


@dataclass(frozen=True)
class Period:
    """Calendar days in Asia/Shanghai, both ends included; an open end reaches as far as the data."""

    first: date | None = None
    last: date | None = None

    def filter(self, field: str) -> Q:
        q = Q()
        if self.first:
            q &= Q(**{f"{field}__gte": timezone.make_aware(datetime.combine(self.first, time.min))})
        if self.last:
            end = timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))
            q &= Q(**{f"{field}__lt": end})
        return q


def _names(
    model: type, label: Callable[[Any], str], select: tuple[str, ...] = ()
) -> Callable[[Iterable], dict]:
    """How a dimension names its groups: one query for every key shown."""

    def names(keys: Iterable) -> dict:
        rows = model.objects.filter(pk__in=list(keys)).select_related(*select)
        return {row.pk: label(row) for row in rows}

    return names


@dataclass(frozen=True)
class Dimension:
    label: Any
    tally_key: str  # the group's key in the loss tallies
    names: Callable[[Iterable], dict]


DIMENSIONS: dict[str, Dimension] = {
    "campaign": Dimension(
        _("聚划算活动"),
        "campaign_id",
        _names(Campaign, lambda c: f"{c.name}({c.seller.name})", select=("seller",)),
    ),
    "seller": Dimension(_("商家"), "seller_id", _names(Seller, str)),
    "platform": Dimension(
        _("平台"),
        "platform",
        lambda keys: {key: str(Platform(key).label) for key in keys},
    ),
    "insurer": Dimension(_("保险公司"), "insurer_id", _names(Insurer, str)),
}


def _ratio_percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "—"
    ratio = (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return f"{(ratio * 100).quantize(Decimal('0.01'))}%"


@dataclass(frozen=True)
class LossRow:
    name: str
    policies: int = 0
    premiums_charged_fen: int = 0
    premiums_refunded_fen: int = 0
    claims_paid: int = 0
    payouts_fen: int = 0
    clawbacks_fen: int = 0

    @property
    def premiums_net_fen(self) -> int:
        return self.premiums_charged_fen - self.premiums_refunded_fen

    @property
    def payouts_net_fen(self) -> int:
        return self.payouts_fen - self.clawbacks_fen

    @property
    def loss_ratio(self) -> Decimal | None:
        """Net payouts ÷ net premiums, to four places; none when no premium was earned."""
        if self.premiums_net_fen <= 0:
            return None
        ratio = Decimal(self.payouts_net_fen) / Decimal(self.premiums_net_fen)
        return ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def loss_ratio_percent(self) -> str:
        return _ratio_percent(self.payouts_net_fen, self.premiums_net_fen)

    @property
    def cells(self) -> list[Any]:
        """The figures as the report page shows them, in the order of ``LOSS_COLUMNS``."""
        amounts = (
            self.premiums_charged_fen,
            self.premiums_refunded_fen,
            self.premiums_net_fen,
        )
        paid = (self.payouts_fen, self.clawbacks_fen, self.payouts_net_fen)
        return [
            self.policies,
            *(format_fen(a) for a in amounts),
            self.claims_paid,
            *(format_fen(a) for a in paid),
            self.loss_ratio_percent,
        ]

    @property
    def csv_cells(self) -> list[Any]:
        return [
            self.policies,
            self.premiums_charged_fen,
            self.premiums_refunded_fen,
            self.premiums_net_fen,
            self.claims_paid,
            self.payouts_fen,
            self.clawbacks_fen,
            self.payouts_net_fen,
            "" if self.loss_ratio is None else str(self.loss_ratio),
        ]


LOSS_COLUMNS = (
    _("收费保单"),
    _("保费收取"),
    _("退保保费"),
    _("净保费"),
    _("赔付笔数"),
    _("赔付"),
    _("追回"),
    _("净赔付"),
    _("赔付率(净赔付÷净保费)"),
)
LOSS_CSV_COLUMNS = (
    _("收费保单"),
    _("保费收取(分)"),
    _("退保保费(分)"),
    _("净保费(分)"),
    _("赔付笔数"),
    _("赔付(分)"),
    _("追回(分)"),
    _("净赔付(分)"),
    _("赔付率"),
)


def loss_rows(*, user: AbstractBaseUser, by: str, period: Period) -> list[LossRow]:
    """Premiums charged and refunded, and claims paid, per group of ``by`` over ``period``, for
    the insurers ``user`` works for: one grouped query over the day tallies (the summaries, a
    rollup every 30 s) and one for the groups' names.

    A premium counts on the day it moved; a payout on the day it was paid, with whatever a later
    refund clawed back from it.
    """
    dimension = DIMENSIONS[by]
    tallies = LossDayTally.objects.all()
    insurer_ids = insurer_ids_of(user)
    if insurer_ids is not None:
        tallies = tallies.filter(insurer_id__in=insurer_ids)
    if period.first:
        tallies = tallies.filter(day__gte=period.first)
    if period.last:
        tallies = tallies.filter(day__lte=period.last)
    key = dimension.tally_key
    grouped = tallies.values(key).annotate(
        policies=Sum("policies"),
        charged=Sum("charged_fen"),
        refunded=Sum("refunded_fen"),
        claims=Sum("payouts"),
        paid=Sum("paid_fen"),
        clawed=Sum("clawed_fen"),
    )
    figures = {row[key]: row for row in grouped.order_by()}
    names = dimension.names(figures)
    rows = [
        LossRow(
            name=names.get(group, str(group)),
            policies=f.get("policies", 0),
            premiums_charged_fen=f.get("charged", 0),
            premiums_refunded_fen=f.get("refunded", 0),
            claims_paid=f.get("claims", 0),
            payouts_fen=f.get("paid", 0),
            clawbacks_fen=f.get("clawed", 0),
        )
        for group, f in figures.items()
    ]
    return sorted(rows, key=lambda row: row.name)


def loss_total(rows: list[LossRow]) -> LossRow:
    """Every group summed: each premium and payout belongs to exactly one group."""
    return LossRow(
        name=str(_("合计")),
        **{
            name: sum(getattr(row, name) for row in rows)
            for name in (
                "policies",
                "premiums_charged_fen",
                "premiums_refunded_fen",
                "claims_paid",
                "payouts_fen",
                "clawbacks_fen",
            )
        },
    )


def loss_csv(*, label: Any, rows: list[LossRow], total: LossRow) -> Iterator[list]:
    yield [str(label), *(str(c) for c in LOSS_CSV_COLUMNS)]
    for row in [*rows, total]:
        yield [row.name, *row.csv_cells]


# --- review turnaround ------------------------------------------------------------------------


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


@dataclass(frozen=True)
class TurnaroundRow:
    """Claims decided by staff after review, and how long they waited (hours)."""

    name: str
    approved: int
    rejected: int
    waits: tuple[float, ...]  # seconds from "to review" to the decision

    @property
    def decided(self) -> int:
        return self.approved + self.rejected

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def p90_seconds(self) -> float | None:
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]  # nearest rank

    @property
    def max_seconds(self) -> float | None:
        return max(self.waits) if self.waits else None

    @property
    def cells(self) -> list[Any]:
        return [
            self.decided,
            self.approved,
            self.rejected,
            _hours(self.median_seconds),
            _hours(self.p90_seconds),
            _hours(self.max_seconds),
        ]


TURNAROUND_COLUMNS = (
    _("已审核"),
    _("通过"),
    _("驳回"),
    _("等待时长中位数(小时)"),
    _("90% 在(小时)内"),
    _("最长(小时)"),
)


def _reviewed(user: AbstractBaseUser, period: Period) -> QuerySet[Claim]:
    return (
        fenced(Claim.objects.all(), user=user, insurer_path=CLAIM_INSURER)
        .filter(period.filter("decided_at"), review_started_at__isnull=False, decided_by__isnull=False)
        .exclude(state__in=[ClaimState.IN_REVIEW, ClaimState.SUBMITTED])
    )


def turnaround_rows(*, user: AbstractBaseUser, period: Period) -> list[TurnaroundRow]:
    """Per reviewer, the claims they decided after review in ``period`` and how long each
    waited from going to review until the decision."""
    per_reviewer: dict[str, dict[str, Any]] = defaultdict(lambda: {"approved": 0, "rejected": 0, "waits": []})
    rows = _reviewed(user, period).values_list(
        "decided_by__username", "state", "review_started_at", "decided_at"
    )
    for reviewer, state, started, decided in rows:
        group = per_reviewer[reviewer]
        group["rejected" if state == ClaimState.REJECTED else "approved"] += 1
        group["waits"].append((decided - started).total_seconds())
    return [
        TurnaroundRow(name=name, approved=g["approved"], rejected=g["rejected"], waits=tuple(g["waits"]))
        for name, g in sorted(per_reviewer.items())
    ]


def turnaround_total(rows: list[TurnaroundRow]) -> TurnaroundRow:
    return TurnaroundRow(
        name=str(_("合计")),
        approved=sum(row.approved for row in rows),
        rejected=sum(row.rejected for row in rows),
        waits=tuple(wait for row in rows for wait in row.waits),
    )


def review_backlog(user: AbstractBaseUser) -> dict[str, Any]:
    """Claims waiting for a decision now, and since when the oldest has waited."""
    waiting = fenced(Claim.objects.all(), user=user, insurer_path=CLAIM_INSURER).filter(
        state=ClaimState.IN_REVIEW
    )
    figures = waiting.aggregate(count=Count("pk"), oldest=Min("review_started_at"))
    return {"count": figures["count"], "oldest": figures["oldest"]}


def turnaround_csv(*, rows: list[TurnaroundRow], total: TurnaroundRow) -> Iterator[list]:
    yield [str(_("审核人")), *(str(c) for c in TURNAROUND_COLUMNS)]
    for row in [*rows, total]:
        yield [row.name, *row.cells]
