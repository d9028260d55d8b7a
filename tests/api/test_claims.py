"""Claims over the API: the whole journey from checkout to money in the balance, the refusals
with SPEC's codes, the check-by-check decision, staff read access and the per-buyer throttle."""

import pytest
from rest_framework.settings import api_settings

from claims import rules
from claims.models import Claim, ClaimState
from tests.api.conftest import client_for, error_of

V1 = "/api/v1"


def test_the_whole_claim_journey_over_the_api(world, django_capture_on_commit_callbacks):
    alice, seller = client_for(world.alice), client_for(world.seller.user)

    # The storefront shows the badge before buying.
    items = {i["id"]: i for i in client_for().get(f"{V1}/storefront/campaign-items/").json()["results"]}
    assert items[world.item.pk]["covered"] is True

    # Alice buys through Juhuasuan, pays; the seller ships; she confirms receipt.
    address = alice.get(f"{V1}/addresses/").json()["results"][0]["id"]
    checkout = {"address": address, "items": [{"sku": world.sku.pk, "quantity": 1}]}
    order = alice.post(f"{V1}/orders/", checkout, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1").json()
    paid = alice.post(f"{V1}/orders/{order['number']}/pay/", HTTP_IDEMPOTENCY_KEY="pay-1").json()
    policy = paid["lines"][0]["policy"]
    assert policy["state"] == "pending"
    assert seller.post(f"{V1}/seller/orders/{order['number']}/ship/").status_code == 200
    assert alice.post(f"{V1}/orders/{order['number']}/confirm-receipt/").json()["state"] == "succeeded"

    # The campaign ends; the seller lowers the same product's price in the Taobao shop.
    world.end_campaign()
    patched = seller.patch(
        f"{V1}/seller/skus/{world.other_shop_sku.pk}/", {"price_fen": 12_900}, format="json"
    )
    assert patched.status_code == 200

    # Alice places the evidence order (same account, address, SKU specs, quantity) and leaves it unpaid.
    evidence_body = {"address": address, "items": [{"sku": world.other_shop_sku.pk, "quantity": 1}]}
    evidence = alice.post(f"{V1}/orders/", evidence_body, format="json").json()
    assert (evidence["state"], evidence["paid_fen"]) == ("created", 12_900)
    balance_before = alice.get(f"{V1}/alipay/balance/").json()["balance_fen"]

    # She files the claim with the evidence order's number; the workers adjudicate and settle.
    with django_capture_on_commit_callbacks(execute=True):
        filed = alice.post(
            f"{V1}/claims/",
            {
                "order": order["number"],
                "line": paid["lines"][0]["id"],
                "evidence_order_number": evidence["number"],
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="claim-1",
        )
    assert filed.status_code == 201, filed.content
    assert filed.json()["state"] == "submitted"

    claim = alice.get(f"{V1}/claims/{filed.json()['number']}/").json()
    assert claim["state"] == "paid"
    assert (claim["price_difference_fen"], claim["compensation_fen"], claim["compensation_display"]) == (
        3_000,
        3_000,
        "¥30.00",
    )
    assert claim["policy"] == policy["number"]
    assert claim["evidence_order_number"] == evidence["number"]
    assert [c["result"] for c in claim["checks"]] == ["passed"] * len(rules.CHECKS)
    checks = {c["code"]: c["message"] for c in claim["checks"]}
    assert checks["no_price_drop"] == "价格降低 ¥30.00。"
    assert [e["to_state"] for e in claim["timeline"]] == ["submitted", "approved", "paid"]
    assert claim["timeline"][0]["actor"] == "alice"

    balance = alice.get(f"{V1}/alipay/balance/").json()
    assert balance["balance_fen"] == balance_before + 3_000
    latest = alice.get(f"{V1}/alipay/entries/").json()["results"][0]
    assert (latest["kind"], latest["amount_fen"], latest["amount_display"]) == ("payout", 3_000, "¥30.00")

    line = alice.get(f"{V1}/orders/{order['number']}/").json()["lines"][0]
    assert line["policy"]["state"] == "claimed"
    assert line["policy"]["latest_claim"]["state"] == "paid"
    assert seller.get(f"{V1}/seller/payouts/").json()["results"][0]["amount_fen"] == 3_000


@pytest.fixture
def alice(world):
    return client_for(world.alice)


def file(client, line, evidence_number: str, order=None, **headers):
    body = {"order": order or line.order.number, "line": line.pk, "evidence_order_number": evidence_number}
    return client.post(f"{V1}/claims/", body, format="json", **headers)


def test_a_rejected_claim_explains_each_check(
    world, insured_line, place_evidence, alice, django_capture_on_commit_callbacks
):
    evidence = place_evidence(quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        number = file(alice, insured_line, evidence.number).json()["number"]
    claim = alice.get(f"{V1}/claims/{number}/").json()
    assert claim["state"] == "rejected"
    failed = {c["code"]: c["message"] for c in claim["checks"] if c["result"] == "failed"}
    assert failed == {"evidence_quantity_mismatch": "举证订单的数量(2)与原订单(1)不同。"}
    # Two units are not compared with one (issue 10.11): the price check says what it needed.
    skipped = {c["code"]: c["message"] for c in claim["checks"] if c["result"] == "skipped"}
    assert skipped == {"no_price_drop": "未检查:数量不同。", "no_compensation": "未检查:数量不同。"}
    assert claim["compensation_fen"] is None
    assert claim["compensation_display"] is None


def test_a_number_no_order_has_is_refused_and_keeps_no_claim(world, insured_line, alice):
    """Issue 10.10: 400 with the code, and nothing left on the buyer's or the seller's lists."""
    response = file(alice, insured_line, "JHS404404404")

    assert error_of(response) == (400, "evidence_not_found")
    assert "JHS404404404" in response.json()["detail"]
    assert alice.get(f"{V1}/claims/").json()["results"] == []
    assert not Claim.objects.exists()


def test_the_order_can_be_given_by_id(world, insured_line, place_evidence, alice):
    response = file(alice, insured_line, place_evidence().number, order=str(insured_line.order_id))
    assert response.status_code == 201
    assert response.json()["order"] == insured_line.order.number


def test_a_line_without_a_policy_is_not_insured(world, insured_line, place_evidence, alice):
    evidence = place_evidence()
    response = file(alice, evidence.lines.get(), insured_line.order.number)
    assert error_of(response) == (409, "not_insured")


def test_a_paid_policy_is_already_claimed(world, scene, place_evidence, alice):
    line = scene.order.lines.get()
    assert error_of(file(alice, line, place_evidence().number)) == (409, "already_claimed")


def test_filing_the_same_evidence_again_returns_the_claim_in_flight(
    world, insured_line, place_evidence, alice
):
    evidence = place_evidence()
    first = file(alice, insured_line, evidence.number).json()
    again = file(alice, insured_line, evidence.number).json()
    assert again["number"] == first["number"]
    assert Claim.objects.count() == 1


@pytest.mark.parametrize("number", ["!!", "订单123", "x" * 33, " "])
def test_an_evidence_number_must_look_like_one(world, insured_line, alice, number):
    response = file(alice, insured_line, number)
    assert error_of(response)[0] == 400
    assert response.json()["code"] in {"invalid_evidence_number", "invalid"}


def test_a_missing_field_is_invalid_field_by_field(world, alice):
    response = alice.post(f"{V1}/claims/", {}, format="json")
    assert error_of(response) == (400, "invalid")
    assert set(response.json()["errors"]) == {"order", "line", "evidence_order_number"}


def test_another_buyers_order_or_a_foreign_line_is_not_found(world, insured_line, place_evidence, alice):
    bob_order = world.buy(world.bob)
    evidence = place_evidence()
    assert error_of(file(client_for(world.bob), insured_line, evidence.number)) == (404, "not_found")
    assert error_of(file(alice, bob_order.lines.get(), evidence.number)) == (404, "not_found")
    foreign_line = bob_order.lines.get()
    assert error_of(file(alice, foreign_line, evidence.number, order=insured_line.order.number)) == (
        404,
        "not_found",
    )
    assert error_of(file(alice, insured_line, evidence.number, order="9" * 30)) == (404, "not_found")


def test_staff_read_their_insurers_claims_but_cannot_change_them(world, scene, staff):
    client = client_for(staff)
    (listed,) = client.get(f"{V1}/claims/").json()["results"]
    assert listed["number"] == scene.claim.number
    assert client.get(f"{V1}/claims/{scene.claim.number}/").json()["state"] == "paid"
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{V1}/claims/{scene.claim.number}/", {}, format="json")
        assert error_of(response) == (405, "method_not_allowed")


def test_staff_of_another_insurer_see_nothing(world, scene):
    from tests.factories import InsurerFactory, UserFactory

    other = UserFactory(username="other_officer", is_staff=True)
    InsurerFactory(code="pingan", name="平安保险").staff.add(other)
    assert client_for(other).get(f"{V1}/claims/").json()["count"] == 0
    assert error_of(client_for(other).get(f"{V1}/claims/{scene.claim.number}/")) == (404, "not_found")


def test_claim_filing_is_throttled_per_buyer(world, insured_line, alice, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**api_settings.DEFAULT_THROTTLE_RATES, "claims": "2/min"},
    }
    for _attempt in range(2):
        assert file(alice, insured_line, "!!").status_code == 400  # refused, but counted
    response = file(alice, insured_line, "!!")
    assert error_of(response) == (429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Per buyer: bob is not held back by alice's attempts, and reading is never throttled.
    assert file(client_for(world.bob), insured_line, "!!").status_code == 404
    assert alice.get(f"{V1}/claims/").status_code == 200


def test_claims_are_listed_newest_first(
    world, insured_line, place_evidence, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = file(alice, insured_line, place_evidence(quantity=2).number).json()["number"]  # rejected
    second = file(alice, insured_line, place_evidence().number).json()["number"]
    listed = alice.get(f"{V1}/claims/").json()["results"]
    assert [c["number"] for c in listed] == [second, first]
    assert Claim.objects.get(number=second).state == ClaimState.SUBMITTED


def test_the_buyer_sees_a_claim_in_review_but_not_why(world, staff):
    """SPEC, fraud signals: staff and the seller read the reasons; the buyer only that a person
    will look (the signals cannot be probed by filing and reading)."""
    from tests.admin.scenarios import in_review

    (claim,) = in_review(world)
    path = f"{V1}/claims/{claim.number}/"

    mine = client_for(claim.buyer).get(path).json()
    assert (mine["state"], mine["review_reasons"]) == ("in_review", [])
    listed = client_for(claim.buyer).get(f"{V1}/claims/").json()["results"]
    assert [c["review_reasons"] for c in listed] == [[]]

    officer = client_for(staff).get(path).json()
    assert [r["code"] for r in officer["review_reasons"]] == ["amount_above_threshold"]
    assert officer["review_reasons"][0]["message"]
