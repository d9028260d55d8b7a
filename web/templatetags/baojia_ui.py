"""Small presentation helpers shared by the web pages."""

from django import template

register = template.Library()

STATE_CLASSES = {
    "order": {
        "created": "text-bg-warning",
        "paid": "text-bg-info",
        "shipped": "text-bg-primary",
        "succeeded": "text-bg-success",
        "closed": "text-bg-secondary",
        "refunded": "text-bg-dark",
    },
    "policy": {
        "pending": "text-bg-secondary",
        "claimable": "text-bg-success",
        "claimed": "text-bg-primary",
        "voided": "text-bg-dark",
        "expired": "text-bg-secondary",
    },
    "claim": {
        "submitted": "text-bg-info",
        "in_review": "text-bg-warning",
        "approved": "text-bg-success",
        "rejected": "text-bg-danger",
        "paid": "text-bg-success",
    },
    "campaign": {
        "scheduled": "text-bg-secondary",
        "live": "text-bg-danger",
        "ended": "text-bg-warning",
        "settled": "text-bg-light border",
    },
}


@register.filter
def state_class(state: str, kind: str = "order") -> str:
    """``{{ order.state|state_class:"order" }}`` → a Bootstrap badge class for that state."""
    return STATE_CLASSES.get(kind, {}).get(state, "text-bg-secondary")


@register.filter
def specs(values: dict | None) -> str:
    """``{"颜色": "黑色", "尺码": "M"}`` → ``颜色: 黑色, 尺码: M``."""
    return ", ".join(f"{key}: {value}" for key, value in (values or {}).items())
