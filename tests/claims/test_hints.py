"""The evidence checks before and beside a claim: the buyer's hints on a candidate evidence order
and the staff's comparison table come from the same checks that decide it (issue 9)."""

from datetime import timedelta

import pytest

from claims import rules
from claims.admin import _order_comparison
from claims.services import claim_adjudicate, claim_file
from shops.services import sku_price_change
from tests.factories import SkuFactory


@pytest.fixture
def cheaper(world):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)


def notes(insured_line, order) -> list[str]:
    candidate = order.lines.get()
    return rules.hint_notes(rules.evidence_hints(insured_line, candidate, insured_line.policy))


def test_a_good_candidate_has_no_hint(world, insured_line, cheaper, place_evidence):
    assert notes(insured_line, place_evidence()) == []


def test_a_candidate_of_another_quantity_says_so_and_claims_no_price(world, insured_line, place_evidence):
    """Two at ¥378.00 against one at ¥159.00: "数量不同", and the price is not compared."""
    assert notes(insured_line, place_evidence(quantity=2)) == ["数量不同"]


def test_a_candidate_hints_every_check_it_fails(world, insured_line, place_evidence):
    white = SkuFactory(
        listing=world.other_shop_sku.listing, specs={"颜色": "白色", "尺码": "M"}, price_fen=9_900
    )
    early = place_evidence(sku=white, now=world.campaign.ends_at - timedelta(minutes=1))

    assert notes(insured_line, early) == ["商品或规格不同", "不在保价期内下单"]


def test_a_dearer_candidate_says_the_price_did_not_drop(world, insured_line, place_evidence):
    assert notes(insured_line, place_evidence()) == ["价格未降低"]


def test_hints_run_the_evidence_checks_only(world, insured_line, cheaper, place_evidence):
    checks = rules.evidence_hints(insured_line, place_evidence().lines.get(), insured_line.policy)

    evidence_codes = [check.code for check in rules.CHECKS if check.evidence]
    assert [check["code"] for check in checks] == evidence_codes
    assert evidence_codes[0] == "evidence_not_found" and "window_closed" not in evidence_codes


# --- the staff comparison ---------------------------------------------------------------------


def marks(claim) -> dict[str, bool | None]:
    """Each row of the comparison, with its evidence cell's mark (one evidence line here)."""
    table = _order_comparison(claim)
    return {str(row["label"]): row["cells"][0]["agrees"] for row in table["rows"]}


def test_the_staff_comparison_marks_come_from_the_checks(world, insured_line, place_evidence):
    claim = claim_adjudicate(
        claim=claim_file(
            order_line=insured_line,
            evidence_order_number=place_evidence(quantity=2).number,
            buyer=world.alice,
        )
    )

    assert marks(claim) == {
        "订单号": True,
        "订单状态": None,
        "买家": True,
        "收货人": True,
        "手机号码": True,
        "收货地址": True,
        "下单时间": True,
        "商品": True,
        "SKU 规格": True,
        "数量": False,
        "商品总价": None,
        "店铺优惠": None,
        "平台及达人优惠": None,
        "实付款": None,  # two units are not compared with one (issue 10.11)
    }


def test_the_staff_comparison_marks_the_part_of_the_address_that_differs(world, insured_line, place_evidence):
    from orders.services import address_create

    other_phone = address_create(
        user=world.alice,
        recipient="张三",
        phone="13900139000",
        region="浙江省 杭州市 余杭区",
        detail="文一西路 969 号",
    )
    claim = claim_adjudicate(
        claim=claim_file(
            order_line=insured_line,
            evidence_order_number=place_evidence(address=other_phone).number,
            buyer=world.alice,
        )
    )

    found = marks(claim)
    assert (found["收货人"], found["手机号码"], found["收货地址"]) == (True, False, True)


def test_the_staff_comparison_of_another_buyers_order_marks_only_the_account(
    world, insured_line, cheaper, place_evidence, mallory, mallory_address
):
    claim = claim_adjudicate(
        claim=claim_file(
            order_line=insured_line,
            evidence_order_number=place_evidence(mallory, address=mallory_address).number,
            buyer=world.alice,
        )
    )

    found = marks(claim)
    assert found["买家"] is False
    assert {found[label] for label in ("收货人", "下单时间", "商品", "SKU 规格", "数量", "实付款")} == {None}
