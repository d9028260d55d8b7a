"""Juhuasuan campaigns: created, given items, advanced scheduled → live → ended, settled."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.numbers import require_int
from core.services import audit_record, audit_record_many
from orders.errors import refusal
from orders.models import (
    Campaign,
    CampaignItem,
    CampaignState,
    OrderAction,
)
from orders.price_records import record_campaign_prices, record_prices_in_effect
from shops.models import Seller, Sku
from shops.services import MAX_PRICE_FEN


def campaign_create(
    *,
    seller: Seller,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    excluded_from_claims: bool = False,
    exclusion_note: str = "",
    actor=None,
) -> Campaign:
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise refusal("invalid_name")
    if ends_at <= starts_at:
        raise refusal("invalid_period")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            seller=seller,
            name=name,
            starts_at=starts_at,
            ends_at=ends_at,
            excluded_from_claims=excluded_from_claims,
            exclusion_note=exclusion_note,
        )
        audit_record(
            subject=campaign, action=OrderAction.CAMPAIGN_CREATE, actor=actor, to_state=campaign.state
        )
    return campaign


def campaign_item_add(*, campaign: Campaign, sku: Sku, campaign_price_fen: int, actor=None) -> CampaignItem:
    """Put a SKU into a campaign at its campaign price. Adding it again keeps the first."""
    require_int(
        campaign_price_fen,
        min_value=1,
        max_value=MAX_PRICE_FEN,
        error=refusal("invalid_price"),
    )
    if sku.listing.shop.seller_id != campaign.seller_id:
        raise refusal("not_your_sku")
    if campaign.state not in (CampaignState.SCHEDULED, CampaignState.LIVE):
        raise refusal("campaign_over")
    with transaction.atomic():
        item, created = CampaignItem.objects.get_or_create(
            campaign=campaign, sku=sku, defaults={"campaign_price_fen": campaign_price_fen}
        )
        if created:
            audit_record(subject=item, action=OrderAction.CAMPAIGN_ITEM_ADD, actor=actor)
            if campaign.state == CampaignState.LIVE:
                record_campaign_prices(campaign, [item], observed_at=timezone.now())
    return item


def _campaign_cas(campaign_ids: Sequence[int], *, from_state: str, to_state: str) -> list[int]:
    """Move campaigns from one state to the next; return the ids this call moved."""
    moved = []
    for pk in campaign_ids:
        if Campaign.objects.filter(pk=pk, state=from_state).update(state=to_state):
            moved.append(pk)
    audit_record_many(
        model=Campaign,
        object_ids=moved,
        action=OrderAction.CAMPAIGN_ADVANCE,
        from_state=from_state,
        to_state=to_state,
    )
    return moved


def campaigns_advance(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Start campaigns whose time has come and end those whose time is up.

    Safe to run twice, late or concurrently: each move is a compare-and-set on the state, so a
    campaign is started or ended by exactly one caller. A late run takes a scheduled campaign whose
    end has passed straight to ended.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due_start = list(
            Campaign.objects.filter(state=CampaignState.SCHEDULED, starts_at__lte=now).values_list(
                "pk", flat=True
            )
        )
        started = _campaign_cas(due_start, from_state=CampaignState.SCHEDULED, to_state=CampaignState.LIVE)
        for campaign in Campaign.objects.filter(pk__in=started):
            items = campaign.items.select_related("sku__listing__shop")
            record_campaign_prices(campaign, list(items), observed_at=campaign.starts_at)
        due_end = list(
            Campaign.objects.filter(state=CampaignState.LIVE, ends_at__lte=now).values_list("pk", flat=True)
        )
        ended = _campaign_cas(due_end, from_state=CampaignState.LIVE, to_state=CampaignState.ENDED)
        for campaign in Campaign.objects.filter(pk__in=ended):
            record_prices_in_effect(campaign=campaign, at=campaign.ends_at)
    return {"started": started, "ended": ended}


def campaign_settle(*, campaign: Campaign) -> bool:
    """Mark a campaign's claim window as closed (called by insurance when every window closed)."""
    with transaction.atomic():
        moved = _campaign_cas([campaign.pk], from_state=CampaignState.ENDED, to_state=CampaignState.SETTLED)
    return bool(moved)
