"""自动理赔: shortly before the window closes the platform files for the buyer, with the lowest
price seen in the window, once; a buyer who claimed by hand, or switched it off, is left alone.

alice paid ¥159.00; her window closes fifteen days after the campaign ended.
"""

from datetime import timedelta

import pytest

from claims.detection import price_drops_detect
from claims.models import Claim, ClaimSource, ClaimState
from claims.price_claims import claims_file_automatic, drops_due_for_auto_claim, notices_window_closing
from claims.services import claim_file
from core.services import preferences_update
from notices.models import Notice
from shops.services import sku_price_change


@pytest.fixture
def near_the_end(insured_line):
    """The moment the margin before the window's end begins (6 hours by default)."""
    return insured_line.policy.window_ends_at - timedelta(hours=6)


def test_it_files_once_near_the_end_with_the_windows_lowest_price(world, insured_line, near_the_end):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    sku_price_change(sku=world.other_shop_sku, price_fen=13_900)
    sku_price_change(sku=world.other_shop_sku, price_fen=17_900)
    price_drops_detect()

    assert claims_file_automatic(now=near_the_end - timedelta(minutes=1)) == 0  # not yet
    assert claims_file_automatic(now=near_the_end) == 1
    assert claims_file_automatic(now=near_the_end + timedelta(minutes=5)) == 0  # a repeat files nothing

    [claim] = Claim.objects.filter(policy=insured_line.policy)
    assert claim.source == ClaimSource.AUTOMATIC
    assert claim.price_record.unit_price_fen == 13_900
    assert claim.buyer == world.alice
    [notice] = Notice.objects.filter(user=world.alice, kind="claim_filed_auto")
    assert claim.number in notice.body and "¥20.00" in notice.title


def test_a_buyer_who_claimed_by_hand_is_left_alone(world, insured_line, near_the_end, place_evidence):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    claim_file(order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice)
    sku_price_change(sku=world.other_shop_sku, price_fen=12_900)
    price_drops_detect()

    assert claims_file_automatic(now=near_the_end) == 0
    assert Claim.objects.filter(policy=insured_line.policy).count() == 1


def test_a_rejected_claim_by_hand_still_counts_as_claiming(
    world, insured_line, near_the_end, place_evidence, django_capture_on_commit_callbacks
):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    with django_capture_on_commit_callbacks(execute=True):
        rejected = claim_file(
            order_line=insured_line,
            evidence_order_number=place_evidence(quantity=2).number,
            buyer=world.alice,
        )
    rejected.refresh_from_db()
    assert rejected.state == ClaimState.REJECTED

    assert claims_file_automatic(now=near_the_end) == 0


def test_a_buyer_who_switched_it_off_is_left_alone(world, insured_line, near_the_end):
    preferences_update(user=world.alice, auto_claim=False)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()

    assert not drops_due_for_auto_claim(now=near_the_end).exists()
    assert claims_file_automatic(now=near_the_end) == 0

    preferences_update(user=world.alice, auto_claim=True)
    assert claims_file_automatic(now=near_the_end) == 1


def test_no_drop_no_claim(world, insured_line, near_the_end):
    sku_price_change(sku=world.other_shop_sku, price_fen=16_900)
    price_drops_detect()

    assert claims_file_automatic(now=near_the_end) == 0
    assert not Claim.objects.exists()


def test_once_the_window_closed_nothing_is_filed(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()

    assert claims_file_automatic(now=insured_line.policy.window_ends_at) == 0


def test_the_buyer_hears_once_that_the_window_is_closing_with_a_drop_unclaimed(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    ends = insured_line.policy.window_ends_at

    assert notices_window_closing(now=ends - timedelta(hours=49)) == 0
    assert notices_window_closing(now=ends - timedelta(hours=47)) == 1
    assert notices_window_closing(now=ends - timedelta(hours=20)) == 0

    [notice] = Notice.objects.filter(user=world.alice, kind="window_closing")
    assert "¥10.00" in notice.title


def test_new_accounts_have_it_on(world):
    from core.selectors import auto_claim_enabled

    assert auto_claim_enabled(world.bob)
    preferences_update(user=world.bob, auto_claim=False)
    assert not auto_claim_enabled(world.bob)
