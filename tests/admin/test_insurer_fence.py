"""Two insurers, each with its own officer: an officer sees and decides only the claims, policies,
premiums, payouts and coverage of the insurers they belong to. Another insurer's object is a 404,
in the admin and in the API alike, and money moves only from the claim's own insurer."""

import pytest
from django.urls import reverse

from alipay.models import Account, AccountKind
from claims.errors import ClaimRefused
from claims.models import Claim, ClaimState, Payout
from claims.services import claim_review_approve, claim_review_reject, claims_settle
from insurance.admin import InsurerListFilter
from insurance.models import Coverage, Insurer, Policy, Premium
from tests.admin.conftest import admin_url
from tests.admin.scenarios import in_review, lifecycle
from tests.api.conftest import client_for, error_of
from tests.factories import InsurerFactory

CHANGELIST = reverse("admin:claims_claim_changelist")
FENCED = [Claim, Policy, Premium, Payout, Coverage, Insurer]


def _insurer_balance(insurer) -> int:
    account = Account.objects.filter(kind=AccountKind.INSURER, code=f"insurer:{insurer.code}").first()
    return account.balance_fen if account else 0


def _approve(client, claim):
    return client.post(
        CHANGELIST,
        {"action": "approve_claims", "_selected_action": [claim.pk], "apply": "1", "reason": "属实。"},
        follow=True,
    )


def test_officer_b_cannot_see_or_decide_insurer_as_claim(world, officers):
    """The reproduction of issue 12: officer B approved insurer A's claim and A paid for it."""
    (claim,) = in_review(world)
    a, b = claim.policy.coverage.insurer, officers.insurer_b
    a_before, b_before = _insurer_balance(a), _insurer_balance(b)

    assert officers.b_client.get(admin_url(Claim, "change", claim.pk)).status_code == 404
    status, code = error_of(client_for(officers.b).get(f"/api/v1/claims/{claim.number}/"))
    assert (status, code) == (404, "not_found")
    _approve(officers.b_client, claim)
    claim.refresh_from_db()
    assert claim.state == ClaimState.IN_REVIEW and claim.decided_by is None
    with pytest.raises(ClaimRefused) as refused:
        claim_review_approve(claim=claim, staff=officers.b, reason="属实。")
    assert refused.value.code == "claim_not_found"
    claims_settle()
    assert (_insurer_balance(a), _insurer_balance(b)) == (a_before, b_before)

    _approve(officers.a_client, claim)
    claims_settle()

    claim.refresh_from_db()
    assert (claim.state, claim.decided_by) == (ClaimState.PAID, officers.a)
    assert _insurer_balance(a) == a_before - claim.compensation_fen
    assert _insurer_balance(b) == b_before


@pytest.mark.parametrize("model", FENCED, ids=lambda m: m._meta.label)
def test_each_officer_lists_and_opens_only_their_own_insurers_rows(world, officers, model):
    for insurer in (officers.insurer_a, officers.insurer_b):
        lifecycle(world, buyers=1, insurer=insurer, clawback=False, extras=False)  # paid
        in_review(world, insurer=insurer)
    own = {"a": officers.insurer_a, "b": officers.insurer_b}

    for who, client in (("a", officers.a_client), ("b", officers.b_client)):
        listed = client.get(admin_url(model, "changelist")).context["cl"].result_list
        assert listed and {_insurer_of(row) for row in listed} == {own[who]}, who
        other = model.objects.exclude(pk__in=[row.pk for row in listed]).order_by("pk").first()
        assert _insurer_of(other) != own[who]
        assert client.get(admin_url(model, "change", other.pk)).status_code == 404
        assert client.get(admin_url(model, "history", other.pk)).status_code == 404


def test_a_superuser_sees_every_insurers_rows(admin_client, world, officers):
    in_review(world)
    in_review(world, insurer=officers.insurer_b)

    listed = admin_client.get(CHANGELIST).context["cl"].result_list

    assert {claim.policy.coverage.insurer for claim in listed} == {officers.insurer_a, officers.insurer_b}


def test_an_officer_never_decides_their_own_claim(world, officers):
    (claim,) = in_review(world, buyer=officers.a)

    for decide in (claim_review_approve, claim_review_reject):
        with pytest.raises(ClaimRefused) as refused:
            decide(claim=claim, staff=officers.a, reason="本人理赔")
        assert refused.value.code == "own_claim"
    _approve(officers.a_client, claim)

    claim.refresh_from_db()
    assert (claim.state, claim.decided_by) == (ClaimState.IN_REVIEW, None)


def test_an_officer_settles_only_their_own_insurers_claims(world, officers):
    (mine,) = in_review(world, insurer=officers.insurer_b)
    (theirs,) = in_review(world)
    claim_review_approve(claim=mine, staff=officers.b, reason="属实。")
    claim_review_approve(claim=theirs, staff=officers.a, reason="属实。")

    officers.b_client.post(CHANGELIST, {"action": "settle_claims", "_selected_action": [mine.pk]})

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.state, theirs.state) == (ClaimState.PAID, ClaimState.APPROVED)


def _insurer_of(obj) -> Insurer:
    if isinstance(obj, Insurer):
        return obj
    if isinstance(obj, Coverage):
        return obj.insurer
    if isinstance(obj, Policy):
        return obj.coverage.insurer
    if isinstance(obj, Claim):
        return obj.policy.coverage.insurer
    return _insurer_of(obj.claim if isinstance(obj, Payout) else obj.policy)


def test_the_insurer_filter_offers_only_the_officers_own_insurers(world, officers, admin_client):
    """The choices come from the insurers the officer works for, never from another insurer; an
    officer of one insurer has nothing to choose, and the filter is not shown."""
    insurer_c = InsurerFactory(code="taikang", name="泰康保险")
    insurer_c.staff.add(officers.a)

    def choices(client) -> set[str] | None:
        response = client.get(CHANGELIST)
        specs = [s for s in response.context["cl"].filter_specs if isinstance(s, InsurerListFilter)]
        return {name for _pk, name in specs[0].lookup_choices} if specs else None

    assert choices(officers.a_client) == {officers.insurer_a.name, insurer_c.name}
    assert choices(officers.b_client) is None
    everyone = {officers.insurer_a.name, officers.insurer_b.name, insurer_c.name}
    assert choices(admin_client) == everyone
