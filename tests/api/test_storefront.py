"""The storefront's public list of campaign items with the 赠保价险 badge (no login needed)."""

from orders.models import Campaign
from tests.api.conftest import client_for, error_of

V1 = "/api/v1/storefront/campaign-items"


def test_anyone_sees_whether_an_item_is_covered(world, seller_b):
    items = {i["id"]: i for i in client_for().get(f"{V1}/").json()["results"]}
    covered = items[world.item.pk]
    assert covered["covered"] is True
    assert covered["window_days"] == 15
    assert covered["badge"] == "赠保价险:卖家赠送,若15天内降价,保险赔付差额"
    assert (covered["campaign_price_fen"], covered["campaign_price_display"]) == (15_900, "¥159.00")
    assert covered["sku"]["price_display"] == "¥199.00"
    other = items[seller_b.campaigns.get().items.get().pk]
    assert (other["covered"], other["window_days"], other["badge"]) == (False, None, None)


def test_an_excluded_campaign_says_so_on_the_badge(world):
    Campaign.objects.filter(pk=world.campaign.pk).update(
        excluded_from_claims=True, exclusion_note="双11订单不支持理赔"
    )
    item = client_for().get(f"{V1}/{world.item.pk}/").json()
    assert item["campaign"]["excluded_from_claims"] is True
    assert item["badge"] == "赠保价险(双11订单不支持理赔)"


def test_ended_campaigns_leave_the_storefront(world):
    world.end_campaign()
    assert client_for().get(f"{V1}/").json()["count"] == 0
    assert error_of(client_for().get(f"{V1}/{world.item.pk}/")) == (404, "not_found")


def test_a_stale_token_does_not_lock_anyone_out(world):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(f"{V1}/").status_code == 200
