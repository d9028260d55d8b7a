"""Money is integer fen (分) everywhere; this module only turns it into text and back."""

import re

from babel.numbers import format_currency
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput

_YUAN = re.compile(r"^\s*¥?\s*(?P<int>\d{1,12})(?:\.(?P<frac>\d{1,2}))?\s*$", re.ASCII)


def format_fen(fen: int | None) -> str:
    """``123450`` → ``¥1,234.50`` (negative amounts keep their sign)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    text = format_currency(whole, "CNY", locale="zh_Hans_CN", format="¤#,##0", currency_digits=False)
    return f"{sign}{text}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """``"12.5"`` → ``1250`` fen. Rejects negatives, floats past the fen, and anything else."""
    match = _YUAN.match(text or "")
    if not match:
        raise InvalidInput("invalid_amount", _("金额格式不正确:请输入最多两位小数的正数。"))
    return int(match["int"]) * 100 + int((match["frac"] or "0").ljust(2, "0"))
