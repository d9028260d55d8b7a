"""Price-drop detection from the command line: a full rescan (every open policy against every
price record) with a progress bar, or one incremental run as beat does every two minutes."""

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from claims.detection import claimable_span, price_drops_detect


class Command(BaseCommand):
    help = "Detect price drops for every claimable policy whose window is open (--full rescans everything)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="read every price record again instead of those since the last run",
        )

    def handle(self, *args, full: bool = False, **options) -> None:
        total = claimable_span() if full else None  # the bar walks the claimable policies' id range
        with tqdm(
            total=total, file=sys.stderr, unit="policy", desc="price drops", disable=not sys.stderr.isatty()
        ) as bar:
            result = price_drops_detect(full=full, progress=bar.update)
        kind = "full rescan" if result["full"] else "incremental run"
        self.stdout.write(
            f"{kind}: price records up to #{result['records_up_to']}, {result['watches_lowered']} watches lowered, "
            f"{result['drops_written']} drops written"
        )
