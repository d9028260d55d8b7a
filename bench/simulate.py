"""Build Juhuasuan campaigns at scale: a seller with shops on every platform, many buyers,
succeeded insured orders, a later price drop, evidence orders and claims.

    python -m bench.simulate --orders 100000                      # or: python bench/simulate.py …
    python -m bench.simulate --orders 1000000 --campaigns 20 --heavy-buyer-orders 1000 \\
        --price-drop-share 0.3 --claims-share 0.1 --review-share 0.1
    python -m bench.simulate --orders 60000 --price-drop-share 1 --evidence-only --json

The campaigns' history is imported, not replayed: rows are written set-based (``INSERT …
SELECT`` over a number series, in chunks of 50,000) exactly as the services would have left them
— states, amounts, windows — so that what is measured afterwards (closing the window, settling
the claims, the pages) runs through the product's own code. The money is posted as balanced
transfers (sales into the seller's balance, premiums to the insurer; a heavy buyer's orders one
by one: top-up, payment into escrow, settlement to the seller), so every ledger invariant holds.

Options:
- ``--campaigns N``: the orders go round N campaigns of the same seller (one covered item each).
- ``--premium-rows``: each policy's premium is its own transfer and premium row, as the product
  charges it (the seller's reports read them), instead of one transfer per chunk.
- ``--heavy-buyer-orders H``: the first buyer placed the first H orders (My Orders, the order
  page and the Alipay balance of a buyer with many orders); the others place
  ``--orders-per-buyer`` each.
- ``--price-drop-share`` of the buyers found a lower price and placed an evidence order
  (unpaid, since closed: the SKU, specs, quantity and address of their insured order), and
  ``--claims-share`` of those filed a claim, decided ``approved`` — or ``in_review`` for
  ``--review-share`` of them. With ``--evidence-only`` no claim is written: each of those
  policies can be claimed once, e.g. over the API (``bench/claims_http.py`` files them).

Needs the Django settings of the project (``DATABASE_URL`` picks the database).
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project root, not bench/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

MAX_ORDERS = 20_000_000
MAX_CAMPAIGNS = 100
CHUNK = 50_000


class SimulationError(ValueError):
    """Options that cannot make a campaign; the message says which and why."""


def _check_share(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SimulationError(f"--{name} must be a number between 0 and 1, not {value!r}")


def _check_count(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SimulationError(f"--{name} must be a whole number from {low:,} to {high:,}, not {value!r}")


@dataclass(frozen=True)
class Plan:
    """What to simulate. Invalid values raise :class:`SimulationError` before anything is written."""

    orders: int
    price_drop_share: float = 0.3
    claims_share: float = 1.0
    orders_per_buyer: int = 10
    evidence_only: bool = False
    campaigns: int = 1
    heavy_buyer_orders: int = 0
    review_share: float = 0.0
    premium_rows: bool = False

    def __post_init__(self) -> None:
        _check_count("orders", self.orders, 1, MAX_ORDERS)
        _check_count("orders-per-buyer", self.orders_per_buyer, 1, MAX_ORDERS)
        _check_count("campaigns", self.campaigns, 1, min(MAX_CAMPAIGNS, self.orders))
        _check_count("heavy-buyer-orders", self.heavy_buyer_orders, 0, self.orders)
        for name in ("price_drop_share", "claims_share", "review_share"):
            _check_share(name.replace("_", "-"), getattr(self, name))
        if self.evidence_only and self.review_share:
            raise SimulationError("--review-share needs claims: it cannot go with --evidence-only")

    @property
    def every(self) -> int:
        """Every ``every``-th order has an evidence order (and a claim); 0 = none."""
        share = self.price_drop_share * self.claims_share
        return max(1, round(1 / share)) if share else 0

    @property
    def review_every(self) -> int:
        """Every ``review_every``-th claim waits for staff review; 0 = none."""
        return max(1, round(1 / self.review_share)) if self.review_share else 0

    @property
    def buyers(self) -> int:
        others = self.orders - self.heavy_buyer_orders
        return int(self.heavy_buyer_orders > 0) + -(-others // self.orders_per_buyer)


@dataclass
class Simulation:
    """What was written: ids and order-number prefixes the benchmarks use."""

    campaign: int  # the first campaign
    campaigns: list[int]
    seller: int
    seller_user: int
    insurer: int
    first_buyer: int  # the heavy buyer when there is one
    buyers: int
    orders: int
    evidence_orders: int
    claims: int
    in_review: int
    prefix: str  # insured order n is prefix + n
    evidence_prefix: str  # its evidence order is evidence_prefix + n
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"campaign {self.campaign} (of {len(self.campaigns)}): {self.orders} insured lines, "
            f"{self.claims} claims ({self.in_review} in review), {self.evidence_orders} evidence orders, "
            f"{self.buyers} buyers (insured orders {self.prefix}<n>, evidence orders {self.evidence_prefix}<n>)"
        )


def simulate(plan: Plan, *, progress: bool = False) -> Simulation:
    """Write the campaigns of ``plan`` into the database Django is set up with."""
    from tqdm import tqdm

    from bench import simulate_rows

    started = time.perf_counter()
    world = simulate_rows.world_create(plan)
    bar = tqdm(total=plan.orders, file=sys.stderr, disable=not progress, unit="line", desc="orders")
    evidence = claims = in_review = 0
    for low in range(0, plan.orders, CHUNK):
        high = min(plan.orders, low + CHUNK)
        written = simulate_rows.chunk_write(world, plan, low, high)
        evidence += written["evidence"]
        claims += written["claims"]
        in_review += written["in_review"]
        bar.update(high - low)
    bar.close()
    simulate_rows.analyze()
    return Simulation(
        campaign=world.campaign_ids[0],
        campaigns=world.campaign_ids,
        seller=world.seller.pk,
        seller_user=world.seller.user_id,
        insurer=world.insurer.pk,
        first_buyer=world.first_buyer,
        buyers=plan.buyers,
        orders=plan.orders,
        evidence_orders=evidence,
        claims=claims,
        in_review=in_review,
        prefix=world.prefix,
        evidence_prefix=world.evidence_prefix,
        seconds=round(time.perf_counter() - started, 2),
    )


def step(**options) -> dict:
    """The simulation as a benchmark step (``run_step("bench.simulate:step", {"orders": …})``)."""
    return asdict(simulate(Plan(**options)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--orders", type=int, required=True, help=f"insured order lines (1 to {MAX_ORDERS:,})")
    p.add_argument(
        "--price-drop-share", type=float, default=0.3, help="share of buyers who find a lower price"
    )
    p.add_argument("--claims-share", type=float, default=1.0, help="share of those who file a claim")
    p.add_argument("--review-share", type=float, default=0.0, help="share of claims left in staff review")
    p.add_argument("--orders-per-buyer", type=int, default=10, help="insured orders each buyer placed")
    p.add_argument("--campaigns", type=int, default=1, help=f"campaigns of the seller (1 to {MAX_CAMPAIGNS})")
    p.add_argument("--heavy-buyer-orders", type=int, default=0, help="orders of the first buyer")
    p.add_argument("--evidence-only", action="store_true", help="evidence orders but no claims")
    p.add_argument("--premium-rows", action="store_true", help="a premium transfer and row per policy")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    return p


def main(argv: list[str]) -> None:
    p = parser()
    args = vars(p.parse_args(argv))
    as_json = args.pop("json")
    try:
        plan = Plan(**args)
    except SimulationError as error:
        p.error(str(error))
    from bench.proc import django_setup

    django_setup()
    result = simulate(plan, progress=sys.stderr.isatty())
    print(json.dumps(asdict(result)) if as_json else result.summary())


if __name__ == "__main__":
    main(sys.argv[1:])
