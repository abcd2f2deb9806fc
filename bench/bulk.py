"""Time the bulk actions on a seeded database, each in a transaction that is rolled back.

Usage (a database seeded with `manage.py seed_bench --units N`):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/returns_bench_1m .venv/bin/python bench/bulk.py

A supervisor closes the smallest and the largest open lot and exports 5,000 released refunds,
an admin sends every customer mail again (all of them marked failed first, inside the
transaction), and the first nightly `close_rmas` settles every return's status. Each prints its
row count, time and statement count. Nothing stays changed but
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
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.utils import timezone

    from disposition import services
    from disposition.models import Lot, RefundInstruction
    from returns_desk import services as core
    from returns_desk.models import CustomerEmail

    supervisor = User.objects.filter(groups__name="supervisor").first()
    # Each lot keeps the count of its units (disposition 0016).
    lots = Lot.objects.filter(status=Lot.Status.OPEN).order_by("units")
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

    # The first nightly close_rmas at an installation with a history settles all of it at once.
    today = timezone.localdate()

    def settle_every_return():
        expired = core.expire_rmas(today=today, tell=False)
        return expired + core.close_finished_rmas(
            today=today, late_parcel_days=settings.RMA_LATE_PARCEL_DAYS, tell=False
        )

    timed("expire and close RMAs (close_rmas --no-webhooks, first run)", settle_every_return)


if __name__ == "__main__":
    main()
