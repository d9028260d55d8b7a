"""Money in templates: ``{{ order.paid_fen|fen }}`` → ``¥1,234.50``; ``{{ rate_bp|bp }}`` → ``1.20%``."""

from django import template

from core.money import format_fen

register = template.Library()


@register.filter
def fen(value: int | None) -> str:
    return format_fen(value)


@register.filter
def yuan(value: int | None) -> str:
    """Fen as a plain decimal for form inputs and charts: ``15900`` → ``159.00``."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(int(value)), 100)
    return f"{sign}{whole}.{cents:02d}"


@register.filter
def bp(value: int | None) -> str:
    """A rate in basis points (万分之) as a percentage: ``120`` → ``1.20%``."""
    if value is None:
        return "—"
    whole, rest = divmod(int(value), 100)
    return f"{whole}.{rest:02d}%"
