"""Every benchmark scenario at a tiny size, so the benchmark code cannot rot."""

import pytest

from alipay.selectors import ledger_discrepancies
from bench import steps
from claims.models import Claim, ClaimState
from insurance.models import Policy, PolicyState


@pytest.mark.django_db
def test_it_simulates_a_campaign_and_closes_its_window_like_the_baseline():
    campaign = steps.simulate(orders=120, price_drop_share=0)["campaign"]
    baseline = steps.close_baseline(campaign=campaign)
    assert baseline["rows"] == 120
    assert Policy.objects.filter(state=PolicyState.CLAIMABLE).count() == 120  # the baseline rolled back
    measured = steps.close(campaign=campaign)
    assert measured["rows"] == 120
    assert Policy.objects.filter(state=PolicyState.EXPIRED).count() == 120
    assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_it_settles_simulated_claims_once_like_the_baseline():
    steps.simulate(orders=90, price_drop_share=1 / 3)
    assert Claim.objects.filter(state=ClaimState.APPROVED).count() == 30
    baseline = steps.settle_baseline()
    assert baseline["rows"] == 30
    measured = steps.settle()
    assert measured["rows"] == 30
    assert measured["second_run_paid"] == 0
    assert measured["second_run_entries_added"] == 0
    assert measured["ledger_discrepancies"] == []
    assert Claim.objects.filter(state=ClaimState.PAID).count() == 30


@pytest.mark.django_db
def test_evidence_only_leaves_the_claims_to_be_filed():
    from io import StringIO

    from django.core.management import call_command

    from orders.models import Order

    out = StringIO()
    call_command(
        "simulate_campaign", "--orders", "20", "--price-drop-share", "0.5", "--evidence-only", stdout=out
    )
    assert "0 approved claims, 10 evidence orders" in out.getvalue()
    assert Claim.objects.count() == 0
    assert Order.objects.filter(campaign__isnull=True).count() == 10  # the evidence orders
