"""``Idempotency-Key`` on the POSTs that place an order, pay it or file a claim."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alipay.models import Transfer
from claims.models import Claim
from core.models import IdempotencyKey
from orders import services as order_services
from orders.models import Order
from tests.api.conftest import client_for, error_of

V1 = "/api/v1"


@pytest.fixture
def alice(world):
    return client_for(world.alice)


def checkout(world, quantity: int = 1) -> dict:
    return {"address": world.alice_address.pk, "items": [{"sku": world.sku.pk, "quantity": quantity}]}


def post_order(client, body, key):
    return client.post(f"{V1}/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_returns_the_first_response_without_acting_again(world, alice):
    first = post_order(alice, checkout(world), "k-1")
    retry = post_order(alice, checkout(world), "k-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(world, alice):
    post_order(alice, checkout(world), "k-1")
    response = post_order(alice, checkout(world, quantity=2), "k-1")
    assert error_of(response) == (422, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_refused(world, alice):
    number = post_order(alice, checkout(world), "k-1").json()["number"]
    response = alice.post(f"{V1}/orders/{number}/pay/", HTTP_IDEMPOTENCY_KEY="k-1")
    assert error_of(response) == (422, "idempotency_key_reused")
    assert Order.objects.get(number=number).state == "created"


def test_an_expired_key_acts_anew(world, alice):
    first = post_order(alice, checkout(world), "k-1").json()
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    second = post_order(alice, checkout(world), "k-1").json()
    assert second["number"] != first["number"]
    assert Order.objects.count() == 2
    (row,) = IdempotencyKey.objects.all()
    assert row.expires_at > timezone.now() + timedelta(hours=23)


def test_keys_are_per_user(world, alice):
    post_order(alice, checkout(world), "k-1")
    bob = client_for(world.bob)
    body = {"address": world.bob_address.pk, "items": [{"sku": world.sku.pk, "quantity": 1}]}
    assert post_order(bob, body, "k-1").status_code == 201
    assert Order.objects.count() == 2


def test_without_a_key_every_post_acts(world, alice):
    alice.post(f"{V1}/orders/", checkout(world), format="json")
    alice.post(f"{V1}/orders/", checkout(world), format="json")
    assert Order.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "中文"])
def test_a_malformed_key_is_invalid(world, alice, key):
    assert error_of(post_order(alice, checkout(world), key)) == (400, "invalid_idempotency_key")
    assert not Order.objects.exists()


def test_a_refusal_is_not_stored_so_a_retry_acts_anew(world, alice):
    bad = {"address": world.alice_address.pk, "items": []}
    assert error_of(post_order(alice, bad, "k-1")) == (400, "invalid")
    assert not IdempotencyKey.objects.exists()
    assert post_order(alice, checkout(world), "k-1").status_code == 201


def test_paying_with_a_key_replays_the_payment(world, alice):
    number = post_order(alice, checkout(world), "k-1").json()["number"]
    first = alice.post(f"{V1}/orders/{number}/pay/", HTTP_IDEMPOTENCY_KEY="pay-1")
    retry = alice.post(f"{V1}/orders/{number}/pay/", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert Transfer.objects.filter(key__startswith="pay:order:").count() == 1


def test_filing_a_claim_with_a_key_replays_the_first_response(world, insured_line, place_evidence, alice):
    body = {
        "order": insured_line.order.number,
        "line": insured_line.pk,
        "evidence_order_number": place_evidence().number,
    }
    first = alice.post(f"{V1}/claims/", body, format="json", HTTP_IDEMPOTENCY_KEY="claim-1")
    retry = alice.post(f"{V1}/claims/", body, format="json", HTTP_IDEMPOTENCY_KEY="claim-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert Claim.objects.count() == 1
    other = {**body, "evidence_order_number": place_evidence().number}
    response = alice.post(f"{V1}/claims/", other, format="json", HTTP_IDEMPOTENCY_KEY="claim-1")
    assert error_of(response) == (422, "idempotency_key_reused")


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_act_once(world, monkeypatch):
    """Two requests with one key at the same moment: the second waits on the key's unique index
    while the first works, then replays what the first stored."""
    place = order_services.order_place

    def slow_place(**kwargs):
        time.sleep(0.3)  # hold the first request inside its transaction
        return place(**kwargs)

    monkeypatch.setattr("orders.api.order_place", slow_place)
    responses = []

    def request() -> None:
        try:
            responses.append(post_order(client_for(world.alice), checkout(world), "race-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert Order.objects.count() == 1
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False, True]
