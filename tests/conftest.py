from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation

from alipay.services import balance_top_up
from insurance.models import Coverage, InsuranceProduct
from insurance.services import coverage_turn_on, deposit_top_up
from orders.models import Address, Campaign, CampaignItem, CampaignState, Order, OrderLine
from orders.services import order_confirm_receipt, order_pay, order_place, order_ship
from shops.models import Platform, Seller, Shop, Sku
from tests.factories import (
    AddressFactory,
    CampaignFactory,
    CampaignItemFactory,
    CatalogProductFactory,
    InsuranceProductFactory,
    InsurerFactory,
    ListingFactory,
    SellerFactory,
    ShopFactory,
    SkuFactory,
    UserFactory,
)


@dataclass
class World:
    """A seller with a Tmall and a Taobao shop listing the same product, a live campaign on the
    Tmall SKU with coverage on, and buyers alice and bob with money and addresses."""

    seller: Seller
    tmall: Shop
    taobao: Shop
    sku: Sku  # the insured campaign SKU (Tmall), list price ¥199.00, campaign price ¥159.00
    other_shop_sku: Sku  # the same product and specs in the Taobao shop, ¥189.00
    campaign: Campaign
    item: CampaignItem
    product: InsuranceProduct  # the world's insurer's default product: 1.5% on every platform
    coverage: Coverage
    alice: object
    bob: object
    alice_address: Address
    bob_address: Address

    def buy(
        self, buyer=None, *, sku=None, quantity: int = 1, address=None, succeed: bool = True, **kw
    ) -> Order:
        buyer = buyer or self.alice
        address = address or (self.alice_address if buyer == self.alice else self.bob_address)
        order = order_place(buyer=buyer, address=address, items=[(sku or self.sku, quantity)], **kw)
        order_pay(order=order, buyer=buyer)
        if succeed:
            order_ship(order=order)
            order_confirm_receipt(order=order, buyer=buyer)
        order.refresh_from_db()
        return order

    def end_campaign(self, *, days_ago: float = 0) -> None:
        """Move the campaign's end into the past (as if time had passed) and mark it ended."""
        shift = timezone.now() - timedelta(days=days_ago, seconds=1) - self.campaign.ends_at
        Campaign.objects.filter(pk=self.campaign.pk).update(
            starts_at=self.campaign.starts_at + shift,
            ends_at=self.campaign.ends_at + shift,
            state=CampaignState.ENDED,
        )
        from insurance.models import Policy

        for policy in Policy.objects.filter(coverage__campaign_item__campaign=self.campaign):
            Policy.objects.filter(pk=policy.pk).update(
                window_starts_at=policy.window_starts_at + shift, window_ends_at=policy.window_ends_at + shift
            )
        # Orders placed during the campaign move with it, and so do the prices they recorded.
        from shops.models import PriceRecord, PriceSource

        for order in Order.objects.filter(campaign=self.campaign):
            Order.objects.filter(pk=order.pk).update(created_at=order.created_at + shift)
        moved = PriceRecord.objects.filter(
            Q(order_ref__in=Order.objects.filter(campaign=self.campaign).values("pk"))
            | Q(source=PriceSource.CAMPAIGN_PRICE, source_id__in=self.campaign.items.values("pk"))
        )
        for record in moved:
            PriceRecord.objects.filter(pk=record.pk).update(observed_at=record.observed_at + shift)
        self.campaign.refresh_from_db()
        # The window opens: the prices in effect now are seen at its start, as campaigns_advance does.
        from orders.price_records import record_prices_in_effect

        record_prices_in_effect(campaign=self.campaign, at=self.campaign.ends_at)

    def line(self, order: Order) -> OrderLine:
        return order.lines.get()

    def set_terms(self, *, rate_bp: int | None = None, **terms) -> InsuranceProduct:
        """The insurer changes the world's product, as its staff would in the admin (window_days,
        per_claim_cap_fen, review_threshold_fen, or one rate on every platform): policies issued
        from now on copy the new terms, policies already issued keep theirs."""
        for name, value in terms.items():
            setattr(self.product, name, value)
        self.product.save(update_fields=[*terms, "updated_at"])
        if rate_bp is not None:
            self.product.rates.update(rate_bp=rate_bp)
        self.product.refresh_from_db()
        return self.product


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the product's language (zh-hans), whatever the one before activated
    (a test that renders an English page or e-mail must not leak English into the next)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def world(db) -> World:
    insurer = InsurerFactory()
    seller = SellerFactory(user__username="seller_a", name="小米官方")
    tmall = ShopFactory(seller=seller, name="小米官方旗舰店", platform=Platform.TMALL)
    taobao = ShopFactory(seller=seller, name="小米淘宝店", platform=Platform.TAOBAO)
    product = CatalogProductFactory(brand="小米", model="Band 9", name="小米手环 9")
    sku = SkuFactory(listing=ListingFactory(shop=tmall, product=product), price_fen=19_900)
    other = SkuFactory(listing=ListingFactory(shop=taobao, product=product), price_fen=18_900)
    campaign = CampaignFactory(seller=seller)
    item = CampaignItemFactory(campaign=campaign, sku=sku, campaign_price_fen=15_900)
    deposit_top_up(seller=seller, amount_fen=1_000_000, key="test-deposit")
    product = InsuranceProductFactory(insurer=insurer, name="价格保障保险", is_default=True, rates=150)
    coverage = coverage_turn_on(campaign_item=item, seller=seller, product=product)
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    balance_top_up(user=alice, amount_fen=1_000_000, key="alice-topup")
    balance_top_up(user=bob, amount_fen=1_000_000, key="bob-topup")
    return World(
        seller=seller,
        tmall=tmall,
        taobao=taobao,
        sku=sku,
        other_shop_sku=other,
        campaign=campaign,
        item=item,
        product=product,
        coverage=coverage,
        alice=alice,
        bob=bob,
        alice_address=AddressFactory(user=alice),
        bob_address=AddressFactory(user=bob, recipient="李四", phone="13900139000"),
    )


__all__ = ["World", "world", "CampaignItemFactory"]


# --- Shared by the core suite -----------------------------------------------------------------


@pytest.fixture
def mallory(world):
    """A third buyer with money who copied alice's shipping details to the character."""
    user = UserFactory(username="mallory")
    balance_top_up(user=user, amount_fen=1_000_000, key="mallory-topup")
    return user


@pytest.fixture
def mallory_address(mallory) -> Address:
    return AddressFactory(user=mallory)


@pytest.fixture
def staff(world):
    """A claims officer of the world's insurer."""
    from core.permissions import INSURER_STAFF, ensure_staff_groups

    user = UserFactory(username="claims_officer", is_staff=True)
    user.groups.add(ensure_staff_groups()[INSURER_STAFF])
    world.coverage.insurer.staff.add(user)
    return user


@pytest.fixture
def staff_b(world):
    """A claims officer of another insurer (平安保险): none of the world's claims are hers."""
    from core.permissions import INSURER_STAFF, ensure_staff_groups

    user = UserFactory(username="officer_pingan", is_staff=True)
    user.groups.add(ensure_staff_groups()[INSURER_STAFF])
    InsurerFactory(code="pingan", name="平安保险").staff.add(user)
    return user


@pytest.fixture
def insured_line(world) -> OrderLine:
    """Alice bought one insured SKU at ¥159.00 in the campaign, the trade succeeded, the campaign
    has just ended and the window sweep has made her policy claimable."""
    from insurance.services import policy_windows_advance

    order = world.buy()
    world.end_campaign()
    policy_windows_advance()
    return world.line(order)


@pytest.fixture
def place_evidence(world):
    """Place an evidence order and leave it unpaid: alice, the Taobao SKU, quantity 1 by default."""

    def place(buyer=None, *, sku=None, quantity: int = 1, address=None, **kw) -> Order:
        buyer = buyer or world.alice
        address = address or (world.alice_address if buyer == world.alice else world.bob_address)
        return order_place(
            buyer=buyer, address=address, items=[(sku or world.other_shop_sku, quantity)], **kw
        )

    return place
