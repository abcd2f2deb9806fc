from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from returns_desk import services


class Command(BaseCommand):
    help = (
        "Mark authorised returns whose window ended with nothing arrived as expired, and close"
        " returns with nothing left to do. Run it daily (cron); it is safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--late-parcel-days",
            type=int,
            default=settings.RMA_LATE_PARCEL_DAYS,
            help=(
                "Days after its window a partly received return waits for the rest before it"
                " closes (default: RMA_LATE_PARCEL_DAYS, %(default)s)."
            ),
        )

        parser.add_argument(
            "--no-webhooks",
            action="store_true",
            help=(
                "Tell integrations nothing (no rma.expired or rma.closed): for the first run at an"
                " installation with a history, which would otherwise queue an event for every"
                " return ever finished ahead of today's."
            ),
        )

    def handle(self, *args, late_parcel_days, no_webhooks, **options):
        today, tell = timezone.localdate(), not no_webhooks
        expired = services.expire_rmas(today=today, tell=tell)
        closed = services.close_finished_rmas(
            today=today, late_parcel_days=late_parcel_days, tell=tell
        )
        self.stdout.write(f"{expired} RMA(s) expired, {closed} closed.")
