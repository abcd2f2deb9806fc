"""Roll up the dashboard's finished days and hours ahead of the first request that shows them.

Run nightly (after midnight plus dashboard.GRACE at the sites) so no supervisor waits for a
day's roll-up, every quarter of an hour with --days 1 for today's hours and the recall figures
(refreshed before their cache expires), and with --rebuild after writes that bypass model
signals (seed_bench, SQL).
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from disposition import dashboard
from disposition.forms import DashboardForm
from disposition.models import DashboardDay, DashboardHour
from returns_desk.models import Site


class Command(BaseCommand):
    help = (
        "Roll up the dashboard figures of the last DAYS finished days for every site and for "
        "all sites together, and today's finished hours; --rebuild drops those roll-ups first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=DashboardForm.MAX_DAYS)
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, days: int, rebuild: bool, **options) -> None:
        today = timezone.localdate()
        since = today - timedelta(days=days)
        if rebuild:
            DashboardDay.objects.filter(day__gte=since - timedelta(1)).delete()
            DashboardHour.objects.all().delete()
        for site in [None, *Site.objects.order_by("code")]:
            # parts() rolls up every finished day of the period it is asked for, and today's
            # finished hours.
            period = dashboard.Period(since=since, until=today, site=site)
            dashboard.parts(period)
            dashboard.refresh_recall_completion(period)
            self.stdout.write(f"{site or 'every site'}: rolled up from {since}")
