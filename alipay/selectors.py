from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from alipay.models import Account, AccountKind, Entry, Transfer


def entries_for_user(user: AbstractBaseUser, kind: str = AccountKind.BUYER) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(account__user=user, account__kind=kind)
        .select_related("transfer")
        .order_by("-id")
    )


# Details kept per kind of discrepancy (a corrupted table could hold millions); the counts are
# always the true ones.
LISTED_PER_KIND = 100


@dataclass(frozen=True)
class Discrepancy:
    code: str
    detail: str


@dataclass
class Findings:
    """What a reconciliation found: the true count of each kind, and up to ``LISTED_PER_KIND``
    details of each."""

    listed: list[Discrepancy] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, code: str, rows: QuerySet, describe: Callable[[Any], str]) -> None:
        head = list(rows[: LISTED_PER_KIND + 1])
        count = len(head) if len(head) <= LISTED_PER_KIND else rows.count()
        if count:
            self.counts[code] = self.counts.get(code, 0) + count
            self.listed += [Discrepancy(code, describe(row)) for row in head[:LISTED_PER_KIND]]

    def add_one(self, code: str, detail: str) -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        self.listed.append(Discrepancy(code, detail))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def ledger_findings(found: Findings | None = None) -> Findings:
    """Every invariant of the ledger that can be checked from Alipay's own tables."""
    found = found if found is not None else Findings()
    total = Entry.objects.aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]
    if total != 0:
        found.add_one("ledger_not_zero", f"all entries sum to {total}, not 0")
    found.add(
        "transfer_unbalanced",
        Transfer.objects.annotate(total=Sum("entries__amount_fen"))
        .exclude(total=0)
        .values_list("key", "total"),
        lambda row: f"{row[0]} sums to {row[1]}",
    )
    sums = Entry.objects.filter(account=OuterRef("pk")).values("account").annotate(s=Sum("amount_fen"))
    found.add(
        "balance_mismatch",
        Account.objects.annotate(ledger=Coalesce(Subquery(sums.values("s")), 0)).exclude(
            balance_fen=F("ledger")
        ),
        lambda account: f"{account.code}: balance {account.balance_fen} ≠ entries {account.ledger}",
    )
    found.add(
        "negative_balance",
        Account.objects.filter(allow_negative=False, balance_fen__lt=0),
        lambda account: f"{account.code}: {account.balance_fen}",
    )
    return found


def ledger_discrepancies() -> list[Discrepancy]:
    return ledger_findings().listed


def account_balance_fen(user: AbstractBaseUser, kind: str = AccountKind.BUYER) -> int:
    """The balance of one of the user's accounts (0 before it has any entry)."""
    account = Account.objects.filter(user=user, kind=kind).only("balance_fen").first()
    return account.balance_fen if account else 0
