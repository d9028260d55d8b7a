"""Whole lifecycles for the admin tests: every table the admin shows gets rows."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from alipay.services import balance_top_up
from claims.detection import price_drops_detect
from claims.models import Claim, ClaimState
from claims.services import claim_adjudicate, claim_file, claims_settle
from insurance.models import Coverage, Insurer, Policy
from insurance.services import coverage_turn_on, policy_windows_advance
from orders.models import Campaign, CampaignState, Order
from orders.services import order_confirm_receipt, order_line_refund, order_pay, order_place, order_ship
from shops.services import coupon_issue, sku_price_change
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

INSURED_PRICE_FEN = 15_900  # the campaign price of the insured SKU
EVIDENCE_PRICE_FEN = 14_900  # what the same product costs in the other shop after the drop


@dataclass
class Lifecycle:
    campaign: Campaign
    coverage: Coverage
    orders: list[Order] = field(default_factory=list)
    evidence: list[Order] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


def end_campaign(campaign: Campaign) -> None:
    """As if the campaign had just ended: its schedule, its orders and its policies' windows
    move into the past together (as World.end_campaign does for the world's campaign)."""
    shift = timezone.now() - timedelta(seconds=1) - campaign.ends_at
    Campaign.objects.filter(pk=campaign.pk).update(
        starts_at=F("starts_at") + shift, ends_at=F("ends_at") + shift, state=CampaignState.ENDED
    )
    Policy.objects.filter(coverage__campaign_item__campaign=campaign).update(
        window_starts_at=F("window_starts_at") + shift, window_ends_at=F("window_ends_at") + shift
    )
    Order.objects.filter(campaign=campaign).update(created_at=F("created_at") + shift)
    campaign.refresh_from_db()


def lifecycle(
    world,
    *,
    buyers: int,
    insurer: Insurer | None = None,
    buyer_users: list | None = None,
    review_threshold_fen: int | None = None,
    file_claims: bool = True,
    adjudicate: bool = True,
    settle: bool = True,
    clawback: bool = True,
    extras: bool = True,
) -> Lifecycle:
    """A new campaign of the world's seller with coverage on one SKU; ``buyers`` new buyers each
    buy one, the campaign ends, the same product gets ¥10.00 cheaper in the seller's Taobao
    shop, and each buyer claims with an evidence order from there.

    With the defaults every claim is approved and paid, and the first buyer's order is then half
    refunded so that half its payout is clawed back. ``extras`` adds a seller, a shop, a coupon
    an insurer with a product per buyer, and a campaign with a covered item, so that every admin list
    grows with ``buyers``. ``buyer_users`` buy instead of new buyers when given.
    """
    product = CatalogProductFactory()
    sku = SkuFactory(listing=ListingFactory(shop=world.tmall, product=product), price_fen=19_900)
    cheaper = SkuFactory(listing=ListingFactory(shop=world.taobao, product=product), price_fen=18_900)
    campaign = CampaignFactory(seller=world.seller)
    item = CampaignItemFactory(campaign=campaign, sku=sku, campaign_price_fen=INSURED_PRICE_FEN)
    terms = InsuranceProductFactory(
        insurer=insurer or world.coverage.insurer, review_threshold_fen=review_threshold_fen, rates=150
    )
    coverage = coverage_turn_on(campaign_item=item, seller=world.seller, product=terms)
    result = Lifecycle(campaign=campaign, coverage=coverage)
    people = []
    for n in range(buyers):
        buyer = buyer_users[n] if buyer_users else UserFactory()
        balance_top_up(user=buyer, amount_fen=100_000, key=f"admin-topup-{buyer.pk}")
        address = AddressFactory(user=buyer)
        order = order_place(buyer=buyer, address=address, items=[(sku, 1)])
        order_pay(order=order, buyer=buyer)
        order_ship(order=order)
        order_confirm_receipt(order=order, buyer=buyer)
        people.append((buyer, address))
        result.orders.append(order)
    end_campaign(campaign)
    policy_windows_advance()
    sku_price_change(sku=cheaper, price_fen=EVIDENCE_PRICE_FEN)
    price_drops_detect()  # the platform finds the drop too (rows for the price-drop admin)
    if file_claims:
        for (buyer, address), order in zip(people, result.orders, strict=True):
            evidence = order_place(buyer=buyer, address=address, items=[(cheaper, 1)])
            claim = claim_file(
                order_line=order.lines.get(), evidence_order_number=evidence.number, buyer=buyer
            )
            if adjudicate:
                claim = claim_adjudicate(claim=claim)
            result.evidence.append(evidence)
            result.claims.append(claim)
    if settle:
        claims_settle()
    if clawback and result.claims and settle:
        order_line_refund(
            line=result.orders[0].lines.get(), amount_fen=INSURED_PRICE_FEN // 2, request_id="half"
        )
    if extras:
        for n in range(buyers):
            shop = ShopFactory(seller=SellerFactory())
            coupon_issue(
                shop=shop, name=f"满减券 {n}", amount_fen=500, valid_until=timezone.now() + timedelta(days=7)
            )
            InsuranceProductFactory(
                insurer=InsurerFactory(code=f"insurer-{shop.pk}", name=f"保险公司 {shop.pk}")
            )
            other = CampaignItemFactory(
                campaign=CampaignFactory(seller=world.seller),
                sku=SkuFactory(listing=ListingFactory(shop=world.tmall)),
            )
            coverage_turn_on(campaign_item=other, seller=world.seller, product=world.product)
    for claim in result.claims:
        claim.refresh_from_db()
    return result


def in_review(world, *, buyers: int = 1, insurer: Insurer | None = None, buyer=None) -> list[Claim]:
    """Claims above the product's review threshold (¥1.00), waiting for staff (of ``insurer``,
    the world's by default; filed by ``buyer`` when given)."""
    claims = lifecycle(
        world,
        buyers=buyers,
        insurer=insurer,
        buyer_users=[buyer] if buyer else None,
        review_threshold_fen=100,
        settle=False,
        extras=False,
    ).claims
    assert all(c.state == ClaimState.IN_REVIEW for c in claims), [c.state for c in claims]
    return claims
