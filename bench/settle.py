"""Settling approved claims into buyers' Alipay balances (``claims.services.claims_settle``, in
batches, exactly once) next to bare SQL that writes exactly the rows settlement writes — the
claims' and policies' new state, a payout, a transfer and its two entries per claim, the buyer
accounts that were missing, the balances, and two audit rows per claim — in one pass, rolled back.

Both sides' writes are counted per table from PostgreSQL's statistics (rolled-back writes count
too), so the table shows that they wrote the same rows, and what one payout costs in rows and
index entries. The database is quiesced before each side (bench/database.py).
"""

import time

from bench.database import writes_between
from bench.proc import run_step
from bench.registry import Config, result

GOAL_RATIO = 1.5


class Rollback(Exception):
    """Raised to undo the baseline once measured."""


def _tables() -> list[str]:
    from alipay.models import Account, Entry, Transfer
    from claims.models import Claim, Payout
    from core.models import AuditEvent
    from insurance.models import Policy
    from notices.models import Notice

    return [m._meta.db_table for m in (Claim, Policy, Payout, Transfer, Entry, Account, AuditEvent, Notice)]


def tables() -> dict:
    """*Step.* The tables settlement writes, and their indexes."""
    from alipay.models import Account
    from bench.database import index_counts

    names = _tables()
    return {"tables": names, "accounts": Account._meta.db_table, "indexes": index_counts(tables=names)}


def _statements() -> list[str]:
    """The baseline's statements; %(name)s parameters. Claims paid in this pass are those with
    ``paid_at = %(now)s`` (the product marks its batch the same way)."""
    from django.db import connection

    from alipay.models import Account, Entry, Transfer
    from claims.models import Claim, Payout
    from core.models import AuditEvent
    from insurance.models import Insurer, Policy
    from notices.models import Notice
    from orders.models import Order, OrderLine

    claim, policy, insurer = (m._meta.db_table for m in (Claim, Policy, Insurer))
    notice, line, order = (m._meta.db_table for m in (Notice, OrderLine, Order))
    json = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    account, transfer, entry = (m._meta.db_table for m in (Account, Transfer, Entry))
    new_id = "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    these = "c.state = %(paid)s AND c.paid_at = %(now)s"
    paid = f"{claim} c WHERE {these}"
    with_transfer = f"{claim} c JOIN {transfer} t ON t.key = %(key)s || c.id"
    legs = (
        f"SELECT t.id AS transfer, ia.id AS account, -c.compensation_fen AS amount FROM {with_transfer} "
        f"JOIN {policy} p ON p.id = c.policy_id "
        f"JOIN {insurer} i ON i.id = p.insurer_id JOIN {account} ia ON ia.code = %(insurer)s || i.code "
        f"WHERE {these} UNION ALL SELECT t.id, ba.id, c.compensation_fen FROM {with_transfer} "
        f"JOIN {account} ba ON ba.user_id = c.buyer_id AND ba.kind = %(buyer)s WHERE {these}"
    )
    audit = (
        f"INSERT INTO {AuditEvent._meta.db_table} (content_type_id, object_id, action, actor_id, from_state, "
        "to_state, reason, data, created_at) "
    )
    return [
        f"UPDATE {claim} SET state = %(paid)s, paid_at = %(now)s WHERE state = %(approved)s",
        f"INSERT INTO {account} (code, kind, user_id, name, allow_negative, balance_fen, created_at) "
        f"SELECT %(buyer_code)s || b.buyer_id, %(buyer)s, b.buyer_id, %(buyer_code)s || b.buyer_id, %(no)s, 0, %(now)s "
        f"FROM (SELECT DISTINCT c.buyer_id FROM {paid}) b WHERE NOT EXISTS "
        f"(SELECT 1 FROM {account} a WHERE a.user_id = b.buyer_id AND a.kind = %(buyer)s)",
        f"INSERT INTO {transfer} (id, key, kind, memo, reference, created_at) SELECT {new_id}, %(key)s || c.id, "
        f"%(kind)s, %(memo)s || c.number, %(reference)s || c.id, %(now)s FROM {paid}",
        f"INSERT INTO {entry} (transfer_id, account_id, amount_fen, created_at) "
        f"SELECT l.transfer, l.account, l.amount, %(now)s FROM ({legs}) l",
        f"UPDATE {account} SET balance_fen = {account}.balance_fen + d.delta FROM "
        f"(SELECT l.account, SUM(l.amount) AS delta FROM ({legs}) l GROUP BY l.account) d "
        f"WHERE {account}.id = d.account",
        f"INSERT INTO {Payout._meta.db_table} (claim_id, amount_fen, transfer_id, clawed_back_fen, created_at) "
        f"SELECT c.id, c.compensation_fen, t.id, 0, %(now)s FROM {with_transfer} WHERE {these}",
        f"UPDATE {policy} SET state = %(claimed)s, claimed_at = %(now)s "
        f"WHERE id IN (SELECT c.policy_id FROM {paid})",
        f"{audit} SELECT %(claim_type)s, c.id, 'claim_settle', NULL, %(approved)s, %(paid)s, '', '{{}}', %(now)s "
        f"FROM {paid}",
        f"{audit} SELECT %(policy_type)s, c.policy_id, 'policy_claimed', NULL, %(claimable)s, %(claimed)s, '', "
        f"'{{}}', %(now)s FROM {paid}",
        # The buyer's "payout credited" notice, as settlement posts it (claims.notifications).
        f"INSERT INTO {notice} (user_id, kind, key, params, link, created_at, email_to) "
        f"SELECT c.buyer_id, 'payout_credited', 'payout:' || c.id, {json}('claim', c.number, 'amount_fen', "
        f"c.compensation_fen, 'order', o.number), '/orders/' || o.number || '/', %(now)s, '' FROM {claim} c "
        f"JOIN {policy} p ON p.id = c.policy_id JOIN {line} l ON l.id = p.order_line_id "
        f"JOIN {order} o ON o.id = l.order_id WHERE {these} ON CONFLICT DO NOTHING",
    ]


def _parameters() -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from alipay.models import AccountKind, TransferKind
    from claims.models import Claim, ClaimState
    from insurance.models import Policy, PolicyState

    return {
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "approved": ClaimState.APPROVED,
        "paid": ClaimState.PAID,
        "claimable": PolicyState.CLAIMABLE,
        "claimed": PolicyState.CLAIMED,
        "buyer": AccountKind.BUYER,
        "buyer_code": f"{AccountKind.BUYER}:",
        "insurer": "insurer:",
        "no": False,
        "key": "payout:claim:",
        "kind": TransferKind.PAYOUT,
        "memo": "价格保障保险理赔 ",
        "reference": "claim:",
        "claim_type": ContentType.objects.get_for_model(Claim).pk,
        "policy_type": ContentType.objects.get_for_model(Policy).pk,
    }


def baseline() -> dict:
    """*Step.* Every approved claim paid by bare SQL, in one transaction, then rolled back."""
    from django.db import connection, transaction

    from alipay.services import insurer_account
    from insurance.models import Insurer

    for insurer in Insurer.objects.filter(policies__claims__state="approved").distinct():
        insurer_account(code=insurer.code, name=insurer.name)  # as the product ensures them (committed)
    params, timings = _parameters(), []
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Foreign keys are checked at commit, which a rolled-back baseline never reaches:
                # check them as each statement ends instead, so both sides pay for them.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in _statements():
                cursor.execute(sql, params)
                timings.append((round(time.perf_counter() - started, 3), sql[:60], cursor.rowcount))
            rows, seconds = timings[0][2], time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return {"rows": rows, "seconds": seconds, "statements": timings}


def measure() -> dict:
    """*Step.* Settle every approved claim through the product (``claims_settle``'s loop over
    ``claims_settle_batch``, each batch timed), then once more (pays nothing)."""
    from alipay.models import Entry
    from claims.reconciliation import discrepancies
    from claims.services import claims_settle, claims_settle_batch

    paid, batches = 0, []
    started = time.perf_counter()
    while True:
        batch_started = time.perf_counter()
        done = claims_settle_batch()
        if not done:
            break
        paid += done
        batches.append(round(time.perf_counter() - batch_started, 3))
    seconds = time.perf_counter() - started
    entries = Entry.objects.count()
    again = claims_settle()
    return {
        "rows": paid,
        "seconds": seconds,
        "batches": len(batches),
        # Time per batch at the start and at the end: flat if choosing a batch does not grow
        # with the claims paid before it.
        "first_batches_seconds": batches[:3],
        "last_batches_seconds": batches[-3:],
        "second_run_paid": again,
        "second_run_entries_added": Entry.objects.count() - entries,
        "discrepancies": [d.code for d in discrepancies()][:20],
    }


def _row_costs(writes: dict | None, indexes: dict[str, list[str]], paid: int) -> dict | None:
    """Rows written and index entries added per payout, by table. An insert adds an entry to
    every index of its table; an update that is not HOT adds one to every index too (PostgreSQL
    writes a new row version). An upper bound: partial indexes are counted as matching, and a
    paid claim matches two of claims_claim's three (not the settlement queue of approved claims)."""
    if writes is None or not paid:
        return None
    per_table = {}
    for table, w in writes.items():
        rows = w["inserted"] + w["updated"]
        entries = (w["inserted"] + w["updated"] - w["hot_updated"]) * len(indexes.get(table, []))
        per_table[table] = {"rows": round(rows / paid, 3), "index_entries": round(entries / paid, 2)}
    return {
        "rows": round(sum(t["rows"] for t in per_table.values()), 2),
        "index_entries": round(sum(t["index_entries"] for t in per_table.values()), 1),
        "by_table": per_table,
        "indexes": {t: indexes.get(t, []) for t in writes},
    }


def _same_rows(base: dict | None, measured: dict | None, account_table: str) -> bool | None:
    """Both sides inserted the same rows everywhere and updated the same rows everywhere but in
    the accounts (the product moves a balance once per batch, the baseline once per account)."""
    if base is None or measured is None:
        return None
    tables = set(base) | set(measured)
    zero = {"inserted": 0, "updated": 0}
    return all(
        base.get(t, zero)["inserted"] == measured.get(t, zero)["inserted"]
        and (t == account_table or base.get(t, zero)["updated"] == measured.get(t, zero)["updated"])
        for t in tables
    )


def run(config: Config) -> list[dict]:
    simulated = run_step(
        "bench.simulate:step", {"orders": config.lines, "price_drop_share": 1, "claims_share": 1}
    )
    print(f"  simulated {simulated['claims']:,} approved claims in {simulated['seconds']:.0f} s", flush=True)
    known = run_step("bench.settle:tables")
    names = known["tables"]
    run_step("bench.database:quiesce")
    before = run_step("bench.database:table_writes", {"tables": names})["writes"]
    base = run_step("bench.settle:baseline")
    between = run_step("bench.database:table_writes", {"tables": names})["writes"]
    run_step("bench.database:quiesce")
    measured = run_step("bench.settle:measure")
    after = run_step("bench.database:table_writes", {"tables": names})["writes"]
    base_writes, writes = writes_between(before, between), writes_between(between, after)
    same = _same_rows(base_writes, writes, known["accounts"])
    ratio = measured["seconds"] / base["seconds"]
    print(
        f"  product {measured['seconds']:.1f} s ({measured['rows']:,} paid), bare SQL {base['seconds']:.1f} s, "
        f"ratio {ratio:.2f}; same rows: {same}",
        flush=True,
    )
    exactly_once = measured["second_run_paid"] == 0 and not measured["discrepancies"]
    return [
        result(
            key="settle",
            name=f"settle {measured['rows']:,} approved claims into the ledger",
            figures={
                "seconds": round(measured["seconds"], 2),
                "claims_per_second": round(measured["rows"] / measured["seconds"]),
                "peak_rss_mb": measured["peak_rss_mb"],
                "paid": measured["rows"],
                "batches": measured["batches"],
                "first_batches_seconds": measured["first_batches_seconds"],
                "last_batches_seconds": measured["last_batches_seconds"],
                "second_run_paid": measured["second_run_paid"],
                "second_run_entries_added": measured["second_run_entries_added"],
                "discrepancies": measured["discrepancies"],
                "per_payout": _row_costs(writes, known["indexes"], measured["rows"]),
                "rows_written": writes,
            },
            baseline={
                "what": "bare SQL writing the same rows in one pass (rolled back)",
                "seconds": round(base["seconds"], 2),
                "rows_written": base_writes,
                "same_rows_as_product": same,
                "statements": base["statements"],
            },
            ratio=ratio,
            goal=f"ratio ≤ {GOAL_RATIO}; the same rows as the baseline; a second run pays nothing",
            met=ratio <= GOAL_RATIO and same is not False and exactly_once,
        )
    ]
