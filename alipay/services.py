"""Every movement of money goes through :func:`transfer_post`, or for campaign-sized batches :func:`transfers_post_query`."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alipay.errors import refusal
from alipay.models import Account, AccountKind, Entry, Transfer, TransferKind
from core.i18n import stored_text
from core.numbers import require_int

SYSTEM_ACCOUNTS = {
    AccountKind.ESCROW: (_("聚划算担保交易账户"), False),
    AccountKind.MARKETING: (_("平台营销补贴账户"), True),
    # The outside world: money enters the simulation from here.
    AccountKind.EXTERNAL: (_("外部资金"), True),
}
# One top-up (a buyer's balance or a seller's deposit) brings in at most ¥100,000,000.
MAX_TOP_UP_FEN = 10**10
# Sellers' balances may go negative after an after-sales refund (the platform recovers the
# debt from later sales); buyers' balances and deposits never may.
USER_ACCOUNTS_ALLOWED_NEGATIVE = {AccountKind.SELLER}


@dataclass(frozen=True)
class Leg:
    account: Account
    amount_fen: int


@dataclass(frozen=True)
class TransferSpec:
    key: str
    kind: str
    legs: Sequence[Leg]
    memo: str = ""
    reference: str = ""


def system_account(kind: str) -> Account:
    name, allow_negative = SYSTEM_ACCOUNTS[kind]
    account, _created = Account.objects.get_or_create(
        code=str(kind), defaults={"kind": kind, "name": str(name), "allow_negative": allow_negative}
    )
    return account


def user_account(*, user: AbstractBaseUser, kind: str) -> Account:
    account, _created = Account.objects.get_or_create(
        code=f"{kind}:{user.pk}",
        defaults={
            "kind": kind,
            "user": user,
            "name": user.get_username(),
            "allow_negative": kind in USER_ACCOUNTS_ALLOWED_NEGATIVE,
        },
    )
    return account


def insurer_account(*, code: str, name: str) -> Account:
    """An insurer's underwriting account: premiums in, payouts out; a loss shows as negative."""
    account, _created = Account.objects.get_or_create(
        code=f"insurer:{code}",
        defaults={"kind": AccountKind.INSURER, "name": name, "allow_negative": True},
    )
    return account


def _validate(spec: TransferSpec) -> None:
    if not spec.legs or any(leg.amount_fen == 0 for leg in spec.legs):
        raise refusal("invalid_transfer:empty_leg")
    if sum(leg.amount_fen for leg in spec.legs) != 0:
        raise refusal("unbalanced_transfer")
    if len({leg.account.pk for leg in spec.legs}) != len(spec.legs):
        raise refusal("invalid_transfer:repeated_account")


def _apply(deltas: dict[int, int]) -> None:
    """Lock the accounts in id order (one global order, so no deadlock), check, then move."""
    accounts = Account.objects.select_for_update().filter(pk__in=deltas).order_by("pk")
    for account in accounts.only("pk", "balance_fen", "allow_negative", "kind"):
        if not account.allow_negative and account.balance_fen + deltas[account.pk] < 0:
            raise refusal(
                "insufficient_balance",
                account=AccountKind(account.kind).label,
            )
    if len(deltas) == 1:
        ((pk, delta),) = deltas.items()
        Account.objects.filter(pk=pk).update(balance_fen=F("balance_fen") + delta)
        return
    Account.objects.filter(pk__in=deltas).update(
        balance_fen=F("balance_fen")
        + Case(*(When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()), default=Value(0))
    )


def transfer_post(
    *, key: str, kind: str, legs: Sequence[Leg], memo: str = "", reference: str = ""
) -> Transfer:
    """Post one balanced transfer. Posting the same key again returns the first transfer."""
    spec = TransferSpec(key=key, kind=kind, legs=legs, memo=memo, reference=reference)
    _validate(spec)
    if kind not in TransferKind.values:
        raise refusal("invalid_transfer:unknown_kind")
    with transaction.atomic():
        existing = Transfer.objects.filter(key=key).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                transfer = Transfer.objects.create(key=key, kind=kind, memo=memo, reference=reference)
        except IntegrityError:
            # A concurrent post of the same key won the race.
            return Transfer.objects.get(key=key)
        Entry.objects.bulk_create(
            Entry(transfer=transfer, account=leg.account, amount_fen=leg.amount_fen) for leg in legs
        )
        _apply({leg.account.pk: leg.amount_fen for leg in legs})
    return transfer


def check_top_up_amount(amount_fen: object) -> None:
    require_int(
        amount_fen,
        min_value=1,
        max_value=MAX_TOP_UP_FEN,
        error=refusal("invalid_amount"),
    )


def balance_top_up(*, user: AbstractBaseUser, amount_fen: int, key: str) -> Transfer:
    """Money from outside into a buyer's balance (a bank card top-up, simulated)."""
    check_top_up_amount(amount_fen)
    return transfer_post(
        key=key,
        kind=TransferKind.TOP_UP,
        legs=[
            Leg(system_account(AccountKind.EXTERNAL), -amount_fen),
            Leg(user_account(user=user, kind=AccountKind.BUYER), amount_fen),
        ],
        memo=stored_text(_("余额充值")),
    )


def transfers_post_query(*, kind: str, rows_sql: str, params: Sequence, created_at=None) -> int:
    """Post one two-legged transfer per row that ``rows_sql`` selects, entirely in the database.

    ``rows_sql`` selects the columns ``key, memo, reference, debit, credit, amount`` (account ids
    and a positive amount in fen). Used for campaign-sized batches: transfers, their entries and
    the balances are written with three ``INSERT … SELECT`` / ``UPDATE … FROM`` statements, so no
    row passes through Python. The caller holds the locks that make the rows its own; the unique
    transfer key still refuses a repeat (the whole batch then rolls back).
    """
    if kind not in TransferKind.values:
        raise refusal("invalid_transfer:unknown_kind")
    # Raw SQL gets no field conversion: store the time exactly as the ORM would.
    created_at = connection.ops.adapt_datetimefield_value(created_at or timezone.now())
    transfer, entry, account = Transfer._meta.db_table, Entry._meta.db_table, Account._meta.db_table
    new_id = "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    rows = f"({rows_sql}) r"
    legs = (
        f"SELECT r.debit AS account, -r.amount AS delta, r.key AS key FROM {rows} "
        f"UNION ALL SELECT r.credit, r.amount, r.key FROM {rows}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {transfer} (id, key, kind, memo, reference, created_at) "  # noqa: S608
            f"SELECT {new_id}, r.key, %s, r.memo, r.reference, %s FROM {rows}",
            [kind, created_at, *params],
        )
        posted = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {entry} (transfer_id, account_id, amount_fen, created_at) "  # noqa: S608
            f"SELECT t.id, l.account, l.delta, %s FROM ({legs}) l JOIN {transfer} t ON t.key = l.key",
            [created_at, *params, *params],
        )
        deltas = f"SELECT account, SUM(delta) AS delta FROM ({legs}) l GROUP BY account"
        if connection.vendor == "postgresql":
            # Lock the accounts in one global order first, so concurrent batches cannot deadlock.
            cursor.execute(
                f"SELECT id FROM {account} WHERE id IN (SELECT account FROM ({legs}) l) ORDER BY id FOR UPDATE",  # noqa: S608
                [*params, *params],
            )
        cursor.execute(
            f"UPDATE {account} SET balance_fen = {account}.balance_fen + d.delta "  # noqa: S608
            f"FROM ({deltas}) d WHERE {account}.id = d.account",
            [*params, *params],
        )
    return posted
