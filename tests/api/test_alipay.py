"""The caller's Alipay balance and ledger entries."""

from insurance.services import deposit_top_up
from tests.api.conftest import client_for, error_of

V1 = "/api/v1/alipay"


def test_it_shows_the_buyers_balance_and_entries(world):
    world.buy()
    client = client_for(world.alice)
    assert client.get(f"{V1}/balance/").json() == {
        "account": "buyer",
        "balance_fen": 1_000_000 - 15_900,
        "balance_display": "¥9,841.00",
    }
    entries = client.get(f"{V1}/entries/").json()
    assert entries["count"] == 2
    payment, top_up = entries["results"]
    assert (payment["kind"], payment["amount_fen"], payment["amount_display"]) == (
        "order_payment",
        -15_900,
        "-¥159.00",
    )
    assert (top_up["kind"], top_up["kind_display"], top_up["amount_fen"]) == ("top_up", "充值", 1_000_000)


def test_a_user_without_an_account_has_nothing(world, seller_b):
    client = client_for(seller_b.user)
    assert client.get(f"{V1}/balance/").json()["balance_fen"] == 0
    assert client.get(f"{V1}/entries/").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_seller_reads_the_deposit_and_seller_balance(world):
    world.buy()
    client = client_for(world.seller.user)
    deposit = client.get(f"{V1}/balance/", {"account": "deposit"}).json()
    assert deposit["balance_fen"] == 1_000_000 - 239  # one premium drawn
    kinds = [e["kind"] for e in client.get(f"{V1}/entries/", {"account": "deposit"}).json()["results"]]
    assert kinds == ["premium", "deposit"]
    assert client.get(f"{V1}/balance/", {"account": "seller"}).json()["balance_fen"] == 15_900
    deposit_top_up(seller=world.seller, amount_fen=100, key="more")
    assert client.get(f"{V1}/balance/", {"account": "deposit"}).json()["balance_display"] == "¥9,998.61"


def test_an_unknown_account_is_invalid(world):
    client = client_for(world.alice)
    assert error_of(client.get(f"{V1}/balance/", {"account": "insurer"})) == (400, "invalid")
    assert error_of(client.get(f"{V1}/entries/", {"account": "escrow"})) == (400, "invalid")
