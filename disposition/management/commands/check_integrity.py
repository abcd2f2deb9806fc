"""Check every invariant of the three apps; exit non-zero listing each violation found."""

from django.core.management.base import BaseCommand, CommandError

from disposition import integrity as disposition_integrity
from inspection import integrity as inspection_integrity
from returns_desk import integrity as returns_desk_integrity
from returns_desk.replica import reading_reports, reports_database

CHECKS = [
    *returns_desk_integrity.CHECKS,
    *inspection_integrity.CHECKS,
    *disposition_integrity.CHECKS,
]


class Command(BaseCommand):
    help = (
        "Verify units agree with their history, received counts, inspections, dispositions, "
        "refunds, lots and the outbox. Exits 1 listing every violation. Reads the replica "
        "when DATABASE_REPLICA_URL names one."
    )

    def handle(self, *args, **options) -> None:
        violations = 0
        with reading_reports():
            for check in CHECKS:
                for violation in check():
                    violations += 1
                    self.stdout.write(f"{check.__name__}: {violation}")
        read = f"read from the database '{reports_database()}'"
        if violations:
            raise CommandError(f"{violations} integrity violation(s) found ({read}).")
        self.stdout.write(
            self.style.SUCCESS(f"All {len(CHECKS)} integrity checks passed ({read}).")
        )
