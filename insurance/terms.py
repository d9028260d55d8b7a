"""The coverage terms the product decides, written once.

An insurer publishes its terms as insurance products (保险产品); these are the defaults a new
product starts from and the ranges every product must keep. Models (fields, validators and check
constraints), services, the API, the admin and the pages all read them from here: changing the
default claim window is the one line ``DEFAULT_WINDOW_DAYS = 15``.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator

from shops.services import MAX_PRICE_FEN

# The claim window: [campaign end, campaign end + days).
DEFAULT_WINDOW_DAYS = 15
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 90

# The premium, as a rate of the insured amount in basis points (万分之).
DEFAULT_RATE_BP = 100
MIN_RATE_BP, MAX_RATE_BP = 1, 10_000

# Money terms (a per-claim cap, a review threshold) stay within what one price may be.
MAX_TERM_FEN = MAX_PRICE_FEN


def window_days_validators() -> list:
    return [MinValueValidator(MIN_WINDOW_DAYS), MaxValueValidator(MAX_WINDOW_DAYS)]


def rate_bp_validators() -> list:
    return [MinValueValidator(MIN_RATE_BP), MaxValueValidator(MAX_RATE_BP)]


@dataclass(frozen=True)
class RiskThresholds:
    """When a claim that passes every check still goes to a person (风控阈值).

    Set per insurance product and copied onto each policy at issue, like every other term.
    """

    # Brief price: the evidence price ended (the SKU's price went back up, the coupon was
    # withdrawn) within this many minutes of the evidence order.
    brief_price_minutes: int = 120
    # Shared evidence: this many claims of different buyers behind one evidence order or one
    # price record, within the hours below.
    shared_evidence_claims: int = 3
    shared_evidence_hours: int = 24
    # New-account burst: this many claims on one campaign, within the hours below, from
    # accounts created after the campaign started. High by default: a popular campaign brings
    # honest new buyers, and only a crowd of them claiming at once is a pattern.
    new_account_burst_claims: int = 20
    new_account_burst_hours: int = 1
    # Steep drop: the evidence price is below paid × (1 − this many basis points); 5000 = half.
    steep_drop_bp: int = 5_000

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "RiskThresholds":
        """Thresholds stored on a policy; a key it lacks keeps its default."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (data or {}).items() if k in names})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


RISK_DEFAULTS = RiskThresholds()
