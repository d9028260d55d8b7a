"""What the insurance app tells sellers (消息中心): a deposit running low."""

from django.conf import settings
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from alipay.models import Account, Entry, TransferKind
from notices.kinds import SELLER, NoticeKind, register
from notices.services import notice_post
from shops.models import Seller

KINDS = [
    NoticeKind(
        "deposit_low",
        SELLER,
        _("聚划算保险保证金余额不足"),
        _(
            "保证金余额 %(balance_fen)s,已低于 %(threshold_fen)s。余额不足时保费改从店铺余额扣除,并暂停新的保价服务,请及时充值。"
        ),
    ),
]


def register_kinds() -> None:
    register(*KINDS)


def tell_deposit_low(*, seller: Seller, deposit: Account) -> None:
    """Called where a premium is drawn: once the deposit is below the threshold, the seller hears
    of it once per top-up (the last top-up names the event)."""
    threshold = settings.BAOJIA["DEPOSIT_LOW_FEN"]
    if deposit.balance_fen >= threshold:
        return
    last_top_up = Entry.objects.filter(account=deposit, transfer__kind=TransferKind.DEPOSIT).aggregate(
        last=Max("transfer_id")
    )["last"]
    notice_post(
        user_id=seller.user_id,
        kind="deposit_low",
        key=f"deposit_low:{seller.pk}:{last_top_up or 0}",
        params={"balance_fen": deposit.balance_fen, "threshold_fen": threshold},
        link="/seller/",
    )
