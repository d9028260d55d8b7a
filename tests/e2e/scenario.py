"""A shop with something on every page: claims in every state, an unpaid evidence order, coupons,
and the people who read them (a buyer, a seller and an admin). Shared by the browser tests."""

from dataclasses import dataclass

from django.contrib.auth.models import User

from claims.detection import price_drops_detect
from claims.models import Claim
from claims.services import claim_file
from insurance.models import Policy
from insurance.services import policy_windows_advance
from orders.models import CampaignItem, Order
from orders.services import order_place
from shops.services import coupon_issue, sku_price_change
from tests.conftest import World
from tests.factories import CampaignItemFactory, ListingFactory, SkuFactory, UserFactory


@dataclass
class Scenario:
    world: World
    rice: CampaignItem
    paid: Order  # insured, a wrong-quantity claim rejected, then a claim paid
    in_review: Order  # insured, its claim waits for the insurer
    claimable: Order  # insured, no claim yet, with an unpaid evidence order ready
    waiting: Order  # paid, not shipped
    evidence: Order  # unpaid evidence order of the same product
    admin: User
    staff: User  # an insurer's claims officer
    claim: Claim  # the claim in review


def build(world: World, *, staff: User) -> Scenario:
    rice = CampaignItemFactory(
        campaign=world.campaign,
        sku=SkuFactory(listing=ListingFactory(shop=world.tmall, title="米家电饭煲 3L"), specs={"容量": "3L"}),
        campaign_price_fen=25_900,
    )
    paid, in_review, claimable = world.buy(), world.buy(), world.buy()
    waiting = world.buy(succeed=False)
    world.buy(world.bob, sku=rice.sku)
    now = world.campaign.starts_at
    coupon_issue(
        shop=world.tmall,
        name="店铺券",
        amount_fen=1_000,
        min_spend_fen=10_000,
        valid_until=now.replace(year=now.year + 1),
    )
    coupon_issue(shop=None, name="平台红包", amount_fen=500, valid_until=now.replace(year=now.year + 1))
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()  # the platform finds the drop too: the panels and the message centre show it

    def evidence_order(quantity: int = 1) -> Order:
        return order_place(
            buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, quantity)]
        )

    claim_file(order_line=world.line(paid), evidence_order_number=evidence_order(2).number, buyer=world.alice)
    claim_file(order_line=world.line(paid), evidence_order_number=evidence_order().number, buyer=world.alice)
    # Terms are copied onto each policy at issue: this one's threshold sends its claim to review.
    Policy.objects.filter(order_line__order=in_review).update(review_threshold_fen=500)
    claim = claim_file(
        order_line=world.line(in_review), evidence_order_number=evidence_order().number, buyer=world.alice
    )
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    return Scenario(
        world=world,
        rice=rice,
        paid=paid,
        in_review=in_review,
        claimable=claimable,
        waiting=waiting,
        evidence=evidence_order(),
        admin=admin,
        staff=staff,
        claim=claim,
    )
