"""A believable month for the demo: dozens of buyers, covered and uncovered campaign items, sales
over the last 30 days, refunds, unpaid orders that closed, price drops, and claims that were paid,
rejected or wait for review — so every chart and rate on the seller's dashboard means something.

Everything goes through the product's services at the moment it happens: the clock is moved with
time-machine, so each timestamp (orders, policies, claims, ledger entries, audit rows) is written by
the services themselves and the history is consistent (nothing is paid after it succeeded).
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from alipay.services import balance_top_up
from claims.models import Claim
from claims.services import claim_adjudicate, claim_file, claims_settle
from insurance.models import InsuranceProduct, Policy
from insurance.services import coverage_turn_on, policy_windows_advance
from orders.models import Address, Campaign, Order, OrderState
from orders.services import (
    address_create,
    campaign_create,
    campaign_item_add,
    campaigns_advance,
    order_confirm_receipt,
    order_pay,
    order_place,
    order_refund,
    order_ship,
    orders_close_unpaid,
)
from shops.models import Seller, Sku
from shops.services import sku_price_change

BUYERS = 36
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞"]
CITIES = [
    ("浙江省 杭州市 西湖区", "文三路"),
    ("上海市 徐汇区", "漕溪北路"),
    ("北京市 朝阳区", "建国路"),
    ("广东省 深圳市 南山区", "科技园路"),
    ("四川省 成都市 武侯区", "天府大道"),
    ("江苏省 南京市 鼓楼区", "中山路"),
]


@dataclass
class Campaign_:
    """One past campaign of the month: what it sells, when, and what happened after it."""

    name: str
    starts_days_ago: float
    hours: int
    covered: list[tuple[Sku, int, str | None]]  # (sku, campaign price, the insurer's product or the default)
    uncovered: list[tuple[Sku, int]]
    drop: tuple[Sku, int] | None  # after the campaign, this SKU (another shop) sells for less
    drop_after_days: float = 2
    claim_share: float = 0.6
    campaign: Campaign | None = None
    orders: list[tuple[Order, Address]] = field(default_factory=list)


def _travel(when: datetime):
    # The clock ticks on from there: two steps never share an instant (settlement tells its batch by it).
    return time_machine.travel(when, tick=True)


def _buyers(rng: random.Random, since: datetime) -> list[tuple]:
    """Dozens of buyers who joined before the month began, each with an address and a balance."""
    User = get_user_model()  # noqa: N806
    people = []
    with _travel(since):
        for n in range(1, BUYERS + 1):
            username = f"demo{n:02d}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username=username, password=None)
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                region, road = rng.choice(CITIES)
                address_create(
                    user=user,
                    recipient=name,
                    phone=f"139{rng.randrange(10**8):08d}",
                    region=region,
                    detail=f"{road} {rng.randrange(1, 999)} 号",
                )
                balance_top_up(user=user, amount_fen=300_000, key=f"demo-month-topup-{username}")
            people.append((user, Address.objects.filter(user=user).first()))
    return people


def _buy(buyer, address, sku: Sku, quantity: int, at: datetime, rng: random.Random, pays: float) -> Order:
    """One purchase as it really unfolds: placed, then paid (or left to close), shipped, received."""
    with _travel(at):
        order = order_place(buyer=buyer, address=address, items=[(sku, quantity)])
    if rng.random() > pays:
        return order  # never paid: the unpaid-order sweep closes it
    with _travel(at + timedelta(minutes=rng.randrange(2, 25))):
        order_pay(order=order, buyer=buyer)
    if rng.random() < 0.08:
        # Changed their mind before it shipped: refunded, the policy voided, the premium returned.
        with _travel(at + timedelta(hours=2)):
            order_refund(order=order, reason="不想要了")
        return order
    with _travel(at + timedelta(hours=rng.randrange(6, 30))):
        order_ship(order=order)
    with _travel(at + timedelta(days=rng.randrange(2, 5), hours=rng.randrange(0, 12))):
        order_confirm_receipt(order=order, buyer=buyer)
    return order


def _run_campaign(plan: Campaign_, *, seller: Seller, products: dict, people: list[tuple], rng, now):
    start = now - timedelta(days=plan.starts_days_ago)
    end = start + timedelta(hours=plan.hours)
    with _travel(start - timedelta(days=1)):
        plan.campaign = campaign_create(seller=seller, name=plan.name, starts_at=start, ends_at=end)
        for sku, price, product in plan.covered:
            item = campaign_item_add(campaign=plan.campaign, sku=sku, campaign_price_fen=price)
            coverage_turn_on(campaign_item=item, seller=seller, product=products.get(product))
        for sku, price in plan.uncovered:
            campaign_item_add(campaign=plan.campaign, sku=sku, campaign_price_fen=price)
    with _travel(start):
        campaigns_advance()
    shoppers = rng.sample(people, k=rng.randrange(len(people) // 2, len(people) - 4))
    for buyer, address in shoppers:
        # Covered items sell better and convert better: the effect the dashboard shows.
        covered = rng.random() < 0.7
        sku = rng.choice(plan.covered if covered else plan.uncovered)[0]
        at = start + timedelta(minutes=rng.randrange(5, plan.hours * 60 - 60))
        order = _buy(buyer, address, sku, rng.choice((1, 1, 1, 2)), at, rng, pays=0.93 if covered else 0.72)
        plan.orders.append((order, address))
    with _travel(end + timedelta(minutes=1)):
        campaigns_advance()
        policy_windows_advance()
    with _travel(end + timedelta(hours=2)):
        orders_close_unpaid()


def _claims_after_drop(plan: Campaign_, *, rng: random.Random, now: datetime) -> None:
    """The same item sells for less elsewhere; most insured buyers claim, a few get it wrong."""
    if plan.drop is None:
        return
    end = plan.campaign.ends_at
    sku, price = plan.drop
    was = sku.price_fen
    dropped_at = end + timedelta(days=plan.drop_after_days)
    if dropped_at >= now:
        return
    with _travel(dropped_at):
        sku_price_change(sku=sku, price_fen=price)
    for order, address in plan.orders:
        order.refresh_from_db()
        if order.state != OrderState.SUCCEEDED or rng.random() > plan.claim_share:
            continue
        line = order.lines.select_related("sku__listing").first()
        policy = Policy.objects.filter(order_line=line).first()
        if policy is None or line.sku.listing.product_id != sku.listing.product_id:
            continue
        if line.sku.specs_key != sku.specs_key:
            continue
        at = max(dropped_at, order.succeeded_at) + timedelta(minutes=rng.randrange(60, 48 * 60))
        at += timedelta(seconds=rng.randrange(60), microseconds=rng.randrange(10**6))
        if at >= min(now, policy.window_ends_at) - timedelta(minutes=10):
            continue
        # One in eight picks the wrong quantity for the evidence order: rejected, check by check.
        quantity = line.quantity + 1 if rng.random() < 0.125 else line.quantity
        _claim(order, address, line, sku, quantity, at)
    with _travel(dropped_at + timedelta(days=6)):
        sku_price_change(sku=sku, price_fen=was)


def _claim(order: Order, address: Address, line, sku: Sku, quantity: int, at: datetime) -> None:
    """The evidence order, the claim, the platform's decision and, if approved, the payout."""
    with _travel(at):
        evidence = order_place(buyer=order.buyer, address=address, items=[(sku, quantity)])
    with _travel(at + timedelta(minutes=3)):
        claim = claim_file(order_line=line, evidence_order_number=evidence.number, buyer=order.buyer)
    with _travel(at + timedelta(minutes=4)):
        claim_adjudicate(claim=Claim.objects.get(pk=claim.pk))
    with _travel(at + timedelta(minutes=5)):
        claims_settle()


def play_month(
    *,
    seller: Seller,
    products: dict[str, InsuranceProduct],
    skus: dict,
    now: datetime | None = None,
    seed: int = 2026,
) -> None:
    """Thirty days of campaigns before ``now``; the month's buyers are ``demo01``…``demo36``."""
    rng = random.Random(seed)
    now = now or timezone.now()
    people = _buyers(rng, now - timedelta(days=35))
    band, buds, cooker = skus[("Band 9", "tmall")], skus[("Buds 6", "tmall")], skus[("MFB-3L", "tmall")]
    band_taobao, buds_taobao = skus[("Band 9", "taobao")], skus[("Buds 6", "taobao")]
    plans = [
        Campaign_(
            "618 返场 · 小米手环 9",
            starts_days_ago=29,
            hours=48,
            covered=[(band[0], 21_900, None), (band[1], 23_900, None)],
            uncovered=[(cooker[0], 26_900)],
            drop=(band_taobao[0], 20_900),
            drop_after_days=3,
        ),
        Campaign_(
            "周年庆 · Redmi Buds 6",
            starts_days_ago=21,
            hours=36,
            covered=[(buds[0], 17_900, None)],
            uncovered=[(cooker[0], 27_900)],
            drop=(buds_taobao[0], 16_900),
            drop_after_days=4,
        ),
        Campaign_(
            "秋季焕新 · 小米手环 9",
            starts_days_ago=11,
            hours=48,
            # Under the insurer's product reviewed above ¥100, a silver band dropping ¥105 waits for review.
            covered=[(band[0], 22_900, None), (band[1], 24_900, "reviewed")],
            uncovered=[(cooker[0], 25_900)],
            drop=(band_taobao[1], 14_400),
            drop_after_days=2,
            claim_share=0.5,
        ),
    ]
    for plan in plans:
        _run_campaign(plan, seller=seller, products=products, people=people, rng=rng, now=now)
        _claims_after_drop(plan, rng=rng, now=now)
    # Windows that closed during the month expire their unclaimed policies, as beat would have.
    for plan in plans:
        window_end = max((p.window_ends_at for p in _policies(plan)), default=None)
        if window_end and window_end < now:
            with _travel(window_end + timedelta(minutes=1)):
                policy_windows_advance()


def _policies(plan: Campaign_):
    return Policy.objects.filter(order_line__order__campaign=plan.campaign)
