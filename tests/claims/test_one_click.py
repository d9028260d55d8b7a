"""一键理赔: a claim whose evidence is the platform's price record, decided check by check like
every claim and paid exactly once.

alice paid ¥159.00 for the insured Tmall SKU; after the campaign the Taobao shop sells the same
product and spec for ¥149.00, and detection has found the drop.
"""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from alipay.selectors import account_balance_fen
from claims import rules
from claims.decision import decide
from claims.detection import price_drops_detect
from claims.errors import ClaimRefused
from claims.facts import RECORD, claim_facts, record_evidence
from claims.models import Claim, ClaimSource, ClaimState, Payout, PriceDrop
from claims.price_claims import claim_file_from_drop
from notices.models import Notice
from shops.models import PriceRecord
from shops.services import sku_price_change
from tests.factories import PriceRecordFactory, SkuFactory


@pytest.fixture
def drop(world, insured_line) -> PriceDrop:
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    return PriceDrop.objects.select_related("policy").get(policy__order_line=insured_line)


def one_click(world, drop, callbacks, buyer=None) -> Claim:
    with callbacks(execute=True):
        claim = claim_file_from_drop(drop=drop, buyer=buyer or world.alice)
    claim.refresh_from_db()
    return claim


def by_code(claim: Claim) -> dict[str, str]:
    return {check["code"]: check["result"] for check in claim.checks}


def test_one_click_is_decided_check_by_check_and_paid(world, drop, django_capture_on_commit_callbacks):
    before = account_balance_fen(world.alice)

    claim = one_click(world, drop, django_capture_on_commit_callbacks)

    assert (claim.state, claim.source, claim.compensation_fen) == (
        ClaimState.PAID,
        ClaimSource.ONE_CLICK,
        1_000,
    )
    assert claim.price_record_id == drop.record_id and claim.evidence_order is None
    assert account_balance_fen(world.alice) == before + 1_000
    results = by_code(claim)
    assert set(results.values()) == {rules.PASSED}
    assert {
        "evidence_is_original",
        "evidence_sku_mismatch",
        "evidence_outside_window",
        "no_price_drop",
    } <= set(results)
    assert not {"evidence_other_account", "evidence_address_mismatch", "evidence_quantity_mismatch"} & set(
        results
    )
    messages = [rules.check_message(check) for check in claim.checks]
    assert "成交价记录在保价期内。" in messages and "举证订单在保价期内下单。" not in messages
    kinds = set(Notice.objects.filter(user=world.alice).values_list("kind", flat=True))
    assert {"drop_detected", "claim_decided", "payout_credited"} <= kinds
    assert Notice.objects.filter(user=world.seller.user, kind="seller_claim_filed").count() == 1


def test_clicking_twice_gives_one_claim_and_one_payout(world, drop, django_capture_on_commit_callbacks):
    first = claim_file_from_drop(drop=drop, buyer=world.alice)
    again = claim_file_from_drop(drop=drop, buyer=world.alice)  # still in flight: the same claim
    assert again.pk == first.pk

    with django_capture_on_commit_callbacks(execute=True):
        from claims.services import claim_adjudicate

        claim_adjudicate(claim=first)
    with pytest.raises(ClaimRefused) as refused:
        claim_file_from_drop(drop=drop, buyer=world.alice)

    assert refused.value.code == "already_claimed"
    assert Claim.objects.count() == 1 and Payout.objects.count() == 1


def test_another_buyer_cannot_claim_the_drop(world, drop):
    with pytest.raises(ClaimRefused) as refused:
        claim_file_from_drop(drop=drop, buyer=world.bob)
    assert refused.value.code == "not_found"
    assert not Claim.objects.exists()


def test_the_claim_uses_the_lowest_price_seen_when_filed(world, drop, django_capture_on_commit_callbacks):
    sku_price_change(sku=world.other_shop_sku, price_fen=13_900)
    price_drops_detect()

    claim = one_click(world, drop, django_capture_on_commit_callbacks)

    assert (claim.compensation_fen, claim.price_record.unit_price_fen) == (2_000, 13_900)


def test_a_claim_by_evidence_order_first_refuses_one_click(world, drop, place_evidence):
    from claims.services import claim_file

    claim_file(
        order_line=drop.policy.order_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )

    with pytest.raises(ClaimRefused) as refused:
        claim_file_from_drop(drop=drop, buyer=world.alice)
    assert refused.value.code == "already_claimed"


# --- each check, on the facts of a one-click claim ---------------------------------------------


@pytest.fixture
def facts(world, drop):
    claim = claim_file_from_drop(drop=drop, buyer=world.alice)
    return claim_facts(
        Claim.objects.select_related("policy__order_line__order", "price_record").get(pk=claim.pk)
    )


def failed(facts_) -> list[str]:
    return decide(facts_).failed_codes


def test_the_facts_read_the_record_for_the_insured_quantity(facts, drop):
    assert facts.evidence.kind == RECORD
    assert facts.evidence.line.paid_fen == 14_900 and facts.evidence.created_at == drop.record.observed_at
    assert decide(facts).state == ClaimState.APPROVED


def test_a_record_of_the_insured_order_itself_proves_nothing(facts, insured_line):
    own = PriceRecord.objects.get(order_ref=insured_line.order_id)
    assert "evidence_is_original" in failed(replace(facts, evidence=record_evidence(own, facts.insured)))


def test_a_record_of_another_spec_or_product_proves_nothing(world, facts):
    other = SkuFactory(listing=world.other_shop_sku.listing, specs={"颜色": "白色"}, specs_key="颜色=白色")
    record = PriceRecordFactory(sku=other, unit_price_fen=9_900)
    assert failed(replace(facts, evidence=record_evidence(record, facts.insured))) == [
        "evidence_sku_mismatch"
    ]


def test_a_record_outside_the_window_proves_nothing(world, facts):
    early = PriceRecordFactory(
        sku=world.other_shop_sku,
        unit_price_fen=9_900,
        observed_at=facts.insured.window_starts_at - timedelta(seconds=1),
    )
    assert failed(replace(facts, evidence=record_evidence(early, facts.insured))) == [
        "evidence_outside_window"
    ]


def test_a_record_not_lower_is_no_drop(world, facts):
    same = PriceRecordFactory(sku=world.other_shop_sku, unit_price_fen=15_900)
    checks = decide(replace(facts, evidence=record_evidence(same, facts.insured))).checks
    [check] = [c for c in checks if c["code"] == "no_price_drop"]
    assert check["result"] == rules.FAILED
    assert rules.check_message(check).startswith("同款成交价按相同数量计 ¥159.00")


def test_the_trade_must_have_succeeded_before_filing(facts):
    late = replace(facts.insured, succeeded_at=facts.filed_at + timedelta(seconds=1))
    assert failed(replace(facts, insured=late)) == ["trade_not_successful"]


def test_an_excluded_campaign_and_a_closed_window_are_checked_too(facts):
    assert failed(replace(facts, insured=replace(facts.insured, campaign_excluded=True))) == [
        "campaign_excluded"
    ]
    closed = replace(facts, filed_at=facts.insured.window_ends_at)
    assert "window_closed" in failed(closed)
    assert failed(replace(facts, other_claim_active=True)) == ["already_claimed"]


def test_the_proof_is_anonymised(world, drop, django_capture_on_commit_callbacks):
    from claims.api import ClaimSerializer

    claim = one_click(world, drop, django_capture_on_commit_callbacks)
    shown = ClaimSerializer(claim).data

    assert shown["source"] == "one_click" and shown["evidence_order_number"] == ""
    assert shown["price_evidence"]["shop"] == "小米淘宝店" and shown["price_evidence"]["platform"] == "taobao"
    assert "order" not in shown["price_evidence"] and "buyer" not in shown["price_evidence"]
    assert timezone.is_aware(claim.price_record.observed_at)
