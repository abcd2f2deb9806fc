import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from returns_desk.webhooks import deliver_due


class Command(BaseCommand):
    help = (
        "Deliver pending webhook events from the outbox: once, or with --loop as a worker "
        "beside gunicorn (several workers may run at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep delivering until stopped.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds to sleep when nothing is due."
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="Deliveries to send per round at most."
        )

    def handle(self, *args, loop, interval, limit, **options):
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True  # finish the delivery in flight, then leave

        signal.signal(signal.SIGTERM, stop)
        while True:
            run = deliver_due(limit=limit)
            if run.fanned_out or run.delivered or run.retrying or run.dead or not loop:
                self.stdout.write(
                    f"{run.fanned_out} new events; {run.delivered} delivered, "
                    f"{run.retrying} to retry, {run.dead} dead-lettered."
                )
            if not loop or stopping:
                return
            # A long-running worker must not keep a connection the database has dropped.
            close_old_connections()
            if run.delivered + run.retrying + run.dead < limit:
                time.sleep(interval)
            if stopping:
                return
