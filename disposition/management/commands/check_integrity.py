"""Check every invariant of the three apps; exit non-zero listing each violation found."""

from django.core.management.base import BaseCommand, CommandError

from disposition import integrity as disposition_integrity
from inspection import integrity as inspection_integrity
from returns_desk import integrity as returns_desk_integrity

CHECKS = [
    *returns_desk_integrity.CHECKS,
    *inspection_integrity.CHECKS,
    *disposition_integrity.CHECKS,
]


class Command(BaseCommand):
    help = (
        "Verify units agree with their history, received counts, inspections, dispositions, "
        "refunds, lots and the outbox. Exits 1 listing every violation."
    )

    def handle(self, *args, **options) -> None:
        violations = 0
        for check in CHECKS:
            for violation in check():
                violations += 1
                self.stdout.write(f"{check.__name__}: {violation}")
        if violations:
            raise CommandError(f"{violations} integrity violation(s) found.")
        self.stdout.write(self.style.SUCCESS(f"All {len(CHECKS)} integrity checks passed."))
