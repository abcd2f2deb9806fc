"""Time the bulk actions on a seeded database, each in a transaction that is rolled back.

Usage (a database seeded with `manage.py seed_bench --units N`):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/returns_bench_1m .venv/bin/python bench/bulk.py

A supervisor closes the smallest and the largest open lot and exports 5,000 released refunds,
and an admin sends every customer mail again (all of them marked failed first, inside the
transaction). Each prints its row count, time and statement count. Nothing stays changed but
dead rows: VACUUM the database before the next bench/run.py.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_desk.settings")


EXPORT = 5000


class RolledBack(Exception):
    pass


def timed(name, action):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            rows = action()
            elapsed = time.perf_counter() - started
            raise RolledBack
    except RolledBack:
        pass
    print(f"| {name} | {rows:,} | {elapsed * 1000:,.0f} | {len(queries)} |", flush=True)


def main():
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db.models import Count, Q

    from disposition import services
    from disposition.models import Disposition, Lot, RefundInstruction
    from returns_desk import services as core
    from returns_desk.models import CustomerEmail

    supervisor = User.objects.filter(groups__name="supervisor").first()
    decided = Count("dispositions", filter=Q(dispositions__status=Disposition.Status.DECIDED))
    lots = Lot.objects.filter(status=Lot.Status.OPEN).annotate(units=decided).order_by("units")
    print("| action | rows | ms | statements |")
    print("| --- | --- | --- | --- |")

    def close(lot):
        services.close_lot(lot=lot, user=supervisor, weight_kg=None)
        return lot.units

    for lot in (lots.first(), lots.last()):
        timed(f"close lot {lot.code}", lambda lot=lot: close(lot))
    # A busy site's export: the seed releases refunds at every age, far more than one export.
    released = RefundInstruction.objects.filter(status=RefundInstruction.Status.RELEASED)
    timed(
        f"export {EXPORT:,} released refunds",
        lambda: len(services.export_refunds(refunds=list(released[:EXPORT]), user=supervisor)),
    )

    def send_every_mail_again():
        CustomerEmail.objects.update(status=CustomerEmail.Status.FAILED)
        return core.resend_customer_emails(emails=CustomerEmail.objects.all(), user=supervisor)

    timed("send every customer mail again", send_every_mail_again)


if __name__ == "__main__":
    main()
