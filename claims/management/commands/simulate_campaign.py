"""Build a Juhuasuan campaign at scale: shops on every platform, many buyers, succeeded insured
orders, a later price drop, evidence orders and approved claims.

With ``--evidence-only`` the buyers who found the lower price have placed their evidence orders
(unpaid, since closed: the SKU, specs, quantity and address of their insured order) but have not
filed yet: no claims are written, and each of those policies can be claimed once, e.g. over the
API (``bench/http.py`` files them as its load).

The campaign's history is imported, not replayed: rows are written set-based (``INSERT … SELECT``
over a number series, in chunks) exactly as the services would have left them — states, amounts,
windows — so that what is measured afterwards, closing the window and settling the claims, runs
through the product's own services. The money of the imported history is posted as balanced
transfers per chunk (sales into the seller's balance, premiums to the insurer), so every ledger
invariant still holds.
"""

import json
import sys
import time
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from alipay.models import AccountKind, TransferKind
from alipay.services import Leg, insurer_account, system_account, transfer_post, user_account
from claims.models import Claim, ClaimState
from insurance.models import Coverage, InsuranceProduct, Insurer, Policy, PolicyState, ProductRate
from insurance.services import premium_for
from orders.models import Campaign, CampaignItem, CampaignState, Order, OrderLine, OrderState
from shops.models import CatalogProduct, Listing, Platform, Seller, Shop, Sku, specs_key

CHUNK = 50_000
ORDERS_PER_BUYER = 10
MAX_ORDERS = 20_000_000


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise CommandError(f"a share must be a number between 0 and 1, not {value!r}") from None
    if not 0 <= share <= 1:
        raise CommandError(f"a share must be between 0 and 1, not {share}")
    return share


def _series(low: int, high: int) -> str:
    """A ``FROM`` clause yielding ``g.n`` for low ≤ n < high (literals: they are our own ints)."""
    if connection.vendor == "postgresql":
        return f"generate_series({int(low)}, {int(high) - 1}) AS g(n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT {int(low)} UNION ALL SELECT n + 1 FROM s WHERE n < {int(high) - 1}) SELECT n FROM s) g"


def _t(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


class Command(BaseCommand):
    help = "Simulate an ended Juhuasuan campaign with N insured order lines (window open)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="insured order lines to create")
        parser.add_argument(
            "--price-drop-share",
            type=_share,
            default=0.3,
            help="share of buyers who find a lower price (0–1)",
        )
        parser.add_argument(
            "--claims-share", type=_share, default=1.0, help="share of those who file a claim, approved (0–1)"
        )
        parser.add_argument(
            "--orders-per-buyer",
            type=int,
            default=ORDERS_PER_BUYER,
            help=f"insured orders each buyer placed (default {ORDERS_PER_BUYER})",
        )
        parser.add_argument(
            "--evidence-only",
            action="store_true",
            help="place those buyers' evidence orders but file no claims (left to be filed, e.g. over the API)",
        )

    def handle(
        self,
        *args,
        orders: int,
        price_drop_share: float,
        claims_share: float,
        evidence_only: bool = False,
        orders_per_buyer: int = ORDERS_PER_BUYER,
        **options,
    ) -> None:
        if not 1 <= orders <= MAX_ORDERS:
            raise CommandError(f"--orders must be between 1 and {MAX_ORDERS:,}")
        if orders_per_buyer < 1:
            raise CommandError("--orders-per-buyer must be at least 1")
        claim_share = price_drop_share * claims_share
        every = round(1 / claim_share) if claim_share else 0
        world = self._world(max(1, -(-orders // orders_per_buyer)))
        progress = tqdm(
            total=orders, file=sys.stderr, disable=not sys.stderr.isatty(), unit="line", desc="orders"
        )
        claims = evidence = 0
        for low in range(0, orders, CHUNK):
            high = min(orders, low + CHUNK)
            chunk_evidence, chunk_claims = self._chunk(world, low, high, every, evidence_only)
            evidence, claims = evidence + chunk_evidence, claims + chunk_claims
            progress.update(high - low)
        progress.close()
        self._analyze()
        self.stdout.write(
            f"campaign {world['campaign'].pk} ({world['campaign'].name}): {orders} insured lines, "
            f"{claims} approved claims, {evidence} evidence orders, {world['buyers']} buyers "
            f"(insured orders {world['prefix']}<n>, evidence orders {world['evidence_prefix']}<n>)"
        )

    def _analyze(self) -> None:
        """Fresh planner statistics for the tables just filled, as autovacuum would give them a
        little later: without them PostgreSQL plans the next batch job for empty tables."""
        if connection.vendor != "postgresql":
            return
        User = get_user_model()  # noqa: N806
        tables = [m._meta.db_table for m in (User, Order, OrderLine, Policy, Claim)]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    def _world(self, buyers: int) -> dict:
        User = get_user_model()  # noqa: N806
        now = timezone.now()
        tag = now.strftime("%d%H%M%S")
        while User.objects.filter(username=f"sim-seller-{tag}").exists():
            # The tag (to the second) names this simulation's rows: one simulation per second.
            time.sleep(1.01 - now.microsecond / 1_000_000)
            now = timezone.now()
            tag = now.strftime("%d%H%M%S")
        insurer, _ = Insurer.objects.get_or_create(code="sim-insurer", defaults={"name": "模拟保险公司"})
        seller = Seller.objects.create(
            user=User.objects.create(username=f"sim-seller-{tag}"), name=f"模拟商家 {tag}"
        )
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
                price_fen=19_900,
            )
            for shop in shops
        ]
        campaign = Campaign.objects.create(
            seller=seller,
            name=f"模拟聚划算 {tag}",
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(hours=1),
            state=CampaignState.ENDED,
        )
        item = CampaignItem.objects.create(campaign=campaign, sku=skus[0], campaign_price_fen=15_900)
        product, _ = InsuranceProduct.objects.get_or_create(insurer=insurer, name="模拟价保产品")
        ProductRate.objects.get_or_create(
            product=product, platform=skus[0].listing.shop.platform, category="", defaults={"rate_bp": 100}
        )
        coverage = Coverage.objects.create(
            campaign_item=item, product=product, enabled=True, turned_on_at=now - timedelta(days=4)
        )
        # After the campaign the same product sells for less on Taobao: the evidence orders' SKU.
        skus[1].price_fen = 14_900
        skus[1].save(update_fields=["price_fen"])
        user_table = User._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {user_table} (password, is_superuser, username, first_name, last_name, email, "
                "is_staff, is_active, date_joined) "
                f"SELECT '!', %s, %s || g.n, '', '', '', %s, %s, %s FROM {_series(0, buyers)}",
                [False, f"sim-{tag}-", False, True, _t(now)],
            )
        first = User.objects.get(username=f"sim-{tag}-0").pk
        last = User.objects.get(username=f"sim-{tag}-{buyers - 1}").pk
        if last - first != buyers - 1:
            raise CommandError("buyers were not numbered contiguously; run the simulation alone")
        return {
            "tag": tag,
            # Order numbers: the tag has a fixed width, so prefix + n is unique and reversible.
            # Evidence numbers are letters and digits only, as the claim form requires.
            "prefix": f"S{tag}-",
            "evidence_prefix": f"E{tag}",
            "now": now,
            "seller": seller,
            "shops": shops,
            "skus": skus,
            "campaign": campaign,
            "item": item,
            "coverage": coverage,
            "insurer": insurer,
            "first_buyer": first,
            "buyers": buyers,
        }

    @transaction.atomic
    def _chunk(self, world: dict, low: int, high: int, every: int, evidence_only: bool) -> tuple[int, int]:
        """Insured orders, lines and policies for n in [low, high); every ``every``-th buyer's
        evidence order, and (unless ``evidence_only``) the approved claim. Returns (evidence
        orders, claims) written."""
        campaign, item, coverage = world["campaign"], world["item"], world["coverage"]
        paid_at = campaign.starts_at + timedelta(hours=1)
        filed_at = world["now"] - timedelta(minutes=30)
        price, evidence_price = item.campaign_price_fen, world["skus"][1].price_fen
        product = coverage.product
        rate = product.rate_for(platform=world["shops"][0].platform)
        premium = premium_for(insured_fen=price, rate_bp=rate)
        order, line, policy, claim = (m._meta.db_table for m in (Order, OrderLine, Policy, Claim))
        prefix = world["prefix"]
        buyer = f"({world['first_buyer']} + g.n %% {world['buyers']})"
        ship = "%s, %s, %s || " + buyer
        order_columns = (
            "number, buyer_id, shop_id, campaign_id, state, ship_recipient, ship_phone, ship_address, "
            "item_total_fen, shop_discount_fen, platform_discount_fen, paid_fen, created_at, pay_deadline, "
            "paid_at, shipped_at, succeeded_at, closed_at"
        )
        address = ["模拟买家", "13800000000", "浙江省 杭州市 "]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {order} ({order_columns}) SELECT %s || g.n, {buyer}, %s, %s, %s, {ship}, "
                f"%s, 0, 0, %s, %s, %s, %s, %s, %s, NULL FROM {_series(low, high)}",
                [
                    prefix,
                    world["shops"][0].pk,
                    campaign.pk,
                    OrderState.SUCCEEDED,
                    *address,
                    price,
                    price,
                    _t(paid_at),
                    _t(paid_at + timedelta(minutes=30)),
                    _t(paid_at),
                    _t(paid_at + timedelta(hours=5)),
                    _t(paid_at + timedelta(days=1)),
                ],
            )
            chunk_orders = (
                f"SELECT id FROM {order} WHERE number IN (SELECT %s || g.n FROM {_series(low, high)})"
            )
            cursor.execute(
                f"INSERT INTO {line} (order_id, sku_id, campaign_item_id, quantity, unit_price_fen, item_total_fen, "
                "shop_discount_fen, platform_discount_fen, paid_fen, refunded_fen) "
                f"SELECT o.id, %s, %s, 1, %s, %s, 0, 0, %s, 0 FROM ({chunk_orders}) o",
                [item.sku_id, item.pk, price, price, price, prefix],
            )
            cursor.execute(
                f"INSERT INTO {policy} (number, coverage_id, insurer_id, product_id, premium_rate_bp, window_days, "
                "risk_terms, order_line_id, buyer_id, seller_id, state, insured_fen, "
                "premium_fen, window_starts_at, window_ends_at, issued_at, claimable_at) "
                f"SELECT %s || o.number, %s, %s, %s, %s, %s, %s, l.id, o.buyer_id, %s, %s, %s, %s, %s, %s, %s, %s "
                f"FROM {line} l JOIN {order} o ON o.id = l.order_id WHERE o.id IN ({chunk_orders})",
                [
                    "BD",
                    coverage.pk,
                    product.insurer_id,
                    product.pk,
                    rate,
                    product.window_days,
                    json.dumps(product.risk_thresholds.as_dict()),
                    world["seller"].pk,
                    PolicyState.CLAIMABLE,
                    price,
                    premium,
                    _t(campaign.ends_at),
                    _t(campaign.ends_at + timedelta(days=product.window_days)),
                    _t(paid_at),
                    _t(campaign.ends_at),
                    prefix,
                ],
            )
            evidence = claims = 0
            if every:
                evidence = self._evidence(
                    cursor, world, low, high, every, evidence_price, filed_at, order_columns
                )
                if not evidence_only:
                    claims = self._claims(cursor, world, low, high, every, evidence_price, price, filed_at)
        self._post_money(world, low, (high - low) * price, (high - low) * premium)
        return evidence, claims

    def _evidence(self, cursor, world, low, high, every, evidence_price, filed_at, order_columns) -> int:
        """The evidence orders (closed unpaid, at the lower price) of every ``every``-th n, each by
        the buyer of insured order n, to the same address, for the same product and specs."""
        order, line = Order._meta.db_table, OrderLine._meta.db_table
        evidence_prefix = world["evidence_prefix"]
        buyer = f"({world['first_buyer']} + g.n %% {world['buyers']})"
        picked = f"{_series(low, high)} WHERE g.n %% {int(every)} = 0"
        cursor.execute(
            f"INSERT INTO {order} ({order_columns}) SELECT %s || g.n, {buyer}, %s, NULL, %s, %s, %s, %s || {buyer}, "
            f"%s, 0, 0, %s, %s, %s, NULL, NULL, NULL, %s FROM {picked}",
            [
                evidence_prefix,
                world["shops"][1].pk,
                OrderState.CLOSED,
                "模拟买家",
                "13800000000",
                "浙江省 杭州市 ",
                evidence_price,
                evidence_price,
                _t(filed_at - timedelta(minutes=5)),
                _t(filed_at + timedelta(minutes=25)),
                _t(filed_at + timedelta(minutes=25)),
            ],
        )
        evidence = (
            f"SELECT id, buyer_id, number FROM {order} WHERE number IN (SELECT %s || g.n FROM {picked})"
        )
        cursor.execute(
            f"INSERT INTO {line} (order_id, sku_id, campaign_item_id, quantity, unit_price_fen, item_total_fen, "
            "shop_discount_fen, platform_discount_fen, paid_fen, refunded_fen) "
            f"SELECT e.id, %s, NULL, 1, %s, %s, 0, 0, %s, 0 FROM ({evidence}) e",
            [world["skus"][1].pk, evidence_price, evidence_price, evidence_price, evidence_prefix],
        )
        return cursor.rowcount

    def _claims(self, cursor, world, low, high, every, evidence_price, price, filed_at) -> int:
        """The approved claim of each evidence order of [low, high), on its insured order's policy."""
        order, line, policy, claim = (m._meta.db_table for m in (Order, OrderLine, Policy, Claim))
        prefix, evidence_prefix = world["prefix"], world["evidence_prefix"]
        json = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        picked = f"{_series(low, high)} WHERE g.n %% {int(every)} = 0"
        evidence = (
            f"SELECT id, buyer_id, number FROM {order} WHERE number IN (SELECT %s || g.n FROM {picked})"
        )
        cursor.execute(
            f"INSERT INTO {claim} (number, policy_id, buyer_id, evidence_order_number, evidence_order_id, state, "
            "checks, review_reasons, price_difference_fen, compensation_fen, filed_at, decided_at, decision_reason) "
            f"SELECT %s || e.number, p.id, e.buyer_id, e.number, e.id, %s, {json}, {json}, %s, %s, %s, %s, '' "
            f"FROM ({evidence}) e JOIN {order} o ON o.number = %s || substr(e.number, %s) "
            f"JOIN {line} l ON l.order_id = o.id JOIN {policy} p ON p.order_line_id = l.id",
            [
                "LP",
                ClaimState.APPROVED,
                "[]",
                "[]",
                price - evidence_price,
                price - evidence_price,
                _t(filed_at),
                _t(filed_at),
                evidence_prefix,
                prefix,
                len(evidence_prefix) + 1,
            ],
        )
        return cursor.rowcount

    def _post_money(self, world: dict, low: int, sales: int, premiums: int) -> None:
        seller_user, campaign = world["seller"].user, world["campaign"]
        seller = user_account(user=seller_user, kind=AccountKind.SELLER)
        key = f"sim:{campaign.pk}:{low}"
        transfer_post(
            key=f"{key}:sales",
            kind=TransferKind.TRADE_SETTLEMENT,
            legs=[Leg(system_account(AccountKind.EXTERNAL), -sales), Leg(seller, sales)],
            memo="模拟活动销售(导入)",
            reference=f"campaign:{campaign.pk}",
        )
        transfer_post(
            key=f"{key}:premiums",
            kind=TransferKind.PREMIUM,
            legs=[
                Leg(seller, -premiums),
                Leg(insurer_account(code=world["insurer"].code, name=world["insurer"].name), premiums),
            ],
            memo="模拟活动保费(导入)",
            reference=f"campaign:{campaign.pk}",
        )
