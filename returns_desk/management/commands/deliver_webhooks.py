import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from returns_desk import notifications
from returns_desk.webhooks import deliver_due


class Command(BaseCommand):
    help = (
        "Deliver pending webhook events from the outbox and send due customer e-mails: once, "
        "or with --loop as a worker beside gunicorn (several workers may run at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep delivering until stopped.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds to sleep when nothing is due."
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=100,
            help="Deliveries, and customer e-mails, to send per round at most.",
        )

    def handle(self, *args, loop, interval, limit, **options):
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True  # finish the delivery in flight, then leave

        signal.signal(signal.SIGTERM, stop)
        while True:
            run = deliver_due(limit=limit)
            mails = notifications.send_due(limit=limit)
            busy = run.delivered + run.retrying + run.dead
            if run.fanned_out or busy or mails.handled or not loop:
                self.stdout.write(
                    f"{run.fanned_out} new events; {run.delivered} delivered, "
                    f"{run.retrying} to retry, {run.dead} dead-lettered. "
                    f"Customer e-mails: {mails.sent} sent, {mails.retrying} to retry, "
                    f"{mails.failed} failed."
                )
            if not loop or stopping:
                return
            # A long-running worker must not keep a connection the database has dropped.
            close_old_connections()
            if busy < limit and mails.handled < limit:
                time.sleep(interval)
            if stopping:
                return
