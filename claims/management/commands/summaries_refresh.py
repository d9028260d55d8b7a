from django.core.management.base import BaseCommand

from claims.summaries.refresh import summaries_refresh


class Command(BaseCommand):
    help = (
        "Bring the dashboard's pre-aggregated figures up to date (beat does this every 30 s); "
        "--full rebuilds them all from the raw rows, e.g. after a bulk import."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="rebuild every tally from the raw rows")

    def handle(self, *args, full: bool = False, **options) -> None:
        result = summaries_refresh(full=full)
        self.stdout.write(
            self.style.SUCCESS(
                f"summaries {'rebuilt' if result['full'] else 'refreshed'}: {result['policy_blocks']} policy "
                f"blocks, {result['order_blocks']} order blocks, {result['buyers']} buyers; "
                f"complete up to {result['safe_until']}"
            )
        )
