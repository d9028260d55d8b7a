"""The price-drop, notice and settings endpoints: scoped to the caller, in the schema's shapes."""

import pytest

from claims.detection import price_drops_detect
from claims.models import Claim, ClaimSource, PriceDrop
from notices.models import Notice
from shops.services import sku_price_change
from tests.api.conftest import client_for, error_of

V1 = "/api/v1"


@pytest.fixture
def drop(world, insured_line) -> PriceDrop:
    """alice's insured line has a detected drop of ¥10.00 (Taobao at ¥149.00)."""
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    return PriceDrop.objects.get(policy__order_line=insured_line)


def test_the_buyer_lists_her_drops_anonymised(world, drop):
    body = client_for(world.alice).get(f"{V1}/price-drops/").json()

    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == drop.pk
    assert (row["amount_fen"], row["unit_price_fen"], row["platform"]) == (1_000, 14_900, "taobao")
    assert row["order"] == drop.policy.order_line.order.number and row["line"] == drop.policy.order_line_id
    assert row["shop"] == "小米淘宝店" and row["claim"] is None
    assert row["window_ends_at"] and row["observed_at"]
    assert "buyer" not in row and "source_id" not in row


def test_another_buyer_sees_none_of_it(world, drop):
    bob = client_for(world.bob)

    assert bob.get(f"{V1}/price-drops/").json()["count"] == 0
    assert error_of(bob.post(f"{V1}/price-drops/{drop.pk}/claim/")) == (404, "not_found")
    assert not Claim.objects.exists()


def test_one_click_files_one_claim_however_often_it_is_clicked(world, drop):
    alice = client_for(world.alice)

    first = alice.post(f"{V1}/price-drops/{drop.pk}/claim/")
    again = alice.post(f"{V1}/price-drops/{drop.pk}/claim/")

    assert first.status_code == 201, first.json()
    claim = Claim.objects.get()
    assert again.status_code == 201 and again.json()["number"] == first.json()["number"]  # still in flight
    assert claim.source == ClaimSource.ONE_CLICK
    evidence = first.json()["price_evidence"]
    assert evidence["platform"] == "taobao" and evidence["shop"] == "小米淘宝店"
    assert evidence["unit_price_fen"] == 14_900
    assert set(evidence) == {
        "platform",
        "platform_display",
        "shop",
        "observed_at",
        "unit_price_fen",
        "unit_price_display",
    }
    assert alice.get(f"{V1}/price-drops/").json()["results"][0]["claim"] == claim.number


def test_an_idempotency_key_replays_the_first_answer(world, drop):
    alice = client_for(world.alice)
    headers = {"HTTP_IDEMPOTENCY_KEY": "one-click-1"}

    first = alice.post(f"{V1}/price-drops/{drop.pk}/claim/", **headers)
    again = alice.post(f"{V1}/price-drops/{drop.pk}/claim/", **headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1


def test_notices_are_the_callers_own_and_read_once(world, drop):
    alice, bob = client_for(world.alice), client_for(world.bob)
    notice = Notice.objects.get(user=world.alice, kind="drop_detected")

    body = alice.get(f"{V1}/notices/").json()
    assert [n["id"] for n in body["results"]] == [notice.pk]
    assert body["results"][0]["is_read"] is False and "¥10.00" in body["results"][0]["title"]
    assert alice.get(f"{V1}/notices/", {"unread": "true"}).json()["count"] == 1
    assert bob.get(f"{V1}/notices/").json()["count"] == 0
    assert error_of(bob.post(f"{V1}/notices/{notice.pk}/read/")) == (404, "not_found")

    read = alice.post(f"{V1}/notices/{notice.pk}/read/")
    assert read.status_code == 200 and read.json()["is_read"] is True
    assert alice.get(f"{V1}/notices/", {"unread": "true"}).json()["count"] == 0


def test_the_auto_claim_setting_is_on_and_switchable(world):
    alice = client_for(world.alice)

    assert alice.get(f"{V1}/me/").json()["auto_claim"] is True
    switched = alice.patch(f"{V1}/me/", {"auto_claim": False}, format="json")
    assert switched.status_code == 200 and switched.json()["auto_claim"] is False
    assert alice.get(f"{V1}/me/").json()["auto_claim"] is False
    assert client_for(world.bob).get(f"{V1}/me/").json()["auto_claim"] is True
    assert error_of(alice.patch(f"{V1}/me/", {"auto_claim": "maybe"}, format="json"))[0] == 400
