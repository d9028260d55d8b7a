"""Juhuasuan campaigns: creating them, their items, and scheduled → live → ended → settled."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidInput
from core.selectors import audit_history
from insurance.services import policy_windows_advance
from orders import tasks
from orders.models import Campaign, CampaignItem, CampaignState
from orders.services import (
    OrderRefused,
    campaign_create,
    campaign_item_add,
    campaigns_advance,
    order_quote,
)
from tests.factories import ListingFactory, SellerFactory, SkuFactory


@pytest.fixture
def scheduled(world) -> Campaign:
    """A campaign of the world's seller from the day after tomorrow, for two days."""
    starts = timezone.now() + timedelta(days=2)
    return campaign_create(
        seller=world.seller, name="双12 预热", starts_at=starts, ends_at=starts + timedelta(days=2)
    )


def test_it_creates_a_scheduled_campaign(world, scheduled):
    assert scheduled.state == CampaignState.SCHEDULED
    assert not scheduled.excluded_from_claims
    assert audit_history(scheduled).get().action == "campaign_create"


def test_it_can_exclude_a_campaign_from_claims(world):
    now = timezone.now()
    double_11 = campaign_create(
        seller=world.seller,
        name="双11",
        starts_at=now,
        ends_at=now + timedelta(days=1),
        excluded_from_claims=True,
        exclusion_note="双11订单不支持保价",
    )

    assert double_11.excluded_from_claims
    assert double_11.exclusion_note == "双11订单不支持保价"


@pytest.mark.parametrize("name", ["", "   ", None, "活" * 129])
def test_it_refuses_a_bad_name(world, name):
    now = timezone.now()

    with pytest.raises(InvalidInput) as refused:
        campaign_create(seller=world.seller, name=name, starts_at=now, ends_at=now + timedelta(days=1))

    assert refused.value.code == "invalid_name"
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize("length", [timedelta(0), timedelta(seconds=-1)])
def test_it_refuses_a_campaign_that_ends_before_it_starts(world, length):
    now = timezone.now()

    with pytest.raises(InvalidInput) as refused:
        campaign_create(seller=world.seller, name="聚划算", starts_at=now, ends_at=now + length)

    assert refused.value.code == "invalid_period"
    assert Campaign.objects.count() == 1


# --- items --------------------------------------------------------------------------------------


def test_adding_an_item_twice_keeps_the_first_price(world, scheduled):
    first = campaign_item_add(campaign=scheduled, sku=world.other_shop_sku, campaign_price_fen=14_900)

    again = campaign_item_add(campaign=scheduled, sku=world.other_shop_sku, campaign_price_fen=9_900)

    assert again.pk == first.pk
    assert again.campaign_price_fen == 14_900
    assert CampaignItem.objects.filter(campaign=scheduled).count() == 1
    assert audit_history(first).count() == 1


@pytest.mark.parametrize("price", [0, -1, True, 1.5, "14900", None, 10**10 + 1, 10**30])
def test_it_refuses_a_bad_campaign_price(world, scheduled, price):
    with pytest.raises(InvalidInput) as refused:
        campaign_item_add(campaign=scheduled, sku=world.other_shop_sku, campaign_price_fen=price)

    assert refused.value.code == "invalid_price"
    assert not CampaignItem.objects.filter(campaign=scheduled).exists()


def test_a_seller_adds_only_their_own_skus(world, scheduled):
    rivals_sku = SkuFactory(listing=ListingFactory(shop__seller=SellerFactory()))

    with pytest.raises(InvalidInput) as refused:
        campaign_item_add(campaign=scheduled, sku=rivals_sku, campaign_price_fen=100)

    assert refused.value.code == "not_your_sku"


def test_no_items_are_added_after_the_campaign(world):
    world.end_campaign()

    with pytest.raises(OrderRefused) as refused:
        campaign_item_add(campaign=world.campaign, sku=world.other_shop_sku, campaign_price_fen=100)

    assert refused.value.code == "campaign_over"


# --- prices follow the campaign's state ---------------------------------------------------------


def test_the_campaign_price_holds_only_while_the_campaign_is_live(world, scheduled):
    item = campaign_item_add(campaign=scheduled, sku=world.other_shop_sku, campaign_price_fen=14_900)
    during = scheduled.starts_at + timedelta(hours=1)

    assert order_quote(items=[(item.sku, 1)], now=during)[0].paid_fen == 18_900  # not started
    campaigns_advance(now=during)
    [line] = order_quote(items=[(item.sku, 1)], now=during)
    assert (line.campaign_item, line.paid_fen) == (item, 14_900)
    campaigns_advance(now=scheduled.ends_at)
    assert order_quote(items=[(item.sku, 1)], now=scheduled.ends_at)[0].paid_fen == 18_900


# --- the lifecycle ------------------------------------------------------------------------------


def test_it_goes_from_scheduled_to_settled(world, scheduled):
    campaigns_advance(now=scheduled.starts_at - timedelta(seconds=1))  # ends the world's campaign
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.SCHEDULED
    assert campaigns_advance(now=scheduled.starts_at) == {"started": [scheduled.pk], "ended": []}
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.LIVE

    assert campaigns_advance(now=scheduled.ends_at) == {"started": [], "ended": [scheduled.pk]}
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.ENDED

    policy_windows_advance(now=scheduled.ends_at + timedelta(days=15, seconds=-1))
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.ENDED
    policy_windows_advance(now=scheduled.ends_at + timedelta(days=15))
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.SETTLED
    moves = [(e.from_state, e.to_state) for e in audit_history(scheduled)]
    assert moves == [("", "scheduled"), ("scheduled", "live"), ("live", "ended"), ("ended", "settled")]


def test_a_late_run_starts_and_ends_a_campaign_at_once(world, scheduled):
    result = campaigns_advance(now=scheduled.ends_at + timedelta(hours=1))

    assert result == {"started": [scheduled.pk], "ended": [world.campaign.pk, scheduled.pk]}
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.ENDED


def test_advancing_twice_moves_each_campaign_once(world, scheduled):
    later = scheduled.starts_at + timedelta(minutes=1)
    first = campaigns_advance(now=later)

    assert campaigns_advance(now=later) == {"started": [], "ended": []}
    assert first == {"started": [scheduled.pk], "ended": [world.campaign.pk]}
    assert audit_history(scheduled).filter(action="campaign_advance").count() == 1


def test_the_task_advances_campaigns(world):
    Campaign.objects.filter(pk=world.campaign.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    assert tasks.campaigns_advance.delay().get() == {"started": [], "ended": [world.campaign.pk]}
    assert tasks.campaigns_advance.delay().get() == {"started": [], "ended": []}


def test_a_settled_campaign_stays_settled(world):
    world.end_campaign(days_ago=16)

    assert policy_windows_advance()["settled"] == 1
    assert policy_windows_advance()["settled"] == 0
    assert campaigns_advance(now=timezone.now() + timedelta(days=365)) == {"started": [], "ended": []}
    world.campaign.refresh_from_db()
    assert world.campaign.state == CampaignState.SETTLED
