from django.core.management.base import BaseCommand

from returns_desk.demo import DEMO_PASSWORD, load_demo_data
from returns_desk.models import ReturnAuthorization
from returns_desk.signals import demo_data_loaded


class Command(BaseCommand):
    help = "Load the demo data (users for each role, sites, policies, products, RMAs). Idempotent."

    def handle(self, *args, **options):
        logins = load_demo_data()
        # Later apps (grading criteria, disposition rules) add their demo configuration here.
        demo_data_loaded.send(sender=self.__class__)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {ReturnAuthorization.objects.count()} RMAs.")
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in logins:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.write("Try scanning RMA-100009, tracking 1Z999AA10123456784 or C489476.")
