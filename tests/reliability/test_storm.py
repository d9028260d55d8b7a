"""Duplicate-claim storm: 200 concurrent claim submissions for the same policy over HTTP against a
live server → exactly one claim, every other request a clear 409, exactly one payout."""

import json
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.authtoken.models import Token

from claims.models import Claim, ClaimState, Payout
from claims.services import claims_settle
from insurance.services import policy_windows_advance
from orders.services import order_place
from shops.services import sku_price_change

REQUESTS = 200
RATES = {"claims": "100000/min", "auth": "100000/min"}


def post(url: str, token: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own live server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def storm(world, live_server, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    order = world.buy()
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    token = Token.objects.create(user=world.alice).key
    line = world.line(order)
    return {
        "url": f"{live_server.url}/api/v1/claims/",
        "token": token,
        "order": order.number,
        "line": line.pk,
    }


def _evidence(world) -> str:
    return order_place(
        buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, 1)]
    ).number


def _fire(storm: dict, bodies: list[dict], key: str | None = None) -> list[tuple[int, dict]]:
    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(lambda body: post(storm["url"], storm["token"], body, key), bodies))


@pytest.mark.django_db(transaction=True)
def test_two_hundred_concurrent_claims_for_one_policy_make_one_claim_and_one_payout(world, storm):
    bodies = [
        {"order": storm["order"], "line": storm["line"], "evidence_order_number": _evidence(world)}
        for _ in range(REQUESTS)
    ]
    responses = _fire(storm, bodies)

    statuses = Counter(status for status, _body in responses)
    assert statuses[201] == 1, statuses
    assert statuses[409] == REQUESTS - 1, statuses
    refusals = {body["code"] for status, body in responses if status == 409}
    assert refusals == {"already_claimed"}
    assert all(body["detail"] for status, body in responses if status == 409)
    assert Claim.objects.count() == 1
    # Settlement skips a policy another request holds locked; beat's next run pays it.
    claims_settle()
    claims_settle()
    claim = Claim.objects.get()
    assert claim.state == ClaimState.PAID
    assert Payout.objects.filter(claim=claim).count() == 1
    assert Payout.objects.get().amount_fen == 15_900 - 14_900


@pytest.mark.django_db(transaction=True)
def test_two_hundred_retries_with_one_idempotency_key_make_one_claim_and_one_payout(world, storm):
    body = {"order": storm["order"], "line": storm["line"], "evidence_order_number": _evidence(world)}
    responses = _fire(storm, [body] * REQUESTS, key="storm-retry-1")

    assert {status for status, _body in responses} == {201}
    assert (
        len({json.dumps(body, sort_keys=True) for _status, body in responses}) == 1
    )  # the first answer, replayed
    assert Claim.objects.count() == 1
    claims_settle()
    assert Payout.objects.count() == 1
