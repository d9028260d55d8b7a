"""The (simulated) Alipay balance page: balance, top-up, and every ledger entry linked back to
the order, policy or claim it was for (``Transfer.reference``)."""

from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alipay.models import AccountKind, Entry
from alipay.selectors import account_balance_fen, entries_for_user
from alipay.services import balance_top_up
from claims.models import Claim
from core.errors import ServiceError
from core.money import format_fen
from core.numbers import id_or_none
from insurance.models import Policy
from orders.models import Order
from shops.selectors import seller_of
from web.forms import TopUpForm
from web.keyset import keyset_page

PAGE_SIZE = 30


def _parse(reference: str) -> tuple[str, int] | None:
    label, _sep, text = reference.partition(":")
    pk = id_or_none(text)
    return None if pk is None else (label, pk)


def reference_links(user: Any, entries: list[Entry]) -> None:
    """Set ``entry.link`` (text, url) for each entry whose transfer names an object the user
    may open: three queries at most, whatever the page holds."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        parsed = _parse(entry.transfer.reference)
        if parsed:
            wanted[parsed[0]].add(parsed[1])
    links: dict[tuple[str, int], tuple[str, str]] = {}
    seller_orders = reverse("orders:seller_orders")
    if wanted["order"]:
        for order in Order.objects.filter(Q(buyer=user) | Q(shop__seller__user=user), pk__in=wanted["order"]):
            url = (
                reverse("orders:detail", args=[order.number])
                if order.buyer_id == user.pk
                else f"{seller_orders}?{urlencode({'q': order.number})}"
            )
            links[("order", order.pk)] = (_("订单 %(number)s") % {"number": order.number}, url)
    if wanted["claim"]:
        claims = Claim.objects.filter(
            Q(buyer=user) | Q(policy__seller__user=user), pk__in=wanted["claim"]
        ).select_related("policy__order_line__order")
        for claim in claims:
            line = claim.policy.order_line
            url = (
                f"{reverse('orders:detail', args=[line.order.number])}#claim-{claim.number}"
                if claim.buyer_id == user.pk
                else f"{reverse('claims:seller_claims')}#claim-{claim.number}"
            )
            links[("claim", claim.pk)] = (_("理赔 %(number)s") % {"number": claim.number}, url)
    if wanted["policy"]:
        policies = Policy.objects.filter(seller__user=user, pk__in=wanted["policy"]).select_related(
            "order_line__order"
        )
        for policy in policies:
            url = f"{seller_orders}?{urlencode({'q': policy.order_line.order.number})}"
            links[("policy", policy.pk)] = (_("保单 %(number)s") % {"number": policy.number}, url)
    if wanted["seller"]:
        for pk in wanted["seller"]:
            links[("seller", pk)] = (_("商家后台"), reverse("insurance:dashboard"))
    for entry in entries:
        parsed = _parse(entry.transfer.reference)
        entry.link = links.get(parsed) if parsed else None
        # The memo is stored as written (the source language, e.g. 余额充值); shown in the
        # reader's language when the catalog knows it, as stored otherwise.
        memo = entry.transfer.memo
        entry.memo_text = _(memo) if memo else ""


def _accounts(user: Any) -> list[dict[str, Any]]:
    """The user's accounts with their balances, the one to open first at the head: a seller's
    money is in the seller balance and the deposit, not in a buyer balance they rarely use."""
    kinds = [AccountKind.BUYER]
    if seller_of(user) is not None:
        kinds = [AccountKind.SELLER, AccountKind.DEPOSIT, AccountKind.BUYER]
    return [
        {"kind": kind, "label": AccountKind(kind).label, "balance_fen": account_balance_fen(user, kind)}
        for kind in kinds
    ]


def _balance_page(request: HttpRequest, *, form: TopUpForm | None = None, status: int = 200) -> HttpResponse:
    accounts = _accounts(request.user)
    balances = {account["kind"]: account["balance_fen"] for account in accounts}
    kind = request.GET.get("account", "")
    if kind not in balances:
        kind = accounts[0]["kind"]
    page = keyset_page(entries_for_user(request.user, kind), request.GET, keys=("pk",), size=PAGE_SIZE)
    entries = list(page.object_list)
    reference_links(request.user, entries)
    return render(
        request,
        "buyer/balance.html",
        {
            "accounts": accounts,
            "kind": kind,
            "kind_label": AccountKind(kind).label,
            "balance_fen": balances[kind],
            "page": page,
            "entries": entries,
            "form": form or TopUpForm(),
            "section": "alipay",
        },
        status=status,
    )


@login_required
@require_GET
def balance(request: HttpRequest) -> HttpResponse:
    return _balance_page(request)


@login_required
@require_POST
def top_up(request: HttpRequest) -> HttpResponse:
    """A simulated bank-card top-up; the form's key makes a double submit pay once."""
    form = TopUpForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            balance_top_up(
                user=request.user,
                amount_fen=amount,
                key=f"web:top-up:{request.user.pk}:{form.cleaned_data['key']}",
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("已充值 %(amount)s。") % {"amount": format_fen(amount)})
            return redirect("alipay:balance")
    return _balance_page(request, form=form, status=400)
