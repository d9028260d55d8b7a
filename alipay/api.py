"""The caller's simulated Alipay: balance and ledger entries (buyer balance by default; a seller
may also read the seller balance and the insurance deposit)."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alipay import selectors
from alipay.models import AccountKind, Entry
from core.api import error_responses, fen_display

# The accounts a user holds: a buyer's balance, and for sellers their balance and deposit.
USER_ACCOUNT_KINDS = [AccountKind.BUYER, AccountKind.SELLER, AccountKind.DEPOSIT]

ACCOUNT_PARAMETER = OpenApiParameter(
    "account",
    str,
    enum=[str(kind) for kind in USER_ACCOUNT_KINDS],
    default=str(AccountKind.BUYER),
    description="Which of the caller's accounts: `buyer` (余额), `seller` (商家余额) or `deposit` (保证金).",
)


def _account_kind(request: Request) -> str:
    field = serializers.ChoiceField(
        choices=USER_ACCOUNT_KINDS, error_messages={"invalid_choice": _("未知的账户类型。")}
    )
    return field.run_validation(request.query_params.get("account", AccountKind.BUYER))


class BalanceSerializer(serializers.Serializer):
    account = serializers.CharField()
    balance_fen = serializers.IntegerField()
    balance_display = fen_display("balance_fen")


class BalanceView(APIView):
    @extend_schema(
        summary="The caller's Alipay balance",
        parameters=[ACCOUNT_PARAMETER],
        responses={200: BalanceSerializer, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        kind = _account_kind(request)
        balance = selectors.account_balance_fen(request.user, kind)
        return Response(BalanceSerializer({"account": kind, "balance_fen": balance}).data)


class EntrySerializer(serializers.ModelSerializer):
    amount_display = fen_display("amount_fen")
    kind = serializers.CharField(source="transfer.kind", read_only=True)
    kind_display = serializers.CharField(source="transfer.get_kind_display", read_only=True)
    memo = serializers.CharField(source="transfer.memo", read_only=True)

    class Meta:
        model = Entry
        fields = ["id", "amount_fen", "amount_display", "kind", "kind_display", "memo", "created_at"]
        read_only_fields = fields


@extend_schema(summary="The caller's ledger entries, newest first", parameters=[ACCOUNT_PARAMETER])
class EntryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = EntrySerializer

    def get_queryset(self) -> QuerySet[Entry]:
        return selectors.entries_for_user(self.request.user, kind=_account_kind(self.request))
