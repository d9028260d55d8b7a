"""Coverage, policies and premiums: every change goes through one of these functions."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alipay.errors import InsufficientBalance
from alipay.models import Account, AccountKind, Entry, TransferKind
from alipay.services import (
    MAX_TOP_UP_FEN,
    Leg,
    insurer_account,
    system_account,
    transfer_post,
    user_account,
)
from core.i18n import stored_text
from core.money import format_fen
from core.numbers import new_number, require_int
from core.services import audit_record, audit_record_query
from insurance import terms
from insurance.errors import refusal
from insurance.models import (
    Coverage,
    InsuranceAction,
    InsuranceProduct,
    Policy,
    PolicyState,
    Premium,
    PremiumKind,
    SellerDecision,
)
from insurance.notifications import tell_deposit_low
from insurance.selectors import products_for_item
from orders.models import Campaign, CampaignItem, CampaignState, Order, OrderLine, OrderState
from orders.services import campaign_settle
from shops.models import Seller

# What keeps a policy from expiring while a claim filed inside its window is decided. Insurance
# does not know claim states: the claims app registers, in its AppConfig.ready(), a callable giving
# the ids of policies with a claim in flight (see policy_expiry_hold_register).
_expiry_holds: list[Callable[[], QuerySet]] = []


def policy_expiry_hold_register(policy_ids: Callable[[], QuerySet]) -> None:
    """``policy_ids()`` returns a ``values("policy_id")`` queryset of policies that must not expire."""
    if policy_ids not in _expiry_holds:
        _expiry_holds.append(policy_ids)


def _not_held(policies: QuerySet[Policy]) -> QuerySet[Policy]:
    for policy_ids in _expiry_holds:
        policies = policies.exclude(pk__in=policy_ids())
    return policies


def premium_for(*, insured_fen: int, rate_bp: int) -> int:
    """Premium in fen, rounded half up; at least one fen on any insured amount."""
    if insured_fen <= 0:
        return 0
    return max(1, (insured_fen * rate_bp + 5_000) // 10_000)


def deposit_top_up(*, seller: Seller, amount_fen: int, key: str) -> None:
    """Pay money into the seller's Juhuasuan insurance deposit (聚划算保险保证金)."""
    require_int(
        amount_fen,
        min_value=1,
        max_value=MAX_TOP_UP_FEN,
        error=refusal("invalid_amount"),
    )

    transfer_post(
        key=key,
        kind=TransferKind.DEPOSIT,
        legs=[
            Leg(system_account(AccountKind.EXTERNAL), -amount_fen),
            Leg(user_account(user=seller.user, kind=AccountKind.DEPOSIT), amount_fen),
        ],
        memo=stored_text(_("聚划算保险保证金")),
        reference=f"seller:{seller.pk}",
    )


def _item_scope(campaign_item: CampaignItem) -> dict[str, str]:
    """The platform and category an insurer prices an item by."""
    listing = campaign_item.sku.listing
    return {"platform": listing.shop.platform, "category": listing.product.category}


def _check_offer(*, product: InsuranceProduct, seller: Seller, campaign_item: CampaignItem) -> None:
    decision = SellerDecision.objects.filter(product=product, seller=seller).first()
    why_not = product.offer_refusal(
        accepted=decision.accepted if decision else None, **_item_scope(campaign_item)
    )
    if why_not:
        raise refusal(why_not)


def _check_deposit(seller: Seller) -> None:
    deposit = user_account(user=seller.user, kind=AccountKind.DEPOSIT)
    deposit = type(deposit).objects.select_for_update().get(pk=deposit.pk)
    if deposit.balance_fen < settings.BAOJIA["MIN_DEPOSIT_FEN"]:
        raise refusal(
            "insufficient_deposit",
            need=format_fen(settings.BAOJIA["MIN_DEPOSIT_FEN"]),
            have=format_fen(deposit.balance_fen),
        )


def coverage_turn_on(
    *, campaign_item: CampaignItem, seller: Seller, product: InsuranceProduct | None = None
) -> Coverage:
    """The seller gifts price protection on a campaign item under an insurer's product: the one
    named, else the coverage's current one, else the item's default offer. Only the item's seller
    can, and only with a product the insurer offers them on the item's platform. The seller sets
    no terms: each policy copies its product's terms when it is issued."""
    if product is not None and not isinstance(product, InsuranceProduct):
        raise refusal("invalid_product")
    campaign = campaign_item.campaign
    if campaign.seller_id != seller.pk:
        raise refusal("not_found")
    if campaign.state not in (CampaignState.SCHEDULED, CampaignState.LIVE):
        raise refusal("campaign_over")
    with transaction.atomic():
        # Lock the campaign item first: a coverage row that does not exist yet cannot be locked,
        # so two first-time switches would both insert one. The second waits here, then reads
        # the first one's coverage (READ COMMITTED re-reads after the wait) and finds it on.
        CampaignItem.objects.select_for_update().filter(pk=campaign_item.pk).exists()
        coverage = Coverage.objects.select_for_update().filter(campaign_item=campaign_item).first()
        product = product or (coverage.product if coverage else None)
        product = product or next(iter(products_for_item(seller=seller, campaign_item=campaign_item)), None)
        if product is None:
            raise refusal("no_product")
        _check_offer(product=product, seller=seller, campaign_item=campaign_item)
        if coverage and coverage.is_on and coverage.product_id == product.pk:
            return coverage
        _check_deposit(seller)
        was_on = bool(coverage and coverage.is_on)
        coverage = coverage or Coverage(campaign_item=campaign_item)
        coverage.product = product
        coverage.enabled = True
        coverage.turned_on_at = timezone.now()
        coverage.save()  # a new row, or another product and the switch
        audit_record(
            subject=coverage,
            action=InsuranceAction.COVERAGE_UPDATE if was_on else InsuranceAction.COVERAGE_ON,
            actor=seller.user,
            from_state="on" if was_on else "off",
            to_state="on",
            data={"product": product.pk, "product_name": product.name, "insurer": product.insurer_id},
        )
    return coverage


def coverage_turn_off(*, coverage: Coverage, seller: Seller, reason: str = "") -> Coverage:
    """Stop new policies. Policies already issued are never taken back."""
    if coverage.campaign_item.campaign.seller_id != seller.pk:
        raise refusal("not_found")
    return _coverage_off(coverage=coverage, actor=seller.user, reason=reason)


def _coverage_off(*, coverage: Coverage, actor, reason: str) -> Coverage:
    with transaction.atomic():
        coverage = Coverage.objects.select_for_update().get(pk=coverage.pk)
        if not coverage.enabled:
            return coverage
        coverage.enabled = False
        coverage.turned_off_at = timezone.now()
        coverage.save(update_fields=["enabled", "turned_off_at"])
        audit_record(
            subject=coverage,
            action=InsuranceAction.COVERAGE_OFF,
            actor=actor,
            from_state="on",
            to_state="off",
            reason=reason,
        )
    return coverage


def _charge_premium(policy: Policy, coverage: Coverage) -> None:
    seller_user = policy.seller.user
    insurer = insurer_account(code=policy.insurer.code, name=policy.insurer.name)
    memo = stored_text(_("保险承保-价格保障保险-保费收取 %(policy)s"), policy=policy.number)
    try:
        transfer = transfer_post(
            key=f"premium:policy:{policy.pk}",
            kind=TransferKind.PREMIUM,
            legs=[
                Leg(user_account(user=seller_user, kind=AccountKind.DEPOSIT), -policy.premium_fen),
                Leg(insurer, policy.premium_fen),
            ],
            memo=memo,
            reference=f"policy:{policy.pk}",
        )
    except InsufficientBalance:
        # The buyer was promised the policy at checkout, so it is issued regardless; the premium
        # is drawn from the seller's balance instead and coverage stops until the deposit is
        # topped up.
        transfer = transfer_post(
            key=f"premium:policy:{policy.pk}",
            kind=TransferKind.PREMIUM,
            legs=[
                Leg(user_account(user=seller_user, kind=AccountKind.SELLER), -policy.premium_fen),
                Leg(insurer, policy.premium_fen),
            ],
            memo=memo,
            reference=f"policy:{policy.pk}",
        )
        _coverage_off(coverage=coverage, actor=None, reason="deposit exhausted")
    Premium.objects.create(
        policy=policy, kind=PremiumKind.CHARGE, amount_fen=policy.premium_fen, transfer=transfer
    )
    tell_deposit_low(seller=policy.seller, deposit=user_account(user=seller_user, kind=AccountKind.DEPOSIT))


def _policy_terms(*, coverage: Coverage, line: OrderLine) -> dict:
    """The product's terms as they stand now, for a policy on ``line``: copied onto the policy,
    they never change under it. A campaign excluded from claims pays no premium."""
    product = coverage.product
    campaign = line.campaign_item.campaign
    rate = product.rate_for(platform=line.order.shop.platform, category=line.sku.listing.product.category)
    if rate is None:
        # A product keeps every platform it ever covered (its general rates cannot be removed),
        # and coverage was turned on with a rate for this one.
        raise RuntimeError(f"product {product.pk} has no rate for line {line.pk}")
    premium = 0 if campaign.excluded_from_claims else premium_for(insured_fen=line.paid_fen, rate_bp=rate)
    return {
        "insurer": product.insurer,
        "product": product,
        "premium_rate_bp": rate,
        "window_days": product.window_days,
        "per_claim_cap_fen": product.per_claim_cap_fen,
        "review_threshold_fen": product.review_threshold_fen,
        "risk_terms": product.risk_thresholds.as_dict(),
        "premium_fen": premium,
        "window_starts_at": campaign.ends_at,
        "window_ends_at": campaign.ends_at + timedelta(days=product.window_days),
    }


def policies_issue_for_order(*, order: Order) -> list[Policy]:
    """Issue a policy for each line paid during its campaign while coverage is on.

    Called inside ``order_pay``'s transaction; the one-to-one on the order line makes a second
    issue impossible.
    """
    now = order.paid_at or timezone.now()
    issued = []
    lines = (
        OrderLine.objects.filter(order=order, campaign_item__isnull=False, policy__isnull=True)
        .select_related(
            "campaign_item__campaign",
            "campaign_item__coverage__product__insurer",
            "order__shop__seller__user",
            "sku__listing__product",
        )
        .prefetch_related("campaign_item__coverage__product__rates")
    )
    for line in lines:
        coverage = getattr(line.campaign_item, "coverage", None)
        campaign = line.campaign_item.campaign
        if Coverage.on_for(line.campaign_item) is None or not campaign.runs_at(now):
            continue
        policy = Policy.objects.create(
            number=new_number("BD"),
            coverage=coverage,
            order_line=line,
            buyer_id=order.buyer_id,
            seller=order.shop.seller,
            insured_fen=line.paid_fen,
            **_policy_terms(coverage=coverage, line=line),
        )
        if policy.premium_fen:
            _charge_premium(policy, coverage)
        audit_record(subject=policy, action=InsuranceAction.POLICY_ISSUE, to_state=PolicyState.PENDING)
        issued.append(policy)
    return issued


def policies_open_for_order(*, order: Order) -> int:
    """When a trade succeeds after its campaign ended, its policies become claimable at once."""
    now = timezone.now()
    policies = Policy.objects.filter(
        order_line__order=order, window_starts_at__lte=now, window_ends_at__gt=now
    )
    return _move_policies(
        policies, PolicyState.PENDING, PolicyState.CLAIMABLE, "claimable_at", now, InsuranceAction.POLICY_OPEN
    )


def _move_policies(
    queryset: QuerySet[Policy], from_state: str, to_state: str, stamp: str, now: datetime, action: str
) -> int:
    """Compare-and-set the policies of ``queryset`` from one state to the next, with one audit
    row each, in a few set-based statements.

    The audit rows are written first, from the very rows the UPDATE then moves: after it they no
    longer match (their state changed), and other rows may carry the same state and stamp (a
    second pass of the same sweep), so they could not be told apart afterwards. Locking the rows
    first keeps the two statements to the same set while other transactions run.
    """
    moving = queryset.filter(state=from_state)
    with transaction.atomic():
        _lock(moving)
        audited = audit_record_query(queryset=moving, action=action, from_state=from_state, to_state=to_state)
        moved = moving.update(state=to_state, **{stamp: now})
        if audited != moved:
            raise RuntimeError(f"{action}: {audited} audit rows for {moved} moved policies")
    return moved


def _lock(policies: QuerySet[Policy]) -> None:
    """``SELECT … FOR UPDATE`` the policies without bringing them into Python (a no-op on SQLite,
    whose writers take turns anyway)."""
    if not connection.features.has_select_for_update:
        return
    locking = policies.order_by("pk").select_for_update(of=("self",))  # one lock order for every sweep
    sql, params = locking.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) locked", params)


def _premium_payer(policy: Policy) -> Account:
    """The account the premium was drawn from: the deposit, or the seller's balance if the deposit
    had run out. A refund goes back where the money came from."""
    charge = Premium.objects.get(policy=policy, kind=PremiumKind.CHARGE)
    return Entry.objects.select_related("account").get(transfer=charge.transfer, amount_fen__lt=0).account


def policy_void_for_line(*, line: OrderLine) -> Policy | None:
    """A refund of the whole line voids its policy; before the window opens the premium goes back."""
    policy = (
        Policy.objects.select_for_update(of=("self",))
        .filter(order_line=line)
        .select_related("insurer", "seller__user")
        .first()
    )
    if policy is None or line.refunded_fen < line.paid_fen:
        return policy
    if policy.state not in (PolicyState.PENDING, PolicyState.CLAIMABLE):
        return policy
    now = timezone.now()
    from_state = policy.state
    policy.state = PolicyState.VOIDED
    policy.voided_at = now
    policy.save(update_fields=["state", "voided_at"])
    audit_record(
        subject=policy,
        action=InsuranceAction.POLICY_VOID,
        from_state=from_state,
        to_state=policy.state,
        reason="order refunded",
    )
    if now < policy.window_starts_at and policy.premium_fen:
        insurer = insurer_account(code=policy.insurer.code, name=policy.insurer.name)
        transfer = transfer_post(
            key=f"premium_refund:policy:{policy.pk}",
            kind=TransferKind.PREMIUM_REFUND,
            legs=[Leg(insurer, -policy.premium_fen), Leg(_premium_payer(policy), policy.premium_fen)],
            memo=stored_text(_("保险退保-退保保费支付 %(policy)s"), policy=policy.number),
            reference=f"policy:{policy.pk}",
        )
        Premium.objects.create(
            policy=policy, kind=PremiumKind.REFUND, amount_fen=policy.premium_fen, transfer=transfer
        )
    return policy


def policies_mark_claimed(*, policies: QuerySet[Policy], now: datetime) -> int:
    """Called by settlement in the transaction that pays the claims.

    A policy the window sweep has not opened yet is claimed too: adjudication checked the same
    facts the sweep reads (trade succeeded, campaign ended), and left pending it would later expire.
    So is one the sweep expired while its claim was being filed (the sweep's snapshot did not
    see the claim yet): the claim was filed inside the window, and SPEC says it ends claimed.
    """
    moved = 0
    for from_state in (PolicyState.CLAIMABLE, PolicyState.PENDING, PolicyState.EXPIRED):
        moved += _move_policies(
            policies, from_state, PolicyState.CLAIMED, "claimed_at", now, InsuranceAction.POLICY_CLAIMED
        )
    return moved


def policy_windows_advance(*, now: datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    """Open windows (pending → claimable for succeeded trades), close them (→ expired), and
    settle campaigns whose every window has closed. Set-based, in chunks; safe to run twice."""
    now = now or timezone.now()
    batch_size = batch_size or settings.BAOJIA["BATCH_SIZE"]
    opened = _in_chunks(
        Policy.objects.filter(
            state=PolicyState.PENDING,
            window_starts_at__lte=now,
            window_ends_at__gt=now,
            order_line__order__state=OrderState.SUCCEEDED,
        ),
        PolicyState.PENDING,
        PolicyState.CLAIMABLE,
        "claimable_at",
        now,
        InsuranceAction.POLICY_OPEN,
        batch_size,
    )
    expired = 0
    for from_state in (PolicyState.CLAIMABLE, PolicyState.PENDING):
        expired += _in_chunks(
            # A claim filed inside the window is decided (and paid) even if that takes longer.
            _not_held(Policy.objects.filter(state=from_state, window_ends_at__lte=now)),
            from_state,
            PolicyState.EXPIRED,
            "expired_at",
            now,
            InsuranceAction.POLICY_EXPIRE,
            batch_size,
        )
    settled = 0
    # A campaign is settled when the last window of its policies has closed (windows are fixed
    # when a policy is issued; the coverage's current terms may have changed since).
    last_window = Policy.objects.filter(coverage__campaign_item__campaign=OuterRef("pk")).order_by(
        "-window_ends_at"
    )
    due = Campaign.objects.filter(state=CampaignState.ENDED, ends_at__lte=now).annotate(
        last=Subquery(last_window.values("window_ends_at")[:1])
    )
    for campaign in due:
        if (campaign.last or campaign.ends_at + timedelta(days=terms.DEFAULT_WINDOW_DAYS)) <= now:
            settled += campaign_settle(campaign=campaign)
    return {"opened": opened, "expired": expired, "settled": settled}


def _in_chunks(
    queryset: QuerySet[Policy],
    from_state: str,
    to_state: str,
    stamp: str,
    now: datetime,
    action: str,
    batch_size: int,
) -> int:
    """Walk the matching rows in primary-key ranges: each chunk is one UPDATE and one INSERT … SELECT
    in its own transaction, so memory stays flat and locks stay short however large the campaign."""
    bounds = queryset.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    total = 0
    for low in range(bounds["low"], bounds["high"] + 1, batch_size):
        with transaction.atomic():
            chunk = queryset.filter(pk__gte=low, pk__lt=low + batch_size)
            total += _move_policies(chunk, from_state, to_state, stamp, now, action)
    return total
