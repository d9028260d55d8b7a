"""The rows of a simulation (bench/simulate.py): the world it happens in, then each chunk of
orders, lines, policies, evidence orders and claims as ``INSERT … SELECT`` over a number
series, and the money as balanced transfers. Runs on PostgreSQL and SQLite (the tests)."""

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from alipay.models import AccountKind, Transfer, TransferKind
from alipay.services import (
    Leg,
    insurer_account,
    system_account,
    transfer_post,
    transfers_post_query,
    user_account,
)
from bench.simulate import Plan, SimulationError
from claims.models import Claim, ClaimState
from insurance.models import (
    Coverage,
    InsuranceProduct,
    Insurer,
    Policy,
    PolicyState,
    Premium,
    PremiumKind,
    ProductRate,
)
from insurance.services import premium_for
from orders.models import Campaign, CampaignItem, CampaignState, Order, OrderLine, OrderState
from shops.models import CatalogProduct, Listing, Platform, Seller, Shop, Sku, specs_key

CAMPAIGN_PRICE_FEN, LIST_PRICE_FEN, LOWER_PRICE_FEN = 15_900, 19_900, 14_900
ADDRESS = ("模拟买家", "13800000000", "浙江省 杭州市 ")
ORDER_COLUMNS = (
    "number, buyer_id, shop_id, campaign_id, state, ship_recipient, ship_phone, ship_address, "
    "item_total_fen, shop_discount_fen, platform_discount_fen, paid_fen, created_at, pay_deadline, "
    "paid_at, shipped_at, succeeded_at, closed_at"
)
LINE_COLUMNS = (
    "order_id, sku_id, campaign_item_id, quantity, unit_price_fen, item_total_fen, "
    "shop_discount_fen, platform_discount_fen, paid_fen, refunded_fen"
)


@dataclass
class World:
    tag: str
    now: datetime
    seller: Seller
    shops: list[Shop]
    skus: list[Sku]  # skus[0] is on campaign; skus[1] (another shop) later sells for less
    campaigns: list[Campaign]
    campaign_ids: list[int]
    item_ids: list[int]
    coverage_ids: list[int]
    insurer: Insurer
    product: InsuranceProduct
    rate_bp: int  # the product's premium rate on the campaign SKU's platform
    first_buyer: int
    buyers: int
    heavy: int  # orders of the first buyer (0: none)

    @property
    def prefix(self) -> str:
        # The tag has a fixed width, so prefix + n is unique and reversible.
        return f"S{self.tag}-"

    @property
    def evidence_prefix(self) -> str:
        return f"E{self.tag}"  # letters and digits only, as the claim form requires

    def buyer_sql(self) -> str:
        """The buyer of order ``g.n``: the heavy buyer's first, then round the others."""
        first, others = self.first_buyer, self.buyers - (1 if self.heavy else 0)
        if not self.heavy:
            return f"({first} + g.n %% {self.buyers})"
        if not others:
            return f"({first})"
        return f"(CASE WHEN g.n < {self.heavy} THEN {first} ELSE {first + 1} + (g.n - {self.heavy}) %% {others} END)"


def series(low: int, high: int) -> str:
    """A ``FROM`` clause yielding ``g.n`` for low ≤ n < high (literals: they are our own ints)."""
    if connection.vendor == "postgresql":
        return f"generate_series({int(low)}, {int(high) - 1}) AS g(n)"
    return (
        f"(WITH RECURSIVE s(n) AS (SELECT {int(low)} UNION ALL SELECT n + 1 FROM s WHERE n < {int(high) - 1}) "
        "SELECT n FROM s) g"
    )


def _t(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _contiguous(ids: list[int], what: str) -> list[int]:
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise SimulationError(f"{what} were not numbered contiguously; run one simulation at a time")
    return ids


def _tag() -> str:
    """Names this simulation's rows (to the second): one simulation per second."""
    User = get_user_model()  # noqa: N806
    while True:
        now = timezone.now()
        tag = now.strftime("%d%H%M%S")
        if not User.objects.filter(username=f"sim-seller-{tag}").exists():
            return tag
        time.sleep(1.01 - now.microsecond / 1_000_000)


def _catalog(seller: Seller, tag: str) -> tuple[list[Shop], list[Sku]]:
    shops = [
        Shop.objects.create(seller=seller, name=f"模拟{platform.label} {tag}", platform=platform)
        for platform in Platform
    ]
    product = CatalogProduct.objects.create(brand="模拟", model=f"SIM-{tag}", name="模拟耳机")
    specs = {"颜色": "黑色"}
    skus = [
        Sku.objects.create(
            listing=Listing.objects.create(shop=shop, product=product, title=f"模拟耳机 {shop.name}"),
            specs=specs,
            specs_key=specs_key(specs),
            price_fen=LIST_PRICE_FEN,
        )
        for shop in shops
    ]
    # After the campaigns the same product sells for less on another shop: the evidence orders' SKU.
    skus[1].price_fen = LOWER_PRICE_FEN
    skus[1].save(update_fields=["price_fen"])
    return shops, skus


def _campaigns(
    plan: Plan, seller: Seller, sku: Sku, product: InsuranceProduct, tag: str, now: datetime
) -> tuple:
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            seller=seller,
            name=f"模拟聚划算 {tag}" + (f" #{k + 1}" if plan.campaigns > 1 else ""),
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(hours=1),
            state=CampaignState.ENDED,
        )
        for k in range(plan.campaigns)
    )
    campaigns.sort(key=lambda c: c.pk)
    items = CampaignItem.objects.bulk_create(
        CampaignItem(campaign=c, sku=sku, campaign_price_fen=CAMPAIGN_PRICE_FEN) for c in campaigns
    )
    coverages = Coverage.objects.bulk_create(
        Coverage(campaign_item=item, product=product, enabled=True, turned_on_at=now - timedelta(days=4))
        for item in items
    )
    ids = [
        _contiguous(sorted(o.pk for o in objects), what)
        for objects, what in ((campaigns, "campaigns"), (items, "campaign items"), (coverages, "coverages"))
    ]
    return campaigns, *ids


def _buyers(plan: Plan, tag: str, now: datetime) -> int:
    User = get_user_model()  # noqa: N806
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {User._meta.db_table} (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) "
            f"SELECT '!', %s, %s || g.n, '', '', '', %s, %s, %s FROM {series(0, plan.buyers)}",
            [False, f"sim-{tag}-", False, True, _t(now)],
        )
    first = User.objects.get(username=f"sim-{tag}-0").pk
    last = User.objects.get(username=f"sim-{tag}-{plan.buyers - 1}").pk
    if last - first != plan.buyers - 1:
        raise SimulationError("buyers were not numbered contiguously; run one simulation at a time")
    return first


def world_create(plan: Plan) -> World:
    User = get_user_model()  # noqa: N806
    tag = _tag()
    now = timezone.now()
    insurer, _ = Insurer.objects.get_or_create(code="sim-insurer", defaults={"name": "模拟保险公司"})
    seller = Seller.objects.create(
        user=User.objects.create(username=f"sim-seller-{tag}"), name=f"模拟商家 {tag}"
    )
    shops, skus = _catalog(seller, tag)
    product, _ = InsuranceProduct.objects.get_or_create(insurer=insurer, name="模拟价保产品")
    ProductRate.objects.get_or_create(
        product=product, platform=shops[0].platform, category="", defaults={"rate_bp": 100}
    )
    campaigns, campaign_ids, item_ids, coverage_ids = _campaigns(plan, seller, skus[0], product, tag, now)
    return World(
        tag=tag,
        now=now,
        seller=seller,
        shops=shops,
        skus=skus,
        campaigns=campaigns,
        campaign_ids=campaign_ids,
        item_ids=item_ids,
        coverage_ids=coverage_ids,
        insurer=insurer,
        product=product,
        rate_bp=product.rate_for(platform=shops[0].platform),
        first_buyer=_buyers(plan, tag, now),
        buyers=plan.buyers,
        heavy=plan.heavy_buyer_orders,
    )


def _orders_of(low: int, high: int, where: str = "") -> str:
    """Orders ``prefix + n`` for n in [low, high) with their n (one placeholder: the prefix)."""
    return (
        f"SELECT o.id, o.number, o.buyer_id, o.campaign_id, o.paid_fen, s.n FROM {Order._meta.db_table} o "
        f"JOIN (SELECT %s || g.n AS number, g.n AS n FROM {series(low, high)} {where}) s ON s.number = o.number"
    )


def _insured_orders(cursor, world: World, low: int, high: int) -> None:
    campaign = world.campaigns[0]
    paid_at = campaign.starts_at + timedelta(hours=1)
    cursor.execute(
        f"INSERT INTO {Order._meta.db_table} ({ORDER_COLUMNS}) SELECT %s || g.n, {world.buyer_sql()}, %s, "
        f"{world.campaign_ids[0]} + g.n %% {len(world.campaign_ids)}, %s, %s, %s, %s || {world.buyer_sql()}, "
        f"%s, 0, 0, %s, %s, %s, %s, %s, %s, NULL FROM {series(low, high)}",
        [
            world.prefix,
            world.shops[0].pk,
            OrderState.SUCCEEDED,
            *ADDRESS,
            CAMPAIGN_PRICE_FEN,
            CAMPAIGN_PRICE_FEN,
            _t(paid_at),
            _t(paid_at + timedelta(minutes=30)),
            _t(paid_at),
            _t(paid_at + timedelta(hours=5)),
            _t(paid_at + timedelta(days=1)),
        ],
    )
    first_campaign, first_item = world.campaign_ids[0], world.item_ids[0]
    cursor.execute(
        f"INSERT INTO {OrderLine._meta.db_table} ({LINE_COLUMNS}) SELECT o.id, %s, "
        f"{first_item} + o.campaign_id - {first_campaign}, 1, %s, %s, 0, 0, %s, 0 "
        f"FROM ({_orders_of(low, high)}) o",
        [world.skus[0].pk, CAMPAIGN_PRICE_FEN, CAMPAIGN_PRICE_FEN, CAMPAIGN_PRICE_FEN, world.prefix],
    )


def _policies(cursor, world: World, low: int, high: int) -> None:
    campaign = world.campaigns[0]
    product = world.product
    window_days = product.window_days
    premium = premium_for(insured_fen=CAMPAIGN_PRICE_FEN, rate_bp=world.rate_bp)
    cursor.execute(
        f"INSERT INTO {Policy._meta.db_table} (number, coverage_id, insurer_id, product_id, premium_rate_bp, "
        "window_days, risk_terms, order_line_id, buyer_id, seller_id, state, "
        "insured_fen, premium_fen, window_starts_at, window_ends_at, issued_at, claimable_at) "
        f"SELECT %s || o.number, {world.coverage_ids[0]} + o.campaign_id - {world.campaign_ids[0]}, "
        f"%s, %s, %s, %s, %s, l.id, o.buyer_id, %s, %s, %s, %s, %s, %s, %s, %s "
        f"FROM {OrderLine._meta.db_table} l JOIN ({_orders_of(low, high)}) o ON o.id = l.order_id",
        [
            "BD",
            product.insurer_id,
            product.pk,
            world.rate_bp,
            window_days,
            json.dumps(product.risk_thresholds.as_dict()),
            world.seller.pk,
            PolicyState.CLAIMABLE,
            CAMPAIGN_PRICE_FEN,
            premium,
            _t(campaign.ends_at),
            _t(campaign.ends_at + timedelta(days=window_days)),
            _t(campaign.starts_at + timedelta(hours=1)),
            _t(campaign.ends_at),
            world.prefix,
        ],
    )


def _evidence(cursor, world: World, low: int, high: int, every: int) -> int:
    """The evidence orders (closed unpaid, at the lower price) of every ``every``-th n, each by
    the buyer of insured order n, to the same address, for the same product and specs."""
    filed_at = world.now - timedelta(minutes=30)
    picked = f"WHERE g.n %% {int(every)} = 0"
    cursor.execute(
        f"INSERT INTO {Order._meta.db_table} ({ORDER_COLUMNS}) SELECT %s || g.n, {world.buyer_sql()}, %s, NULL, "
        f"%s, %s, %s, %s || {world.buyer_sql()}, %s, 0, 0, %s, %s, %s, NULL, NULL, NULL, %s "
        f"FROM {series(low, high)} {picked}",
        [
            world.evidence_prefix,
            world.shops[1].pk,
            OrderState.CLOSED,
            *ADDRESS,
            LOWER_PRICE_FEN,
            LOWER_PRICE_FEN,
            _t(filed_at - timedelta(minutes=5)),
            _t(filed_at + timedelta(minutes=25)),
            _t(filed_at + timedelta(minutes=25)),
        ],
    )
    cursor.execute(
        f"INSERT INTO {OrderLine._meta.db_table} ({LINE_COLUMNS}) SELECT e.id, %s, NULL, 1, %s, %s, 0, 0, %s, 0 "
        f"FROM ({_orders_of(low, high, picked)}) e",
        [world.skus[1].pk, LOWER_PRICE_FEN, LOWER_PRICE_FEN, LOWER_PRICE_FEN, world.evidence_prefix],
    )
    return cursor.rowcount


def _claims(cursor, world: World, plan: Plan, low: int, high: int) -> tuple[int, int]:
    """The claim of each evidence order of [low, high) on its insured order's policy: approved,
    or in review for every ``review_every``-th claim. Returns (claims, in review)."""
    json = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    every, review_every = plan.every, plan.review_every
    review = f"(e.n / {every}) %% {review_every} = 0" if review_every else "1 = 0"
    filed_at = world.now - timedelta(minutes=30)
    cursor.execute(
        f"INSERT INTO {Claim._meta.db_table} (number, policy_id, buyer_id, evidence_order_number, "
        "evidence_order_id, state, checks, review_reasons, price_difference_fen, compensation_fen, filed_at, "
        "decided_at, decision_reason) "
        f"SELECT %s || e.number, p.id, e.buyer_id, e.number, e.id, CASE WHEN {review} THEN %s ELSE %s END, "
        f"{json}, CASE WHEN {review} THEN {json} ELSE {json} END, %s, %s, %s, %s, '' "
        f"FROM ({_orders_of(low, high, f'WHERE g.n %% {int(every)} = 0')}) e "
        f"JOIN {Order._meta.db_table} o ON o.number = %s || e.n "
        f"JOIN {OrderLine._meta.db_table} l ON l.order_id = o.id "
        f"JOIN {Policy._meta.db_table} p ON p.order_line_id = l.id",
        [
            "LP",
            ClaimState.IN_REVIEW,
            ClaimState.APPROVED,
            "[]",
            '["amount_above_threshold"]',
            "[]",
            CAMPAIGN_PRICE_FEN - LOWER_PRICE_FEN,
            CAMPAIGN_PRICE_FEN - LOWER_PRICE_FEN,
            _t(filed_at),
            _t(filed_at),
            world.evidence_prefix,
            world.prefix,
        ],
    )
    return cursor.rowcount, _in_review_count(plan, low, high)


def _in_review_count(plan: Plan, low: int, high: int) -> int:
    """How many of the claims of [low, high) :func:`_claims` left in review (the same rule)."""
    if not plan.review_every:
        return 0
    first = -(-low // plan.every) * plan.every
    return sum(1 for n in range(first, high, plan.every) if (n // plan.every) % plan.review_every == 0)


def _heavy_buyer_money(world: World, low: int, high: int) -> int:
    """The heavy buyer's orders of [low, high) one by one, as the services post them: a top-up,
    then each order's payment into escrow and its settlement to the seller. Returns their total."""
    high = min(high, world.heavy)
    if low >= high:
        return 0
    User = get_user_model()  # noqa: N806
    buyer = user_account(user=User.objects.get(pk=world.first_buyer), kind=AccountKind.BUYER)
    total = (high - low) * CAMPAIGN_PRICE_FEN
    transfer_post(
        key=f"sim:{world.tag}:{low}:top-up",
        kind=TransferKind.TOP_UP,
        legs=[Leg(system_account(AccountKind.EXTERNAL), -total), Leg(buyer, total)],
        memo="余额充值(模拟)",
    )
    escrow = system_account(AccountKind.ESCROW).pk
    seller = user_account(user=world.seller.user, kind=AccountKind.SELLER).pk
    for kind, key, memo, debit, credit in (
        (TransferKind.ORDER_PAYMENT, "pay:order:", "订单付款 ", buyer.pk, escrow),
        (TransferKind.TRADE_SETTLEMENT, "settle:order:", "交易成功 ", escrow, seller),
    ):
        rows_sql = (
            f"SELECT %s || o.id AS key, %s || o.number AS memo, %s || o.id AS reference, "
            f"{int(debit)} AS debit, {int(credit)} AS credit, o.paid_fen AS amount "
            f"FROM ({_orders_of(low, high)}) o"
        )
        transfers_post_query(kind=kind, rows_sql=rows_sql, params=[key, memo, "order:", world.prefix])
    return total


def _premium_rows(world: World, low: int, high: int) -> None:
    """Each policy's premium as the product charges it: a transfer from the seller to the insurer
    (``premium:policy:<id>``) and a premium row."""
    policy, transfer = Policy._meta.db_table, Transfer._meta.db_table
    seller = user_account(user=world.seller.user, kind=AccountKind.SELLER).pk
    insurer = insurer_account(code=world.insurer.code, name=world.insurer.name).pk
    policies = (
        f"SELECT p.id, p.number, p.premium_fen FROM {policy} p "
        f"JOIN (SELECT %s || %s || g.n AS number FROM {series(low, high)}) s ON s.number = p.number"
    )
    rows_sql = (
        f"SELECT %s || p.id AS key, %s || p.number AS memo, %s || p.id AS reference, {int(seller)} AS debit, "
        f"{int(insurer)} AS credit, p.premium_fen AS amount FROM ({policies}) p"
    )
    params = ["premium:policy:", "保险承保-价格保障保险-保费收取 ", "policy:", "BD", world.prefix]
    transfers_post_query(kind=TransferKind.PREMIUM, rows_sql=rows_sql, params=params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Premium._meta.db_table} (policy_id, kind, amount_fen, transfer_id, created_at) "
            f"SELECT p.id, %s, p.premium_fen, t.id, %s FROM ({policies}) p JOIN {transfer} t ON t.key = %s || p.id",
            [PremiumKind.CHARGE, _t(world.campaigns[0].starts_at), "BD", world.prefix, "premium:policy:"],
        )


def _post_money(world: World, low: int, lines: int, heavy_total: int, *, chunk_premiums: bool) -> None:
    """The chunk's sales (but the heavy buyer's, already posted) and premiums (unless posted
    policy by policy), one transfer each."""
    seller = user_account(user=world.seller.user, kind=AccountKind.SELLER)
    key, reference = f"sim:{world.tag}:{low}", f"campaign:{world.campaign_ids[0]}"
    sales = lines * CAMPAIGN_PRICE_FEN - heavy_total
    premiums = lines * premium_for(insured_fen=CAMPAIGN_PRICE_FEN, rate_bp=world.rate_bp)
    if sales:
        transfer_post(
            key=f"{key}:sales",
            kind=TransferKind.TRADE_SETTLEMENT,
            legs=[Leg(system_account(AccountKind.EXTERNAL), -sales), Leg(seller, sales)],
            memo="模拟活动销售(导入)",
            reference=reference,
        )
    if not chunk_premiums:
        return
    insurer = insurer_account(code=world.insurer.code, name=world.insurer.name)
    transfer_post(
        key=f"{key}:premiums",
        kind=TransferKind.PREMIUM,
        legs=[Leg(seller, -premiums), Leg(insurer, premiums)],
        memo="模拟活动保费(导入)",
        reference=reference,
    )


@transaction.atomic
def chunk_write(world: World, plan: Plan, low: int, high: int) -> dict[str, int]:
    """Orders n in [low, high) with their lines and policies; the evidence orders and claims of
    those who found a lower price; the money. Returns what was written beyond the orders."""
    written = {"evidence": 0, "claims": 0, "in_review": 0}
    with connection.cursor() as cursor:
        _insured_orders(cursor, world, low, high)
        _policies(cursor, world, low, high)
        if plan.every:
            written["evidence"] = _evidence(cursor, world, low, high, plan.every)
            if not plan.evidence_only:
                written["claims"], written["in_review"] = _claims(cursor, world, plan, low, high)
    heavy_total = _heavy_buyer_money(world, low, high)
    if plan.premium_rows:
        _premium_rows(world, low, high)
    _post_money(world, low, high - low, heavy_total, chunk_premiums=not plan.premium_rows)
    return written


def analyze() -> None:
    """Fresh planner statistics for the tables just filled, as autovacuum would give them a
    little later: without them PostgreSQL plans the next batch job for empty tables."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (get_user_model(), Order, OrderLine, Policy, Claim)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
