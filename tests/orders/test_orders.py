"""Orders: placing, paying, shipping, receipt, cancelling, closing and refunding, to the fen."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alipay.models import AccountKind, Entry, Transfer, TransferKind
from alipay.selectors import account_balance_fen, ledger_discrepancies
from alipay.services import balance_top_up, system_account, user_account
from core.errors import InvalidInput, ServiceError
from core.selectors import audit_history
from insurance.models import Policy
from orders.models import Coupon, Order, OrderLine, OrderState
from orders.services import (
    OrderRefused,
    order_cancel,
    order_confirm_receipt,
    order_line_refund,
    order_pay,
    order_place,
    order_quote,
    order_refund,
    order_ship,
    orders_close_unpaid,
)
from shops.services import coupon_issue
from tests.factories import AddressFactory, ListingFactory, SkuFactory, UserFactory


def balance(kind: str, user=None) -> int:
    if user is None:
        return system_account(kind).balance_fen
    return user_account(user=user, kind=kind).balance_fen


def place(world, buyer=None, items=None, **kw) -> Order:
    buyer = buyer or world.alice
    address = world.alice_address if buyer == world.alice else world.bob_address
    return order_place(buyer=buyer, address=address, items=items or [(world.sku, 1)], **kw)


def until():
    return timezone.now() + timedelta(days=30)


@pytest.fixture
def second_sku(world):
    """Another product in the Tmall shop, not in the campaign: ¥99.00."""
    return SkuFactory(listing=ListingFactory(shop=world.tmall), price_fen=9_900)


# --- placing ------------------------------------------------------------------------------


def test_it_places_an_order_at_the_campaign_price(world):
    order = place(world, items=[(world.sku, 2)])

    assert order.state == OrderState.CREATED
    assert order.campaign == world.campaign
    assert (order.item_total_fen, order.shop_discount_fen, order.platform_discount_fen, order.paid_fen) == (
        31_800,
        0,
        0,
        31_800,
    )
    line = order.lines.get()
    assert (line.campaign_item, line.unit_price_fen, line.quantity, line.paid_fen) == (
        world.item,
        15_900,
        2,
        31_800,
    )
    assert order.pay_deadline == order.created_at + timedelta(minutes=30)
    assert (order.ship_recipient, order.ship_phone) == ("张三", "13800138000")
    assert order.ship_address == "浙江省 杭州市 余杭区 文一西路 969 号"


def test_it_places_an_order_at_the_list_price_outside_the_campaign(world):
    order = place(world, items=[(world.other_shop_sku, 1)])

    assert order.campaign is None
    assert order.lines.get().paid_fen == 18_900


def test_it_keeps_the_breakdown_per_line(world):
    """商品总价 − 店铺优惠 − 平台及达人优惠 = 实付款, on the order and on each line."""
    shop_coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_000, valid_until=until())
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=500, valid_until=until())

    order = place(world, shop_coupon=shop_coupon, platform_coupon=red_packet)

    line = order.lines.get()
    for row in (order, line):
        assert (row.item_total_fen, row.shop_discount_fen, row.platform_discount_fen, row.paid_fen) == (
            15_900,
            1_000,
            500,
            14_400,
        )


@pytest.mark.parametrize("amount", [1, 2, 999, 1_001, 3_333, 25_799])
def test_a_coupon_is_split_over_the_lines_to_the_fen(world, second_sku, amount):
    third = SkuFactory(listing=second_sku.listing, specs={"颜色": "红色"}, price_fen=3_300)
    coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=amount, valid_until=until())

    order = place(world, items=[(world.sku, 1), (second_sku, 3), (third, 7)], shop_coupon=coupon)

    lines = list(order.lines.all())
    assert sum(line.shop_discount_fen for line in lines) == order.shop_discount_fen == amount
    assert sum(line.paid_fen for line in lines) == order.paid_fen == 15_900 + 29_700 + 23_100 - amount
    for line in lines:  # in proportion, within one fen
        assert abs(line.shop_discount_fen * order.item_total_fen - amount * line.item_total_fen) < (
            order.item_total_fen
        )


def test_the_split_fen_go_to_the_largest_remainders(world, second_sku):
    """¥10.01 over ¥159.00 and ¥99.00: 616.9 and 384.1 fen become 617 and 384."""
    coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_001, valid_until=until())

    order = place(world, items=[(world.sku, 1), (second_sku, 1)], shop_coupon=coupon)

    assert [line.shop_discount_fen for line in order.lines.order_by("pk")] == [617, 384]


def test_a_coupon_never_discounts_more_than_the_order(world):
    red_packet = coupon_issue(shop=None, name="免单", amount_fen=100_000, valid_until=until())

    order = place(world, platform_coupon=red_packet)

    assert (order.platform_discount_fen, order.paid_fen) == (15_900, 0)


def test_the_platform_allowance_applies_after_the_shop_coupon(world):
    shop_coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=15_000, valid_until=until())
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=5_000, valid_until=until())

    order = place(world, shop_coupon=shop_coupon, platform_coupon=red_packet)

    assert (order.shop_discount_fen, order.platform_discount_fen, order.paid_fen) == (15_000, 900, 0)


@pytest.mark.parametrize("quantity", [0, -1, 1_000, 10**12, True, False, 1.0, "1", None])
def test_it_refuses_a_bad_quantity(world, quantity):
    with pytest.raises(InvalidInput) as refused:
        place(world, items=[(world.sku, quantity)])

    assert refused.value.code == "invalid_quantity"
    assert not Order.objects.exists()


def test_it_accepts_the_largest_quantity(world):
    assert order_quote(items=[(world.sku, 999)])[0].paid_fen == 999 * 15_900


def test_it_refuses_an_empty_order(world):
    with pytest.raises(InvalidInput) as refused:
        order_place(buyer=world.alice, address=world.alice_address, items=[])

    assert refused.value.code == "empty_order"


def test_it_refuses_skus_of_two_shops(world):
    with pytest.raises(InvalidInput) as refused:
        place(world, items=[(world.sku, 1), (world.other_shop_sku, 1)])

    assert refused.value.code == "mixed_shops"
    assert not Order.objects.exists()


def test_it_refuses_the_same_sku_twice(world):
    with pytest.raises(InvalidInput) as refused:
        place(world, items=[(world.sku, 1), (world.sku, 2)])

    assert refused.value.code == "duplicate_sku"


def test_it_refuses_someone_elses_address(world):
    with pytest.raises(InvalidInput) as refused:
        order_place(buyer=world.alice, address=world.bob_address, items=[(world.sku, 1)])

    assert refused.value.code == "invalid_address"
    assert not Order.objects.exists()


def test_it_prices_from_the_database_not_the_callers_copy(world):
    stale = world.other_shop_sku
    stale.price_fen = 1

    order = place(world, items=[(stale, 1)])

    assert order.paid_fen == 18_900


# --- coupons ----------------------------------------------------------------------------------


def test_it_refuses_another_shops_coupon(world):
    coupon = coupon_issue(shop=world.taobao, name="淘宝店券", amount_fen=1_000, valid_until=until())

    with pytest.raises(InvalidInput) as refused:
        place(world, shop_coupon=coupon)

    assert refused.value.code == "coupon_not_applicable"
    assert not Order.objects.exists()


def test_it_refuses_a_shop_coupon_as_platform_allowance_and_back(world):
    shop_coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_000, valid_until=until())
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=500, valid_until=until())

    for kw in ({"shop_coupon": red_packet}, {"platform_coupon": shop_coupon}):
        with pytest.raises(InvalidInput) as refused:
            place(world, **kw)
        assert refused.value.code == "coupon_not_applicable"


def test_it_refuses_a_coupon_outside_its_validity(world):
    now = timezone.now()
    later = coupon_issue(
        shop=None, name="明日红包", amount_fen=500, valid_from=now + timedelta(hours=1), valid_until=until()
    )
    ended = coupon_issue(
        shop=None, name="旧红包", amount_fen=500, valid_from=now - timedelta(days=2), valid_until=now
    )
    withdrawn = coupon_issue(shop=None, name="撤回红包", amount_fen=500, valid_until=until())
    Coupon.objects.filter(pk=withdrawn.pk).update(active=False)
    withdrawn.refresh_from_db()

    for coupon in (later, ended, withdrawn):
        with pytest.raises(InvalidInput) as refused:
            place(world, platform_coupon=coupon)
        assert refused.value.code == "coupon_expired"


def test_it_refuses_a_coupon_below_its_minimum_spend(world):
    coupon = coupon_issue(
        shop=world.tmall, name="满200减20", amount_fen=2_000, min_spend_fen=20_000, valid_until=until()
    )

    with pytest.raises(InvalidInput) as refused:
        place(world, shop_coupon=coupon)

    assert refused.value.code == "coupon_min_spend"
    assert place(world, items=[(world.sku, 2)], shop_coupon=coupon).shop_discount_fen == 2_000


# --- paying -----------------------------------------------------------------------------------


def test_paying_moves_the_money_into_escrow(world):
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=500, valid_until=until())
    order = place(world, platform_coupon=red_packet)
    alice_before, marketing_before = account_balance_fen(world.alice), balance(AccountKind.MARKETING)

    paid = order_pay(order=order, buyer=world.alice)

    assert paid.state == OrderState.PAID
    assert paid.paid_at is not None
    assert account_balance_fen(world.alice) == alice_before - 15_400
    assert balance(AccountKind.MARKETING) == marketing_before - 500
    assert balance(AccountKind.ESCROW) == 15_900
    transfer = Transfer.objects.get(key=f"pay:order:{order.pk}")
    assert transfer.kind == TransferKind.ORDER_PAYMENT
    assert ledger_discrepancies() == []


def test_paying_twice_pays_once(world):
    order = place(world)
    order_pay(order=order, buyer=world.alice)
    before, entries = account_balance_fen(world.alice), Entry.objects.count()

    again = order_pay(order=order, buyer=world.alice)

    assert again.state == OrderState.PAID
    assert account_balance_fen(world.alice) == before
    assert Entry.objects.count() == entries
    assert audit_history(order).filter(action="order_pay").count() == 1


def test_a_buyer_cannot_pay_beyond_their_balance(world):
    """Nothing changes: no money moves, no policy or premium, the order stays unpaid."""
    poor = UserFactory(username="poor")
    address = AddressFactory(user=poor)
    balance_top_up(user=poor, amount_fen=15_899, key="poor-topup")
    order = order_place(buyer=poor, address=address, items=[(world.sku, 1)])
    entries, deposit = Entry.objects.count(), balance(AccountKind.DEPOSIT, world.seller.user)

    with pytest.raises(ServiceError) as refused:
        order_pay(order=order, buyer=poor)

    assert refused.value.code == "insufficient_balance"
    order.refresh_from_db()
    assert (order.state, order.paid_at) == (OrderState.CREATED, None)
    assert account_balance_fen(poor) == 15_899
    assert Entry.objects.count() == entries
    assert balance(AccountKind.DEPOSIT, world.seller.user) == deposit
    assert not Policy.objects.exists()
    assert ledger_discrepancies() == []


def test_a_buyer_can_pay_exactly_their_balance(world):
    poor = UserFactory(username="exact")
    balance_top_up(user=poor, amount_fen=15_900, key="exact-topup")
    order = order_place(buyer=poor, address=AddressFactory(user=poor), items=[(world.sku, 1)])

    order_pay(order=order, buyer=poor)

    assert account_balance_fen(poor) == 0


def test_only_the_buyer_pays_their_order(world):
    order = place(world)

    with pytest.raises(OrderRefused) as refused:
        order_pay(order=order, buyer=world.bob)

    assert refused.value.code == "not_found"
    order.refresh_from_db()
    assert order.state == OrderState.CREATED


def test_a_closed_or_late_order_cannot_be_paid(world):
    cancelled = place(world)
    order_cancel(order=cancelled, buyer=world.alice)
    late = place(world, items=[(world.other_shop_sku, 1)])
    Order.objects.filter(pk=late.pk).update(pay_deadline=timezone.now())

    for order in (cancelled, late):
        with pytest.raises(OrderRefused) as refused:
            order_pay(order=order, buyer=world.alice)
        assert refused.value.code == "order_not_payable"
    assert account_balance_fen(world.alice) == 1_000_000


def test_a_free_order_is_paid_without_money_from_the_buyer(world):
    red_packet = coupon_issue(shop=None, name="免单", amount_fen=100_000, valid_until=until())
    order = place(world, platform_coupon=red_packet)

    order_pay(order=order, buyer=world.alice)

    assert account_balance_fen(world.alice) == 1_000_000
    assert balance(AccountKind.ESCROW) == 15_900
    assert ledger_discrepancies() == []


# --- shipping, receipt, cancelling, closing -------------------------------------------------


def test_the_trade_succeeds_on_receipt_and_escrow_pays_the_seller(world):
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=500, valid_until=until())
    order = place(world, platform_coupon=red_packet)
    order_pay(order=order, buyer=world.alice)
    order_ship(order=order)

    done = order_confirm_receipt(order=order, buyer=world.alice)

    assert done.state == OrderState.SUCCEEDED
    assert done.succeeded_at is not None
    assert balance(AccountKind.SELLER, world.seller.user) == 15_900
    assert balance(AccountKind.ESCROW) == 0
    states = [(e.from_state, e.to_state) for e in audit_history(order)]
    assert states == [("", "created"), ("created", "paid"), ("paid", "shipped"), ("shipped", "succeeded")]


def test_shipping_twice_ships_once(world):
    order = world.buy(succeed=False)
    order_ship(order=order)

    order_ship(order=order)

    assert audit_history(order).filter(action="order_ship").count() == 1


def test_only_a_paid_order_ships(world):
    order = place(world)

    with pytest.raises(OrderRefused) as refused:
        order_ship(order=order)

    assert refused.value.code == "order_not_shippable"


def test_confirming_twice_settles_once(world):
    order = world.buy()
    seller_balance = balance(AccountKind.SELLER, world.seller.user)

    order_confirm_receipt(order=order, buyer=world.alice)

    assert balance(AccountKind.SELLER, world.seller.user) == seller_balance == 15_900
    assert audit_history(order).filter(action="order_confirm").count() == 1


def test_receipt_needs_shipping_and_the_buyer(world):
    order = world.buy(succeed=False)

    with pytest.raises(OrderRefused) as refused:
        order_confirm_receipt(order=order, buyer=world.alice)
    assert refused.value.code == "order_not_shipped"

    order_ship(order=order)
    with pytest.raises(OrderRefused) as refused:
        order_confirm_receipt(order=order, buyer=world.bob)
    assert refused.value.code == "not_found"
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_cancelling_twice_closes_once(world):
    order = place(world)

    order_cancel(order=order, buyer=world.alice)
    again = order_cancel(order=order, buyer=world.alice)

    assert again.state == OrderState.CLOSED
    assert audit_history(order).filter(action="order_cancel").count() == 1


def test_only_an_unpaid_order_is_cancelled_by_its_buyer(world):
    paid = world.buy(succeed=False)
    unpaid = place(world)

    with pytest.raises(OrderRefused) as refused:
        order_cancel(order=paid, buyer=world.alice)
    assert refused.value.code == "order_not_cancellable"
    with pytest.raises(OrderRefused) as refused:
        order_cancel(order=unpaid, buyer=world.bob)
    assert refused.value.code == "not_found"


def test_unpaid_orders_close_after_their_timeout(world):
    unpaid = place(world)
    paid = world.buy(succeed=False)

    assert orders_close_unpaid(now=unpaid.pay_deadline - timedelta(seconds=1)) == 0
    assert orders_close_unpaid(now=unpaid.pay_deadline) == 1
    assert orders_close_unpaid(now=unpaid.pay_deadline) == 0

    unpaid.refresh_from_db()
    assert (unpaid.state, unpaid.closed_at) == (OrderState.CLOSED, unpaid.pay_deadline)
    paid.refresh_from_db()
    assert paid.state == OrderState.PAID
    assert audit_history(unpaid).filter(action="order_close_unpaid").count() == 1


def test_unpaid_orders_close_in_batches(world):
    for _ in range(5):
        place(world)

    assert orders_close_unpaid(now=timezone.now() + timedelta(hours=1), batch_size=2) == 5

    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.CLOSED}


# --- refunds ----------------------------------------------------------------------------------


def test_a_full_refund_before_receipt_comes_from_escrow(world):
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=500, valid_until=until())
    order = place(world, platform_coupon=red_packet)
    order_pay(order=order, buyer=world.alice)
    marketing = balance(AccountKind.MARKETING)

    refunded = order_refund(order=order, reason="缺货")

    assert refunded.state == OrderState.REFUNDED
    assert account_balance_fen(world.alice) == 1_000_000
    assert balance(AccountKind.MARKETING) == marketing + 500  # the allowance goes back to the platform
    assert balance(AccountKind.ESCROW) == 0
    assert order.lines.get().refunded_fen == 15_400
    assert ledger_discrepancies() == []


def test_a_full_refund_after_success_comes_from_the_seller(world):
    order = world.buy()

    order_refund(order=order)

    assert account_balance_fen(world.alice) == 1_000_000
    assert balance(AccountKind.SELLER, world.seller.user) == 0


def test_refunding_twice_refunds_once(world):
    order = world.buy()
    order_refund(order=order)
    entries = Entry.objects.count()

    order_refund(order=order)

    assert Entry.objects.count() == entries
    assert account_balance_fen(world.alice) == 1_000_000


def test_an_unpaid_order_cannot_be_refunded(world):
    order = place(world)

    with pytest.raises(OrderRefused) as refused:
        order_refund(order=order)

    assert refused.value.code == "order_not_refundable"


def test_a_partial_refund_refunds_once_per_request(world):
    order = world.buy()
    line = world.line(order)

    order_line_refund(line=line, amount_fen=5_000, request_id="AS-1", reason="少发配件")
    order_line_refund(line=line, amount_fen=5_000, request_id="AS-1")

    line.refresh_from_db()
    assert line.refunded_fen == 5_000
    assert account_balance_fen(world.alice) == 1_000_000 - 15_900 + 5_000
    assert balance(AccountKind.SELLER, world.seller.user) == 15_900 - 5_000

    order_line_refund(line=line, amount_fen=5_000, request_id="AS-2")
    line.refresh_from_db()
    assert line.refunded_fen == 10_000


def test_partial_refunds_then_the_rest(world):
    order = world.buy(succeed=False)
    line = world.line(order)
    order_line_refund(line=line, amount_fen=900, request_id="AS-1")

    order_refund(order=order)

    line.refresh_from_db()

    assert line.refunded_fen == line.paid_fen == 15_900
    assert account_balance_fen(world.alice) == 1_000_000
    assert balance(AccountKind.ESCROW) == 0


@pytest.mark.parametrize(
    "amount,code",
    [
        (0, "invalid_amount"),
        (-1, "invalid_amount"),
        (True, "invalid_amount"),
        (1.5, "invalid_amount"),
        ("100", "invalid_amount"),
        (15_901, "refund_too_large"),
        (10**30, "refund_too_large"),
    ],
)
def test_a_partial_refund_refuses_a_bad_amount(world, amount, code):
    order = world.buy()
    line = world.line(order)

    with pytest.raises(InvalidInput) as refused:
        order_line_refund(line=line, amount_fen=amount, request_id="AS-1")

    assert refused.value.code == code
    line.refresh_from_db()
    assert line.refunded_fen == 0
    assert not Transfer.objects.filter(kind=TransferKind.REFUND).exists()


@pytest.mark.parametrize("request_id", ["", None, "x" * 41])
def test_a_partial_refund_needs_a_request_id(world, request_id):
    line = world.line(world.buy())

    with pytest.raises(InvalidInput) as refused:
        order_line_refund(line=line, amount_fen=100, request_id=request_id)

    assert refused.value.code == "invalid_request"


def test_a_partial_refund_cannot_exceed_what_is_left(world):
    line = world.line(world.buy())
    order_line_refund(line=line, amount_fen=15_000, request_id="AS-1")

    with pytest.raises(InvalidInput) as refused:
        order_line_refund(line=line, amount_fen=901, request_id="AS-2")

    assert refused.value.code == "refund_too_large"
    assert OrderLine.objects.get(pk=line.pk).refunded_fen == 15_000


def test_an_unpaid_or_refunded_line_cannot_be_refunded(world):
    unpaid = place(world)
    refunded = world.buy()
    order_refund(order=refunded)

    for order in (unpaid, refunded):
        with pytest.raises(OrderRefused) as refused:
            order_line_refund(line=order.lines.get(), amount_fen=100, request_id="AS-9")
        assert refused.value.code == "order_not_refundable"
