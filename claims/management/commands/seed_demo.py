"""An idempotent demo world, built through the same services the product uses.

The ended campaign is played out in the present (placed, paid, shipped, received while live) and
then moved back in time as a whole, so that every row it left is exactly what the services write.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from alipay.services import balance_top_up
from claims.demo import align_price_records, seed_price_drops
from claims.demo_month import play_month
from claims.summaries.refresh import summaries_refresh
from core.models import AuditEvent
from core.permissions import INSURER_STAFF, ensure_staff_groups
from insurance.models import InsuranceProduct, Insurer, Policy, ProductRate
from insurance.services import coverage_turn_on, deposit_top_up, policy_windows_advance
from orders.models import Address, Campaign, Order
from orders.services import (
    address_create,
    campaign_create,
    campaign_item_add,
    campaigns_advance,
    order_confirm_receipt,
    order_pay,
    order_place,
    order_ship,
)
from shops.models import CatalogProduct, Listing, Platform, Seller, Shop, Sku, specs_key
from shops.services import coupon_issue, sku_price_change

PASSWORDS = {
    "admin": "baojia-admin-2026",
    "seller": "baojia-seller-2026",
    "buyer": "baojia-buyer-2026",
    "buyer2": "baojia-buyer-2026",
    "insurer": "baojia-insurer-2026",
}

PRODUCTS = [
    # brand, model, name, category, specs list with list prices (fen), shops that list it
    (
        "小米",
        "Band 9",
        "小米手环 9",
        "智能穿戴",
        [({"颜色": "黑色"}, 24_900), ({"颜色": "银色"}, 26_900)],
        ["tmall", "taobao", "global"],
    ),
    ("Redmi", "Buds 6", "Redmi Buds 6 蓝牙耳机", "耳机", [({"颜色": "白色"}, 19_900)], ["tmall", "taobao"]),
    ("米家", "MFB-3L", "米家电饭煲 3L", "厨房电器", [({"容量": "3L"}, 29_900)], ["tmall"]),
]


class Command(BaseCommand):
    help = "Create the demo world (safe to run again) and print where to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Throw every row of this database away first, then seed a fresh demo month.",
        )

    def handle(self, *args, **options) -> None:
        if options["reset"]:
            if settings.PRODUCTION:
                raise CommandError(
                    "seed_demo --reset empties the database: refused with DJANGO_ENV=production."
                )
            self.stdout.write("Emptying the database for a fresh demo …")
            call_command("flush", interactive=False, verbosity=0)
        users = self._users()
        if not Seller.objects.filter(user=users["seller"]).exists():
            with transaction.atomic():
                self._world(users)
            # The demo's history was back-dated: count it all now rather than by the audit log.
            summaries_refresh(full=True)
        seed_price_drops()
        self._print(users)

    def _users(self) -> dict:
        User = get_user_model()  # noqa: N806
        users = {}
        for username, password in PASSWORDS.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.is_staff = username in ("admin", "insurer")
                user.is_superuser = username == "admin"
                user.save()
            users[username] = user
        groups = ensure_staff_groups()
        users["insurer"].groups.add(groups[INSURER_STAFF])
        return users

    def _products(self, users: dict) -> dict[str, InsuranceProduct]:
        """What the insurers publish: 众安's standard product (the default a seller sees first),
        its product for larger claims reviewed above ¥100, and 平安's product for Tmall only."""
        zhongan, _ = Insurer.objects.get_or_create(code="zhongan", defaults={"name": "众安在线财产保险"})
        zhongan.staff.add(users["insurer"])
        pingan, _ = Insurer.objects.get_or_create(code="pingan", defaults={"name": "平安财产保险"})
        catalog = {
            "standard": (
                zhongan,
                "价格保障保险·标准版",
                True,
                {},
                {"taobao": 100, "tmall": 120, "tmall_global": 150},
            ),
            "reviewed": (
                zhongan,
                "价格保障保险·大额审核版",
                False,
                {"per_claim_cap_fen": 50_000, "review_threshold_fen": 10_000},
                {"taobao": 130, "tmall": 150, "tmall_global": 180},
            ),
            "pingan": (pingan, "平安价保险(天猫)", True, {"window_days": 30}, {"tmall": 200}),
        }
        products = {}
        for key, (insurer, name, default, terms, rates) in catalog.items():
            product = InsuranceProduct.objects.create(insurer=insurer, name=name, is_default=default, **terms)
            ProductRate.objects.bulk_create(
                ProductRate(product=product, platform=platform, rate_bp=rate)
                for platform, rate in rates.items()
            )
            products[key] = product
        # Earbuds are a riskier category: 众安 charges more for them on Tmall.
        ProductRate.objects.create(
            product=products["standard"], platform="tmall", category="耳机", rate_bp=160
        )
        return products

    def _world(self, users: dict) -> None:
        products = self._products(users)
        seller = Seller.objects.create(user=users["seller"], name="小米官方")
        shops = {
            "tmall": Shop.objects.create(seller=seller, name="小米官方旗舰店", platform=Platform.TMALL),
            "taobao": Shop.objects.create(seller=seller, name="小米数码专营", platform=Platform.TAOBAO),
            "global": Shop.objects.create(
                seller=seller, name="小米海外旗舰店", platform=Platform.TMALL_GLOBAL
            ),
        }
        skus = self._catalog(shops)
        address = self._wallets_and_addresses(users, seller)
        now = timezone.now()
        self._coupons(shops, now)
        # The month before today: dozens of buyers, three campaigns, drops, claims in every state.
        play_month(seller=seller, products=products, skus=skus)
        self._ended_campaign(seller, products["reviewed"], skus, users["buyer"], address)
        self._coming_campaigns(seller, products, skus, now)
        campaigns_advance()

    def _catalog(self, shops: dict[str, Shop]) -> dict[tuple[str, str], list[Sku]]:
        """Each product of ``PRODUCTS`` listed in its shops: (model, shop key) → its SKUs."""
        skus: dict[tuple[str, str], list[Sku]] = {}
        for brand, model, name, category, variants, shop_keys in PRODUCTS:
            product = CatalogProduct.objects.create(brand=brand, model=model, name=name, category=category)
            for key in shop_keys:
                listing = Listing.objects.create(
                    shop=shops[key], product=product, title=f"{name} {shops[key].name}"
                )
                skus[(model, key)] = [
                    Sku.objects.create(
                        listing=listing, specs=specs, specs_key=specs_key(specs), price_fen=price
                    )
                    for specs, price in variants
                ]
        return skus

    def _wallets_and_addresses(self, users: dict, seller: Seller) -> Address:
        """The seller's deposit, the buyers' balances and addresses; returns the first buyer's."""
        deposit_top_up(seller=seller, amount_fen=2_000_000, key="demo-deposit")
        for name in ("buyer", "buyer2"):
            balance_top_up(user=users[name], amount_fen=500_000, key=f"demo-topup-{name}")
        address = address_create(
            user=users["buyer"],
            recipient="王小明",
            phone="13800138000",
            region="浙江省 杭州市 余杭区",
            detail="文一西路 969 号",
        )
        address_create(
            user=users["buyer2"],
            recipient="李小红",
            phone="13900139000",
            region="上海市 浦东新区",
            detail="世纪大道 100 号",
        )
        return address

    def _coupons(self, shops: dict[str, Shop], now: datetime) -> None:
        coupon_issue(
            shop=shops["tmall"],
            name="旗舰店满 200 减 20",
            amount_fen=2_000,
            min_spend_fen=20_000,
            valid_until=now + timedelta(days=30),
        )
        coupon_issue(shop=None, name="聚划算红包 5 元", amount_fen=500, valid_until=now + timedelta(days=30))

    def _coming_campaigns(self, seller: Seller, products: dict, skus: dict, now: datetime) -> None:
        """A live campaign (covered and uncovered items) and an upcoming one excluded from claims."""
        live = campaign_create(
            seller=seller,
            name="双十二预热 · 小米手环直降",
            starts_at=now - timedelta(hours=2),
            ends_at=now + timedelta(days=2),
        )
        for sku in skus[("Band 9", "tmall")]:
            item = campaign_item_add(campaign=live, sku=sku, campaign_price_fen=sku.price_fen - 5_000)
            coverage_turn_on(campaign_item=item, seller=seller)  # the default: 众安's standard product
        # An uncovered campaign item: no badge, no policy.
        campaign_item_add(campaign=live, sku=skus[("MFB-3L", "tmall")][0], campaign_price_fen=25_900)
        excluded = campaign_create(
            seller=seller,
            name="双11 狂欢(不支持保价)",
            starts_at=now + timedelta(days=5),
            ends_at=now + timedelta(days=6),
            excluded_from_claims=True,
            exclusion_note="双11订单不支持保价理赔",
        )
        item = campaign_item_add(
            campaign=excluded, sku=skus[("Buds 6", "tmall")][0], campaign_price_fen=14_900
        )
        coverage_turn_on(campaign_item=item, seller=seller, product=products["pingan"])

    def _ended_campaign(self, seller, product, skus, buyer, address) -> None:
        """Play a campaign out now, then move it (and what it left) back so it ended yesterday."""
        now = timezone.now()
        campaign = campaign_create(
            seller=seller,
            name="双11 返场 · Redmi Buds 6",
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(minutes=5),
        )
        campaigns_advance()
        sku = skus[("Buds 6", "tmall")][0]
        item = campaign_item_add(campaign=campaign, sku=sku, campaign_price_fen=16_900)
        coverage_turn_on(campaign_item=item, seller=seller, product=product)
        for quantity in (1, 2):
            order = order_place(buyer=buyer, address=address, items=[(sku, quantity)])
            order_pay(order=order, buyer=buyer)
            order_ship(order=order)
            order_confirm_receipt(order=order, buyer=buyer)
        shift = (now + timedelta(minutes=5)) - (now - timedelta(days=1))
        Campaign.objects.filter(pk=campaign.pk).update(
            starts_at=campaign.starts_at - shift - timedelta(days=2), ends_at=campaign.ends_at - shift
        )
        orders = Order.objects.filter(campaign=campaign)
        for order in orders:
            Order.objects.filter(pk=order.pk).update(
                created_at=order.created_at - shift,
                pay_deadline=order.pay_deadline - shift,
                paid_at=order.paid_at - shift,
                shipped_at=order.shipped_at - shift,
                succeeded_at=order.succeeded_at - shift,
            )
            AuditEvent.objects.filter(object_id=order.pk, content_type__model="order").update(
                created_at=order.created_at - shift
            )
        for policy in Policy.objects.filter(order_line__order__in=orders):
            Policy.objects.filter(pk=policy.pk).update(
                window_starts_at=policy.window_starts_at - shift,
                window_ends_at=policy.window_ends_at - shift,
                issued_at=policy.issued_at - shift,
            )
        campaign.refresh_from_db()
        align_price_records(campaign)
        campaigns_advance()
        policy_windows_advance()
        # After the campaign the same earbuds sell for less in the Taobao shop: a covered price drop.
        sku_price_change(sku=skus[("Buds 6", "taobao")][0], price_fen=15_900)

    def _print(self, users: dict) -> None:
        claimable = (
            Policy.objects.filter(buyer=users["buyer"], state="claimable")
            .select_related("order_line__order")
            .order_by("pk")
        )
        self.stdout.write(self.style.SUCCESS("Demo world ready. Logins (username / password):"))
        roles = {
            "admin": "superuser — /admin/",
            "insurer": "insurer staff (众安) — /admin/ review queue",
            "seller": "seller 小米官方 — seller dashboard",
            "buyer": "buyer 王小明 — my orders, claims, Alipay balance",
            "buyer2": "buyer 李小红",
        }
        for name, role in roles.items():
            self.stdout.write(f"  {name:8} / {PASSWORDS[name]:22} {role}")
        for policy in claimable:
            self.stdout.write(
                f"  claimable policy {policy.number} on order {policy.order_line.order.number} "
                f"(line {policy.order_line_id}); a lower price is on sale in 小米数码专营 (Taobao)"
            )
        addresses = Address.objects.filter(user=users["buyer"]).count()
        self.stdout.write(f"  buyer has {addresses} address(es)")
