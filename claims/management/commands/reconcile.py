from django.core.management.base import BaseCommand, CommandError

from claims.reconciliation import reconciliation_run


class Command(BaseCommand):
    help = "Check every ledger invariant; exit non-zero on any discrepancy. The result is kept for staff."

    def handle(self, *args, **options) -> None:
        run = reconciliation_run(trigger="command")
        for item in run.discrepancies:
            self.stderr.write(f"{item['code']}: {item['detail']}")
        if not run.ok:
            raise CommandError(f"{run.discrepancy_total} discrepancies (run {run.pk}): {run.summary()}")
        self.stdout.write(self.style.SUCCESS(f"ledger reconciled: no discrepancies (run {run.pk})"))
