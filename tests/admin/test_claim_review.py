"""The review queue: staff approve and reject with a reason, through the claims services."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from alipay.selectors import account_balance_fen
from claims import rules
from claims.models import Claim, ClaimState, Payout
from claims.services import claim_adjudicate
from core.models import AuditEvent
from tests.admin.scenarios import in_review, lifecycle

CHANGELIST = reverse("admin:claims_claim_changelist")


def _act(client, action: str, claims, **data):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [c.pk for c in claims], **data}, follow=True
    )


def _messages(response) -> list[str]:
    """The messages shown on the page the action led to."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_asks_for_a_reason_before_deciding(admin_client, world):
    (claim,) = in_review(world)

    response = _act(admin_client, "approve_claims", [claim], index="0")

    assert response.status_code == 200
    assert "admin/claims/claim/review_reason.html" in [t.name for t in response.templates]
    assert 'name="reason"' in response.text and claim.number in response.text
    claim.refresh_from_db()
    assert claim.state == ClaimState.IN_REVIEW


def test_it_approves_through_the_service_and_settles_exactly(admin_client, admin_user, world):
    (claim,) = in_review(world)
    before = account_balance_fen(claim.buyer)

    response = _act(admin_client, "approve_claims", [claim], apply="1", reason="降价属实,已核对举证订单。")

    assert [url for url, _status in response.redirect_chain] == [CHANGELIST]
    claim.refresh_from_db()
    assert claim.state == ClaimState.APPROVED
    assert claim.decided_by == admin_user
    assert claim.decision_reason == "降价属实,已核对举证订单。"
    event = AuditEvent.objects.filter(action="claim_review", object_id=claim.pk).get()
    assert (event.actor, event.from_state, event.to_state) == (admin_user, "in_review", "approved")
    assert _messages(response) == ["已通过 1 笔理赔,将在结算时赔付。"]

    response = _act(admin_client, "settle_claims", [claim])

    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert Payout.objects.get(claim=claim).amount_fen == 1_000
    assert account_balance_fen(claim.buyer) == before + 1_000
    assert _messages(response) == ["已结算 1 笔已通过的理赔。"]


def test_it_rejects_through_the_service(admin_client, admin_user, world):
    (claim,) = in_review(world)

    _act(admin_client, "reject_claims", [claim], apply="1", reason="举证订单疑似刷单。")

    claim.refresh_from_db()
    assert claim.state == ClaimState.REJECTED
    assert (claim.decided_by, claim.decision_reason) == (admin_user, "举证订单疑似刷单。")
    _act(admin_client, "settle_claims", [claim])
    assert not Payout.objects.filter(claim=claim).exists()


@pytest.mark.parametrize("action", ["approve_claims", "reject_claims"])
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_it_refuses_a_missing_reason_and_changes_nothing(admin_client, world, action, reason):
    (claim,) = in_review(world)
    events = AuditEvent.objects.count()

    response = _act(admin_client, action, [claim], apply="1", reason=reason)

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    claim.refresh_from_db()
    assert claim.state == ClaimState.IN_REVIEW
    assert (claim.decided_by, claim.decision_reason) == (None, "")
    assert AuditEvent.objects.count() == events


def test_it_reports_each_refused_claim_with_its_message(admin_client, world):
    paid = lifecycle(world, buyers=1, clawback=False, extras=False).claims[0]
    (waiting,) = in_review(world)

    response = _act(admin_client, "approve_claims", [paid, waiting], apply="1", reason="核实无误。")

    assert _messages(response) == [
        f"{paid.number}: 只有人工审核中的理赔可以审核。",
        "已通过 1 笔理赔,将在结算时赔付。",
    ]
    paid.refresh_from_db()
    waiting.refresh_from_db()
    assert (paid.state, waiting.state) == (ClaimState.PAID, ClaimState.APPROVED)


def test_it_reruns_adjudication_only_for_submitted_claims(admin_client, world):
    (submitted,) = lifecycle(world, buyers=1, adjudicate=False, settle=False, extras=False).claims
    (waiting,) = in_review(world)
    assert submitted.state == ClaimState.SUBMITTED

    response = _act(admin_client, "readjudicate_claims", [submitted, waiting])

    submitted.refresh_from_db()
    waiting.refresh_from_db()
    assert submitted.state == ClaimState.APPROVED
    assert submitted.compensation_fen == 1_000
    assert waiting.state == ClaimState.IN_REVIEW
    assert sorted(_messages(response)) == sorted(
        [
            f"{submitted.number}: 判责结果为“已通过”。",
            f"{waiting.number}: 只有已提交、尚未判责的理赔可以重新判责(当前:人工审核中)。",
        ]
    )


def test_the_queue_filter_lists_only_claims_in_review(admin_client, world):
    paid = lifecycle(world, buyers=2, extras=False).claims
    waiting = in_review(world, buyers=2)

    response = admin_client.get(CHANGELIST, {"state": "in_review"})

    assert {c.pk for c in response.context["cl"].result_list} == {c.pk for c in waiting}
    assert "待人工审核" in response.text
    everything = admin_client.get(CHANGELIST).context["cl"].result_list
    assert {c.pk for c in everything} == {c.pk for c in [*paid, *waiting]}


def test_the_change_page_explains_the_decision(admin_client, world):
    (claim,) = in_review(world)
    insured = claim.policy.order_line.order

    response = admin_client.get(reverse("admin:claims_claim_change", args=[claim.pk]))

    page = response.text
    # Every check with its result, in the words buyers and sellers read.
    assert page.count('class="check-passed"') == len(claim.checks) == len(rules.CHECKS)
    assert "举证订单为同一账号下单。" in page
    assert "价格降低 ¥10.00。" in page
    assert "赔付金额超过人工审核阈值。" in page
    # The insured line beside the evidence order.
    assert insured.number in page and claim.evidence_order_number in page
    assert insured.ship_recipient in page and "尺码=M;颜色=黑色" in page
    assert "¥159.00" in page and "¥149.00" in page
    # The compensation and who did what.
    assert "¥10.00" in page and "¥1.00" in page
    assert "claim_file" in page and "claim_adjudicate" in page
    # Staff decide from here, and nothing on the page can be saved directly.
    assert 'value="approve_claims"' in page and 'value="reject_claims"' in page
    assert 'name="_save"' not in page


def test_the_change_page_shows_failed_and_skipped_checks(admin_client, world):
    (order,) = lifecycle(world, buyers=1, file_claims=False, settle=False, extras=False).orders
    # A claim stored before filing refused unknown numbers (issue 10.10): its page still explains it.
    claim = Claim.objects.create(
        number="LP-OLD",
        policy=order.lines.get().policy,
        buyer=order.buyer,
        evidence_order_number="NOSUCHORDER1",
        filed_at=timezone.now(),
    )
    claim = claim_adjudicate(claim=claim)

    page = admin_client.get(reverse("admin:claims_claim_change", args=[claim.pk])).text

    assert claim.state == ClaimState.REJECTED
    assert "找不到订单号为 NOSUCHORDER1 的订单。" in page
    assert 'class="check-failed"' in page and 'class="check-skipped"' in page
    assert "找不到订单号为 NOSUCHORDER1 的举证订单。" in page
    assert 'value="approve_claims"' not in page
