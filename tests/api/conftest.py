"""Personas and a finished claim for the API tests.

alice and bob are buyers (any user is), seller_a owns the world's shops and campaign, seller_b
owns a shop and campaign of its own, staff is a claims officer of the world's insurer and staff_b
an officer of another insurer.
"""

from dataclasses import dataclass

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.detection import price_drops_detect
from claims.models import Claim, ClaimState
from claims.services import claim_file
from orders.models import Address, CampaignItem, Order
from shops.models import Seller, Shop, Sku
from shops.services import sku_price_change
from tests.factories import (
    CampaignFactory,
    CampaignItemFactory,
    ListingFactory,
    SellerFactory,
    ShopFactory,
    SkuFactory,
)

ROLES = ["anon", "alice", "bob", "seller_a", "seller_b", "staff", "staff_b"]


def client_for(user=None) -> APIClient:
    """A client that authenticates with a token, as an app would; anonymous without a user."""
    client = APIClient()
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def seller_b(world) -> Seller:
    """Another seller with a shop, a SKU and a live campaign item of its own."""
    seller = SellerFactory(user__username="seller_b", name="华为官方")
    shop = ShopFactory(seller=seller, name="华为官方旗舰店")
    sku = SkuFactory(listing=ListingFactory(shop=shop), price_fen=29_900)
    CampaignItemFactory(campaign=CampaignFactory(seller=seller), sku=sku, campaign_price_fen=25_900)
    return seller


@pytest.fixture
def clients(world, seller_b, staff, staff_b) -> dict[str, APIClient]:
    users = {
        "alice": world.alice,
        "bob": world.bob,
        "seller_a": world.seller.user,
        "seller_b": seller_b.user,
        "staff": staff,
        "staff_b": staff_b,
    }
    return {"anon": client_for(None), **{role: client_for(user) for role, user in users.items()}}


@dataclass
class Scene:
    """Alice's insured order, her evidence order and her paid claim, on seller A's shop."""

    order: Order
    evidence: Order
    claim: Claim
    address: Address
    shop: Shop
    sku: Sku
    item: CampaignItem
    seller_b: Seller


@pytest.fixture
def scene(world, insured_line, place_evidence, seller_b, django_capture_on_commit_callbacks) -> Scene:
    sku_price_change(sku=world.other_shop_sku, price_fen=12_900)
    price_drops_detect()  # alice's drop, and its notice, before she claims with an evidence order
    evidence = place_evidence()
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    return Scene(
        order=insured_line.order,
        evidence=evidence,
        claim=claim,
        address=world.alice_address,
        shop=world.tmall,
        sku=world.sku,
        item=world.item,
        seller_b=seller_b,
    )


def error_of(response) -> tuple[int, str]:
    """The status and error code of a response, asserting the error shape on the way."""
    body = response.json()
    assert set(body) <= {"code", "detail", "errors"}, body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    return response.status_code, body["code"]
