"""Build a Juhuasuan campaign at scale: shops on every platform, many buyers, succeeded insured
orders, a later price drop, evidence orders and approved claims — with bulk inserts in chunks.

The campaign's history is imported, not replayed: rows are written with ``bulk_create`` exactly as
the services would have left them (states, amounts, windows), so that what is measured afterwards —
closing the window, settling the claims — runs through the product's own services. The money of
the imported history is posted as one balanced transfer per chunk (sales into escrow → seller,
premiums deposit → insurer), so every ledger invariant still holds.
"""

import sys
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from alipay.models import AccountKind, TransferKind
from alipay.services import Leg, insurer_account, system_account, transfer_post, user_account
from claims.models import Claim, ClaimState
from insurance.models import Coverage, Insurer, Policy, PolicyState
from insurance.services import premium_for
from orders.models import Address, Campaign, CampaignItem, CampaignState, Order, OrderLine, OrderState
from shops.models import CatalogProduct, Listing, Platform, Seller, Shop, Sku, specs_key

CHUNK = 10_000
UNUSABLE = "!"  # what set_unusable_password() stores, without hashing a million times
BUYERS_PER_ORDER = 0.1  # each simulated buyer places about ten orders


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise CommandError(f"a share must be a number between 0 and 1, not {value!r}") from None
    if not 0 <= share <= 1:
        raise CommandError(f"a share must be between 0 and 1, not {share}")
    return share


class Command(BaseCommand):
    help = "Simulate a Juhuasuan campaign with N insured order lines (ended, window open)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="insured order lines to create")
        parser.add_argument(
            "--price-drop-share",
            type=_share,
            default=0.3,
            help="share of orders whose buyer finds a lower price",
        )
        parser.add_argument(
            "--claims-share", type=_share, default=1.0, help="share of those that file a claim (approved)"
        )
        parser.add_argument(
            "--tag", default="", help="a label to tell simulated campaigns apart (default: a timestamp)"
        )

    def handle(
        self, *args, orders: int, price_drop_share: float, claims_share: float, tag: str, **options
    ) -> None:
        if not 1 <= orders <= 20_000_000:
            raise CommandError("--orders must be between 1 and 20,000,000")
        tag = tag or timezone.now().strftime("%Y%m%d%H%M%S%f")
        progress = tqdm(
            total=orders, file=sys.stderr, disable=not sys.stderr.isatty(), unit="line", desc="orders"
        )
        world = self._world(tag, max(1, int(orders * BUYERS_PER_ORDER)))
        drop_every = round(1 / price_drop_share) if price_drop_share else 0
        claim_every = round(1 / claims_share) if claims_share else 0
        made = {"orders": 0, "claims": 0}
        for start in range(0, orders, CHUNK):
            size = min(CHUNK, orders - start)
            claims = self._chunk(world, start, size, drop_every, claim_every)
            made["orders"] += size
            made["claims"] += claims
            progress.update(size)
        progress.close()
        self.stdout.write(
            f"campaign {world['campaign'].pk} ({world['campaign'].name}): {made['orders']} insured lines, "
            f"{made['claims']} approved claims, {len(world['buyers'])} buyers"
        )

    def _world(self, tag: str, buyer_count: int) -> dict:
        User = get_user_model()  # noqa: N806
        now = timezone.now()
        insurer, _ = Insurer.objects.get_or_create(code="sim-insurer", defaults={"name": "模拟保险公司"})
        seller_user = User.objects.create(username=f"sim-seller-{tag}")
        seller = Seller.objects.create(user=seller_user, name=f"模拟商家 {tag}")
        shops = [
            Shop.objects.create(seller=seller, name=f"模拟{platform.label} {tag}", platform=platform)
            for platform in Platform
        ]
        product = CatalogProduct.objects.create(brand="模拟", model=f"SIM-{tag}", name="模拟耳机")
        skus = []
        for shop in shops:
            listing = Listing.objects.create(shop=shop, product=product, title=f"模拟耳机 {shop.name}")
            specs = {"颜色": "黑色"}
            skus.append(
                Sku.objects.create(listing=listing, specs=specs, specs_key=specs_key(specs), price_fen=19_900)
            )
        campaign = Campaign.objects.create(
            seller=seller,
            name=f"模拟聚划算 {tag}",
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(hours=1),
            state=CampaignState.ENDED,
        )
        item = CampaignItem.objects.create(campaign=campaign, sku=skus[0], campaign_price_fen=15_900)
        coverage = Coverage.objects.create(
            campaign_item=item,
            insurer=insurer,
            enabled=True,
            premium_rate_bp=100,
            turned_on_at=now - timedelta(days=4),
        )
        # The same product sells for less afterwards on Taobao: the evidence orders' SKU.
        skus[1].price_fen = 14_900
        skus[1].save(update_fields=["price_fen"])
        buyers = []
        for start in range(0, buyer_count, CHUNK):
            batch = [
                User(username=f"sim-{tag}-{i}", password=UNUSABLE)
                for i in range(start, min(buyer_count, start + CHUNK))
            ]
            buyers += User.objects.bulk_create(batch)
        addresses = []
        for start in range(0, len(buyers), CHUNK):
            addresses += Address.objects.bulk_create(
                Address(
                    user=u,
                    recipient="模拟买家",
                    phone="13800000000",
                    region="浙江省 杭州市",
                    detail=f"{u.pk} 号",
                )
                for u in buyers[start : start + CHUNK]
            )
        return {
            "seller": seller,
            "shops": shops,
            "skus": skus,
            "campaign": campaign,
            "item": item,
            "coverage": coverage,
            "insurer": insurer,
            "buyers": buyers,
            "addresses": addresses,
            "now": now,
            "tag": tag,
        }

    @transaction.atomic
    def _chunk(self, world: dict, start: int, size: int, drop_every: int, claim_every: int) -> int:
        campaign, item, coverage = world["campaign"], world["item"], world["coverage"]
        buyers, addresses = world["buyers"], world["addresses"]
        paid_at = campaign.starts_at + timedelta(hours=1)
        price, evidence_price = item.campaign_price_fen, world["skus"][1].price_fen
        orders, lines = [], []
        for i in range(start, start + size):
            buyer, address = buyers[i % len(buyers)], addresses[i % len(buyers)]
            orders.append(
                Order(
                    number=f"S{world['tag'][-12:]}{i:09d}",
                    buyer=buyer,
                    shop=world["shops"][0],
                    campaign=campaign,
                    state=OrderState.SUCCEEDED,
                    ship_recipient=address.recipient,
                    ship_phone=address.phone,
                    ship_address=f"{address.region} {address.detail}",
                    item_total_fen=price,
                    paid_fen=price,
                    created_at=paid_at,
                    pay_deadline=paid_at + timedelta(minutes=30),
                    paid_at=paid_at,
                    shipped_at=paid_at + timedelta(hours=5),
                    succeeded_at=paid_at + timedelta(days=1),
                )
            )
        Order.objects.bulk_create(orders, batch_size=2_000)
        for order in orders:
            lines.append(
                OrderLine(
                    order=order,
                    sku=item.sku,
                    campaign_item=item,
                    quantity=1,
                    unit_price_fen=price,
                    item_total_fen=price,
                    paid_fen=price,
                )
            )
        OrderLine.objects.bulk_create(lines, batch_size=2_000)
        premium = premium_for(insured_fen=price, rate_bp=coverage.premium_rate_bp)
        policies = Policy.objects.bulk_create(
            [
                Policy(
                    number=f"BD{order.number}",
                    coverage=coverage,
                    order_line=line,
                    buyer_id=order.buyer_id,
                    seller=world["seller"],
                    state=PolicyState.CLAIMABLE,
                    insured_fen=price,
                    premium_fen=premium,
                    window_starts_at=campaign.ends_at,
                    window_ends_at=campaign.ends_at + timedelta(days=coverage.window_days),
                    claimable_at=campaign.ends_at,
                )
                for order, line in zip(orders, lines, strict=True)
            ],
            batch_size=2_000,
        )
        evidence, claimed = [], []
        filed_at = world["now"] - timedelta(minutes=30)
        for n, (order, policy) in enumerate(zip(orders, policies, strict=True), start=start):
            if not drop_every or n % drop_every:
                continue
            evidence.append(
                Order(
                    number=f"E{order.number[1:]}",
                    buyer_id=order.buyer_id,
                    shop=world["shops"][1],
                    state=OrderState.CLOSED,
                    ship_recipient=order.ship_recipient,
                    ship_phone=order.ship_phone,
                    ship_address=order.ship_address,
                    item_total_fen=evidence_price,
                    paid_fen=evidence_price,
                    created_at=filed_at - timedelta(minutes=5),
                    pay_deadline=filed_at + timedelta(minutes=25),
                    closed_at=filed_at + timedelta(minutes=25),
                )
            )
            claimed.append(policy)
        Order.objects.bulk_create(evidence, batch_size=2_000)
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=ev,
                    sku=world["skus"][1],
                    quantity=1,
                    unit_price_fen=evidence_price,
                    item_total_fen=evidence_price,
                    paid_fen=evidence_price,
                )
                for ev in evidence
            ],
            batch_size=2_000,
        )
        claims = [
            Claim(
                number=f"LP{ev.number}",
                policy=policy,
                buyer_id=ev.buyer_id,
                evidence_order_number=ev.number,
                evidence_order=ev,
                state=ClaimState.APPROVED,
                checks=[],
                price_difference_fen=price - evidence_price,
                compensation_fen=price - evidence_price,
                filed_at=filed_at,
                decided_at=filed_at,
            )
            for n, (ev, policy) in enumerate(zip(evidence, claimed, strict=True))
            if claim_every and n % claim_every == 0
        ]
        Claim.objects.bulk_create(claims, batch_size=2_000)
        self._post_money(world, start, size * price, size * premium)
        return len(claims)

    def _post_money(self, world: dict, start: int, sales: int, premiums: int) -> None:
        seller_user = world["seller"].user
        key = f"sim:{world['tag']}:{start}"
        transfer_post(
            key=f"{key}:sales",
            kind=TransferKind.TRADE_SETTLEMENT,
            legs=[
                Leg(system_account(AccountKind.EXTERNAL), -sales),
                Leg(user_account(user=seller_user, kind=AccountKind.SELLER), sales),
            ],
            memo="模拟活动销售(导入)",
            reference=f"campaign:{world['campaign'].pk}",
        )
        transfer_post(
            key=f"{key}:premiums",
            kind=TransferKind.PREMIUM,
            legs=[
                Leg(user_account(user=seller_user, kind=AccountKind.SELLER), -premiums),
                Leg(insurer_account(code=world["insurer"].code, name=world["insurer"].name), premiums),
            ],
            memo="模拟活动保费(导入)",
            reference=f"campaign:{world['campaign'].pk}",
        )
