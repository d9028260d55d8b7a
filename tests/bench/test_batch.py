"""The batch scenarios (bench/close.py, bench/settle.py) at a tiny size: each baseline does the
product's row work and leaves the data as it was; settlement's baseline writes exactly the rows
settlement writes."""

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from alipay.models import Account, Entry, Transfer
from bench import close, settle
from bench.database import quiesce, writes_between
from bench.simulate import Plan, simulate
from claims.models import Claim, ClaimState, Payout
from claims.reconciliation import discrepancies
from core.models import AuditEvent
from insurance.models import Policy, PolicyState
from notices.models import Notice


@pytest.mark.django_db
def test_closing_the_window_expires_what_the_bare_update_touches():
    campaign = simulate(Plan(orders=120, price_drop_share=0)).campaign
    baseline = close.baseline(campaign=campaign)
    assert baseline["rows"] == 120
    assert Policy.objects.filter(state=PolicyState.CLAIMABLE).count() == 120  # the baseline rolled back
    measured = close.measure(campaign=campaign)
    assert measured["rows"] == 120
    assert Policy.objects.filter(state=PolicyState.EXPIRED).count() == 120
    assert discrepancies() == []


def _state() -> dict:
    """What settlement changes, table by table."""
    return {
        "paid claims": Claim.objects.filter(state=ClaimState.PAID).count(),
        "claimed policies": Policy.objects.filter(state=PolicyState.CLAIMED).count(),
        "payouts": Payout.objects.count(),
        "transfers": Transfer.objects.count(),
        "entries": Entry.objects.count(),
        "accounts": Account.objects.count(),
        "balances": dict(Account.objects.values_list("code", "balance_fen")),
        "audit": sorted(AuditEvent.objects.values_list("action", "from_state", "to_state").distinct()),
        "audit rows": AuditEvent.objects.count(),
        "paid": Payout.objects.aggregate(total=Sum("amount_fen"))["total"],
        "notices": sorted(Notice.objects.values_list("user_id", "kind", "key", "params", "link")),
    }


class Undo(Exception):
    pass


@pytest.mark.django_db
def test_the_settlement_baseline_writes_exactly_the_rows_settlement_writes():
    simulate(Plan(orders=90, price_drop_share=1 / 3))
    before = _state()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            params = settle._parameters()
            for sql in settle._statements():
                cursor.execute(sql, params)
            by_baseline = _state()
            raise Undo
    except Undo:
        pass
    assert _state() == before
    settle.measure()
    by_product = _state()
    assert by_product["paid claims"] == 30
    assert by_baseline == by_product


@pytest.mark.django_db
def test_settlement_pays_once_and_its_baseline_rolls_back():
    simulate(Plan(orders=90, price_drop_share=1 / 3))
    baseline = settle.baseline()
    assert baseline["rows"] == 30
    assert [rows for _t, _sql, rows in baseline["statements"]][:1] == [30]
    assert Claim.objects.filter(state=ClaimState.APPROVED).count() == 30
    measured = settle.measure()
    assert (measured["rows"], measured["second_run_paid"], measured["second_run_entries_added"]) == (30, 0, 0)
    assert measured["discrepancies"] == []


def test_row_costs_count_an_entry_in_every_index_for_each_row_written():
    writes = {
        "claims_claim": {"inserted": 0, "updated": 10, "hot_updated": 0},
        "alipay_entry": {"inserted": 20, "updated": 0, "hot_updated": 0},
        "alipay_account": {"inserted": 0, "updated": 4, "hot_updated": 4},
    }
    indexes = {"claims_claim": ["a", "b", "c"], "alipay_entry": ["a", "b"], "alipay_account": ["a"]}
    costs = settle._row_costs(writes, indexes, paid=10)
    assert costs["by_table"]["claims_claim"] == {"rows": 1.0, "index_entries": 3.0}
    assert costs["by_table"]["alipay_entry"] == {"rows": 2.0, "index_entries": 4.0}
    assert costs["by_table"]["alipay_account"] == {"rows": 0.4, "index_entries": 0.0}  # HOT: no index entry
    assert (costs["rows"], costs["index_entries"]) == (3.4, 7.0)


def test_same_rows_allows_only_the_accounts_to_be_updated_more_often():
    base = {
        "t": {"inserted": 5, "updated": 1, "hot_updated": 0},
        "acc": {"inserted": 1, "updated": 1, "hot_updated": 0},
    }
    product = {
        "t": {"inserted": 5, "updated": 1, "hot_updated": 0},
        "acc": {"inserted": 1, "updated": 3, "hot_updated": 0},
    }
    assert settle._same_rows(base, product, "acc") is True
    product["t"]["inserted"] = 6
    assert settle._same_rows(base, product, "acc") is False
    assert settle._same_rows(None, product, "acc") is None


def test_writes_between_keeps_the_tables_that_changed():
    before = {"a": {"inserted": 1, "updated": 0}, "b": {"inserted": 2, "updated": 2}}
    after = {"a": {"inserted": 4, "updated": 1}, "b": {"inserted": 2, "updated": 2}}
    assert writes_between(before, after) == {"a": {"inserted": 3, "updated": 1}}
    assert writes_between(None, after) is None


@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside a transaction
def test_quiesce_is_a_no_op_but_on_postgresql():
    done = quiesce(quiet_seconds=0.1)
    if connection.vendor == "postgresql":
        assert done["vacuum_seconds"] >= 0
    else:
        assert done == {"skipped": connection.vendor}
