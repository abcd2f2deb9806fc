"""Push demo units through the real services: received, inspected, decided.

Gives a demo database the rows a backup must carry (items, history, inspections, dispositions,
refunds, outbox events), so a restored copy has something for `check_integrity` to verify.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from disposition.services import decide_disposition
from inspection import services as inspection
from inspection.selectors import best_answer, checklist_for
from returns_desk import services
from returns_desk.models import ReturnAuthorization, RMALine, Station


class Command(BaseCommand):
    help = "Receive, inspect and decide COUNT units of authorised demo RMAs (run seed_demo first)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=5)
        parser.add_argument("--user", default="supervisor")

    def handle(self, *args, count: int, user: str, **options) -> None:
        clerk = get_user_model().objects.filter(username=user).first()
        station = Station.objects.filter(kind=Station.Kind.BOTH).order_by("pk").first()
        if clerk is None or station is None:
            raise CommandError("Load the demo data first: manage.py seed_demo.")
        # Units of serialised products need a serial scanned too; the others take their SKU.
        lines = (
            RMALine.objects.filter(
                rma__status=ReturnAuthorization.Status.AUTHORISED,
                product__serialised=False,
                product__category__criteria__active=True,
            )
            .select_related("rma", "product")
            .distinct()
            .order_by("rma__number", "line_no")
        )
        decided, used = 0, set()
        for line in lines:
            # One unit per RMA, so each parcel is opened and received like a fresh arrival.
            if decided == count or line.rma_id in used:
                continue
            used.add(line.rma_id)
            parcel = services.receive_parcel(code=line.rma.number, station=station, user=clerk)
            item, _ = services.receive_unit(
                parcel=parcel, code=line.product.sku, station=station, user=clerk
            )
            started = inspection.start_inspection(lpn=item.lpn, station=station, user=clerk)
            answers = {criterion.pk: best_answer(criterion) for criterion in checklist_for(item)}
            inspection.record_answers(
                inspection=started, answers=answers, station=station, user=clerk
            )
            inspection.complete_inspection(inspection=started, station=station, user=clerk)
            item.refresh_from_db()
            decide_disposition(item=item, station=station, user=clerk)
            decided += 1
        self.stdout.write(self.style.SUCCESS(f"{decided} demo units received, graded and decided."))
