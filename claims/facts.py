"""What adjudication reads, as plain values: the insured line and its policy, the evidence, the
claim's filing time. The checks (claims/rules.py) and the decision (claims/decision.py) see only
these, so they run without the database; the loaders below are the only part that queries it.

Evidence comes in kinds. An evidence order (举证订单) is the buyer's own unpaid order; another kind
(a price record, an observed price of the same product and specs) fills the same fields it has and
leaves the rest empty, and the checks that do not apply to it say so (``Check.kinds``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser

from claims.models import ACTIVE_STATES, Claim
from insurance.models import Policy, PolicyState
from insurance.terms import RISK_DEFAULTS, RiskThresholds
from orders.models import Address, Campaign, Order, OrderLine, normalise_text
from shops.models import PriceRecord, PriceSource

ORDER = "order"  # the evidence kind of an evidence order (举证订单)
RECORD = "record"  # the platform's own price record (成交价记录): 一键理赔 and 自动理赔


@dataclass(frozen=True)
class Insured:
    """The insured order line, its order and its policy."""

    order_id: int
    buyer_id: int
    order_state: str
    succeeded_at: datetime | None
    shipping_key: tuple[str, ...]
    product_id: int
    specs_key: str
    quantity: int
    paid_fen: int
    refunded_fen: int
    policy_voided: bool
    window_starts_at: datetime
    window_ends_at: datetime
    campaign_excluded: bool
    cap_fen: int | None
    review_threshold_fen: int | None

    # The window rule has one home, the policy's; these facts carry the same two fields.
    window_contains = Policy.window_contains
    window_phase = Policy.window_phase

    @property
    def window_days(self) -> int:
        """The policy's own window: fixed at issue, whatever the coverage says today."""
        return (self.window_ends_at - self.window_starts_at).days


@dataclass(frozen=True)
class EvidenceLine:
    """The evidence's price for the insured product: the whole line, for its quantity."""

    product_id: int
    specs_key: str
    quantity: int
    paid_fen: int
    sku_id: int | None = None  # the SKU bought (an evidence order's line)


@dataclass(frozen=True)
class Evidence:
    """What the claim cites. ``line`` is None when the evidence has no line of the insured product."""

    number: str
    kind: str = ORDER
    found: bool = True
    order_id: int | None = None
    buyer_id: int | None = None
    shipping_key: tuple[str, ...] | None = None
    created_at: datetime | None = None  # when the evidence showed its price
    line: EvidenceLine | None = None
    used_elsewhere: bool = False  # already backs another claim in flight or paid


@dataclass(frozen=True)
class ListPrice:
    """A SKU's list price from the change that set it to the change that ended it (if one has)."""

    price_fen: int
    set_at: datetime
    ended_at: datetime | None = None
    next_price_fen: int | None = None


@dataclass(frozen=True)
class RecordSeen:
    """A price record cited as evidence, as staff and the seller may read it: where and when the
    price was seen and what it was, never whose order it was."""

    record_id: int
    source: str
    platform: str
    shop: str
    observed_at: datetime
    unit_price_fen: int


@dataclass(frozen=True)
class Risk:
    """What the fraud signals (风控) read beyond the claim: the policy's thresholds, who the seller
    is, and how long the evidence's price stood. Unknown facts are empty, and no signal fires on them."""

    thresholds: RiskThresholds = RISK_DEFAULTS
    seller_user_id: int | None = None
    seller_username: str = ""
    # The seller's own shipping contacts (their addresses as a buyer), normalised as orders are.
    seller_phones: frozenset[str] = frozenset()
    seller_addresses: frozenset[str] = frozenset()
    evidence_list_price: ListPrice | None = None
    # Different buyers whose claims cited this evidence order within the shared-evidence hours
    # before this claim was filed (this claim's buyer included); for a price record, the buyers
    # whose claims cited that record.
    evidence_claimants: int = 0
    evidence_record: RecordSeen | None = None  # the cited price record (a record's claims only)
    # New-account burst: when the campaign started and the claimant's account was created, and
    # (for a claimant created after the start) the claims on the campaign from such accounts
    # within the burst hours up to this claim, this one included.
    campaign_starts_at: datetime | None = None
    claimant_joined_at: datetime | None = None
    new_account_claims: int = 0


@dataclass(frozen=True)
class Facts:
    insured: Insured
    evidence: Evidence
    claimant_id: int
    filed_at: datetime | None = None  # None before filing: hints run the evidence checks only
    other_claim_active: bool = False  # the policy has another claim in flight or paid
    risk: Risk = Risk()


def insured_facts(policy: Policy, line: OrderLine | None = None) -> Insured:
    """The insured side, read from the policy and its line (with order, SKU, listing, coverage and
    campaign already loaded by the caller)."""
    line = line or policy.order_line
    order = line.order
    return Insured(
        order_id=order.pk,
        buyer_id=order.buyer_id,
        order_state=order.state,
        succeeded_at=order.succeeded_at,
        shipping_key=order.shipping_key,
        product_id=line.sku.listing.product_id,
        specs_key=line.sku.specs_key,
        quantity=line.quantity,
        paid_fen=line.paid_fen,
        refunded_fen=line.refunded_fen,
        policy_voided=policy.state == PolicyState.VOIDED,
        window_starts_at=policy.window_starts_at,
        window_ends_at=policy.window_ends_at,
        campaign_excluded=line.campaign_item.campaign.excluded_from_claims,
        cap_fen=policy.per_claim_cap_fen,
        review_threshold_fen=policy.review_threshold_fen,
    )


def evidence_line(lines: list[OrderLine], insured: Insured) -> OrderLine | None:
    """The evidence order's line of the insured catalog product; the same specs, then the same
    quantity, first."""
    candidates = [line for line in lines if line.sku.listing.product_id == insured.product_id]
    candidates.sort(
        key=lambda line: (line.sku.specs_key != insured.specs_key, line.quantity != insured.quantity)
    )
    return candidates[0] if candidates else None


def order_evidence(
    order: Order, line: OrderLine | None, *, number: str | None = None, used_elsewhere: bool = False
) -> Evidence:
    """An evidence order, seen through one of its lines (None: no line of the insured product)."""
    return Evidence(
        number=number or order.number,
        order_id=order.pk,
        buyer_id=order.buyer_id,
        shipping_key=order.shipping_key,
        created_at=order.created_at,
        line=None
        if line is None
        else EvidenceLine(
            product_id=line.sku.listing.product_id,
            specs_key=line.sku.specs_key,
            quantity=line.quantity,
            paid_fen=line.paid_fen,
            sku_id=line.sku_id,
        ),
        used_elsewhere=used_elsewhere,
    )


def record_evidence(record: PriceRecord, insured: Insured) -> Evidence:
    """A price record, as evidence for the insured line: its unit price for the insured quantity
    (the whole line is compared), seen when it was recorded. It has no buyer and no address, and
    it may prove the drops of many buyers, so the checks about those do not apply."""
    return Evidence(
        number=str(record.pk),
        kind=RECORD,
        order_id=record.order_ref,
        created_at=record.observed_at,
        line=EvidenceLine(
            product_id=record.product_id,
            specs_key=record.specs_key,
            quantity=insured.quantity,
            paid_fen=record.unit_price_fen * insured.quantity,
        ),
    )


def _order_or_record(claim: Claim, insured: Insured) -> Evidence:
    if claim.price_record_id is not None:
        return record_evidence(claim.price_record, insured)
    found = (
        Order.objects.filter(number=claim.evidence_order_number)
        .prefetch_related("lines__sku__listing")
        .first()
    )
    if found is None:
        evidence = Evidence(number=claim.evidence_order_number, found=False)
    else:
        live = Claim.objects.filter(state__in=ACTIVE_STATES).exclude(pk=claim.pk)
        evidence = order_evidence(
            found,
            evidence_line(list(found.lines.all()), insured),
            number=claim.evidence_order_number,
            used_elsewhere=live.filter(evidence_order=found).exists(),
        )
    return evidence


def list_price_at(sku_id: int, at: datetime) -> ListPrice | None:
    """The SKU's list price at ``at``, as its price changes recorded it (None before any change)."""
    changes = PriceRecord.objects.filter(sku_id=sku_id, source=PriceSource.LIST_PRICE)
    current = changes.filter(observed_at__lte=at).order_by("-observed_at", "-pk").first()
    if current is None:
        return None
    after = changes.filter(observed_at__gt=at).order_by("observed_at", "pk").first()
    return ListPrice(
        price_fen=current.unit_price_fen,
        set_at=current.observed_at,
        ended_at=after.observed_at if after else None,
        next_price_fen=after.unit_price_fen if after else None,
    )


def _evidence_claimants(evidence: Evidence, filed_at: datetime | None, hours: int) -> int:
    if filed_at is None or evidence.kind not in (ORDER, RECORD):
        return 0
    cited = Claim.objects.filter(filed_at__gte=filed_at - timedelta(hours=hours), filed_at__lte=filed_at)
    if evidence.kind == ORDER:
        cited = cited.filter(evidence_order_number=evidence.number)
    else:
        cited = cited.filter(price_record_id=int(evidence.number))
    return cited.values("buyer_id").distinct().count()


def record_seen(record: PriceRecord) -> RecordSeen:
    return RecordSeen(
        record_id=record.pk,
        source=record.source,
        platform=record.platform,
        shop=record.shop.name,
        observed_at=record.observed_at,
        unit_price_fen=record.unit_price_fen,
    )


def _new_account_claims(
    campaign: Campaign, joined_at: datetime, filed_at: datetime | None, hours: int
) -> int:
    """Claims on the campaign, filed within ``hours`` up to ``filed_at``, by accounts created after
    it started (0 when the claimant's own account is older: the signal cannot fire)."""
    if filed_at is None or joined_at <= campaign.starts_at:
        return 0
    return Claim.objects.filter(
        policy__order_line__campaign_item__campaign_id=campaign.pk,
        buyer__date_joined__gt=campaign.starts_at,
        filed_at__gte=filed_at - timedelta(hours=hours),
        filed_at__lte=filed_at,
    ).count()


def risk_facts(
    policy: Policy,
    evidence: Evidence,
    filed_at: datetime | None = None,
    *,
    record: PriceRecord | None = None,
    claimant: AbstractBaseUser | None = None,
) -> Risk:
    """The fraud signals' facts: the seller's addresses, the evidence SKU's list price, who else
    cited the evidence, and the claims of new accounts on the campaign (two to five queries)."""
    thresholds = policy.risk_thresholds
    seller = policy.seller
    addresses = list(Address.objects.filter(user_id=seller.user_id))
    sku_id = evidence.line.sku_id if evidence.kind == ORDER and evidence.line else None
    campaign = policy.order_line.campaign_item.campaign
    joined_at = getattr(claimant, "date_joined", None)
    return Risk(
        thresholds=thresholds,
        seller_user_id=seller.user_id,
        seller_username=seller.user.get_username(),
        seller_phones=frozenset(normalise_text(a.phone) for a in addresses),
        seller_addresses=frozenset(normalise_text(f"{a.region} {a.detail}") for a in addresses),
        evidence_list_price=list_price_at(sku_id, evidence.created_at)
        if sku_id is not None and evidence.created_at is not None
        else None,
        evidence_claimants=_evidence_claimants(evidence, filed_at, thresholds.shared_evidence_hours),
        evidence_record=record_seen(record) if record is not None else None,
        campaign_starts_at=campaign.starts_at,
        claimant_joined_at=joined_at,
        new_account_claims=0
        if joined_at is None
        else _new_account_claims(campaign, joined_at, filed_at, thresholds.new_account_burst_hours),
    )


def claim_facts(claim: Claim) -> Facts:
    """Everything a filed claim is decided on: three queries besides what the claim loaded."""
    policy = claim.policy
    insured = insured_facts(policy)
    evidence = _order_or_record(claim, insured)
    return Facts(
        insured=insured,
        evidence=evidence,
        claimant_id=claim.buyer_id,
        filed_at=claim.filed_at,
        other_claim_active=Claim.objects.filter(policy=policy, state__in=ACTIVE_STATES)
        .exclude(pk=claim.pk)
        .exists(),
        risk=risk_facts(
            policy,
            evidence,
            claim.filed_at,
            record=claim.price_record if claim.price_record_id is not None else None,
            claimant=claim.buyer,
        ),
    )
