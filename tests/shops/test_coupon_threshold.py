"""A coupon with a threshold takes off less than the threshold (满 ¥20 减 ¥50 is refused)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidInput
from shops.models import Coupon
from shops.services import coupon_issue
from tests.factories import ShopFactory


def until():
    return timezone.now() + timedelta(days=7)


@pytest.mark.parametrize("amount_fen", [5_000, 2_000])
def test_a_discount_at_or_above_its_threshold_is_refused(db, amount_fen):
    with pytest.raises(InvalidInput) as refused:
        coupon_issue(
            shop=ShopFactory(),
            name="满20减50",
            amount_fen=amount_fen,
            min_spend_fen=2_000,
            valid_until=until(),
        )

    assert refused.value.code == "coupon_amount_above_threshold"
    assert "¥20.00" in str(refused.value.message)
    assert not Coupon.objects.exists()


def test_a_discount_below_its_threshold_or_without_one_is_issued(db):
    shop = ShopFactory()
    coupon_issue(shop=shop, name="满20减19.99", amount_fen=1_999, min_spend_fen=2_000, valid_until=until())
    coupon_issue(shop=shop, name="无门槛减50", amount_fen=5_000, valid_until=until())

    assert Coupon.objects.count() == 2
