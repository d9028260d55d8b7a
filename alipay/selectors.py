from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from alipay.models import Account, AccountKind, Entry, Transfer


def buyer_balance_fen(user: AbstractBaseUser) -> int:
    account = Account.objects.filter(user=user, kind=AccountKind.BUYER).only("balance_fen").first()
    return account.balance_fen if account else 0


def entries_for_user(user: AbstractBaseUser, kind: str = AccountKind.BUYER) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(account__user=user, account__kind=kind)
        .select_related("transfer")
        .order_by("-id")
    )


@dataclass(frozen=True)
class Discrepancy:
    code: str
    detail: str


def ledger_discrepancies() -> list[Discrepancy]:
    """Every invariant of the ledger that can be checked from Alipay's own tables."""
    found: list[Discrepancy] = []
    total = Entry.objects.aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]
    if total != 0:
        found.append(Discrepancy("ledger_not_zero", f"all entries sum to {total}, not 0"))
    unbalanced = (
        Transfer.objects.annotate(total=Sum("entries__amount_fen"), legs=Count("entries"))
        .exclude(total=0)
        .values_list("key", "total")
    )
    found += [Discrepancy("transfer_unbalanced", f"{key} sums to {t}") for key, t in unbalanced[:100]]
    sums = Entry.objects.filter(account=OuterRef("pk")).values("account").annotate(s=Sum("amount_fen"))
    accounts = Account.objects.annotate(ledger=Coalesce(Subquery(sums.values("s")), 0))
    for account in accounts.exclude(balance_fen=F("ledger"))[:100]:
        found.append(
            Discrepancy(
                "balance_mismatch",
                f"{account.code}: balance {account.balance_fen} ≠ entries {account.ledger}",
            )
        )
    for account in Account.objects.filter(allow_negative=False, balance_fen__lt=0)[:100]:
        found.append(Discrepancy("negative_balance", f"{account.code}: {account.balance_fen}"))
    return found


def account_balance_fen(user: AbstractBaseUser, kind: str = AccountKind.BUYER) -> int:
    """The balance of one of the user's accounts (0 before it has any entry)."""
    account = Account.objects.filter(user=user, kind=kind).only("balance_fen").first()
    return account.balance_fen if account else 0
