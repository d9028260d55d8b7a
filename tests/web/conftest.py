"""Clients for the personas of the ``world`` fixture: alice and bob buy, the seller sells."""

import pytest
from django.test import Client

from insurance.services import policy_windows_advance
from shops.services import sku_price_change


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(world) -> Client:
    return client_for(world.alice)


@pytest.fixture
def bob_client(world) -> Client:
    return client_for(world.bob)


@pytest.fixture
def seller_client(world) -> Client:
    return client_for(world.seller.user)


@pytest.fixture
def htmx() -> dict[str, str]:
    """Headers of a request htmx sends."""
    return {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def claimable(world):
    """Alice's insured order: bought in the campaign at ¥159.00, trade succeeded, campaign over,
    policy claimable; the Taobao listing of the same product now sells for ¥149.00."""
    order = world.buy()
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    return order
