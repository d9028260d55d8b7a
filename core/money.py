"""Money is integer fen (分) everywhere; this module only turns it into text and back."""

import re

from babel.numbers import format_currency

from core.errors import refusal

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
        raise refusal("invalid_amount")
    return int(match["int"]) * 100 + int((match["frac"] or "0").ljust(2, "0"))
