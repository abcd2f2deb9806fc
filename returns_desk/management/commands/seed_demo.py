from django.core.management.base import BaseCommand

from returns_desk.demo import DEMO_PASSWORD, load_demo_data
from returns_desk.models import ReturnAuthorization, ReturnItem
from returns_desk.signals import demo_data_loaded

# Where each demo login starts: the first thing worth trying (README's table, in short).
START_HERE = {
    "clerk": "Receiving: pick LON · RCV-01, scan RMA-100009, then AP-JKT-M and AP-TEE-S",
    "inspector": "Inspection: pick LON · INS-01, scan the LPN the clerk's label shows",
    "supervisor": "Dashboard /supervisor/: queues, exceptions, overrides to approve",
    "admin": "Django admin /admin/: sites, stations, policies, rules, RMAs",
}


class Command(BaseCommand):
    help = (
        "Load the demo data (users for each role, sites, policies, products, RMAs) and, on a"
        " database with no units yet, the last ACTIVITY_DAYS days of work. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--activity-days",
            type=int,
            default=14,
            help="Days of past work to load where there is none yet (0: none).",
        )

    def handle(self, *args, activity_days: int, **options):
        logins = load_demo_data()
        # Later apps add theirs here: grading criteria, disposition rules, then the days of work.
        demo_data_loaded.send(sender=self.__class__, activity_days=activity_days)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {ReturnAuthorization.objects.count()} RMAs,"
                f" {ReturnItem.objects.count()} units received."
            )
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"  {'user':<11} {'password':<13} {'role':<11} start here")
        for username, role in logins:
            start = START_HERE.get(username, "")
            self.stdout.write(f"  {username:<11} {DEMO_PASSWORD:<13} {role:<11} {start}")
        self.stdout.write(
            "Parcels to scan: RMA-100009, tracking 1Z999AA10123456784, order C489476."
        )
