"""Fill the database with `--units` units for the benchmark (bench/run.py), fast.

A few hundred template units are taken through the real services (so every row is one the
desk itself would write and `check_integrity` accepts), then cloned inside PostgreSQL with
INSERT ... SELECT over generate_series: ids are pre-computed as template id + clone * span,
identifiers get a `-<clone>` suffix, and each clone is dated back by days and hours so the
data spans months and every hour of the day.
Lots are shared by the clones (one open lot per partner and outcome is a constraint).
"""

import random
import time
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from disposition import services as disposition
from disposition.models import Disposition, Lot, Outcome, RefundInstruction, RepairOrder
from inspection import services as inspection
from inspection.models import Answer, Inspection
from inspection.selectors import checklist_for
from returns_desk import services
from returns_desk.models import (
    Channel,
    CustomerEmail,
    ItemEvent,
    Parcel,
    Product,
    Program,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    RMALine,
    Station,
    TrackingNumber,
)

# Cloned tables, parents first; each clone shifts every id of a table by that table's span.
BUNDLE = [
    ReturnAuthorization,
    TrackingNumber,
    RMALine,
    Parcel,
    ReturnItem,
    ReceivingException,
    ItemEvent,
    Inspection,
    Answer,
    Disposition,
    RefundInstruction,
    RepairOrder,
]
# Where a template unit stops, with weights: most units are long done, a backlog is in flight.
TARGETS = [
    ("held", 2),
    ("received", 8),
    ("inspecting", 2),
    ("inspected", 8),
    ("awaiting_approval", 2),
    ("disposed", 8),
    # Units put away into a lot close when the lot does (see _build_templates).
    ("put_away", 70),
]
SPREAD_DAYS = 180
# Each clone is also moved back by (clone * HOUR_STEP) % 24 hours (7 is prime to 24, so every
# hour comes round): the templates are all made within the minutes the seed runs, and dated
# back by whole days alone every day's work would fall in that one hour, which then made the
# dashboard's live hour hold a whole day of a million-unit site.
HOUR_STEP = 7


class Command(BaseCommand):
    help = "Fill PostgreSQL with N units across every status for the benchmark (default 1M)."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=1_000_000)
        parser.add_argument("--templates", type=int, default=200, help="Units built by services.")
        parser.add_argument("--seed", type=int, default=8)

    def handle(self, *args, units: int, templates: int, seed: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_bench clones rows with PostgreSQL SQL: set DATABASE_URL.")
        if ReturnItem.objects.exists():
            raise CommandError("The database already holds units: seed an empty one.")
        started = time.monotonic()
        # The configuration and RMAs alone: the demo's weeks of work would be cloned with the
        # templates, and --units 1000000 would seed nearly twice that.
        call_command("seed_demo", activity_days=0, verbosity=0, stdout=self.stdout)
        self._timed("demo configuration", started)
        step = time.monotonic()
        built = _build_templates(min(templates, units), random.Random(seed))
        # The services queue a mail to the customer of every parcel received and refund
        # released; these customers are invented and the worker may use a real mail server.
        # Deleted rather than marked sent: no row then claims a mail went out that never did.
        CustomerEmail.objects.all().delete()
        self._timed(f"{built} template units through the services", step)
        clones = max(0, -(-units // built) - 1)
        spans = {model: _max_id(model) for model in BUNDLE}
        for model in BUNDLE:
            step = time.monotonic()
            rows = _clone(model, spans, clones)
            self._timed(f"{model._meta.db_table}: +{rows:,} rows", step)
        step = time.monotonic()
        with connection.cursor() as cursor:
            for model in BUNDLE:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            # The clones' decisions are in the templates' lots, which counted only their own.
            cursor.execute(
                f"UPDATE {Lot._meta.db_table} AS lot SET units = (SELECT COUNT(*) FROM"
                f" {Disposition._meta.db_table} AS decision WHERE decision.lot_id = lot.id)"
            )
            cursor.execute("ANALYZE")
        self._timed("sequences, lots' unit counts and ANALYZE", step)
        total = ReturnItem.objects.count()
        self._timed(f"total: {total:,} units", started)

    def _timed(self, what: str, since: float) -> None:
        self.stdout.write(f"{time.monotonic() - since:8.1f} s  {what}")


def _max_id(model: type[models.Model]) -> int:
    return model.objects.aggregate(top=models.Max("id"))["top"] or 0


def _clone(model: type[models.Model], spans: dict, clones: int) -> int:
    """Insert `clones` copies of the template rows of `model`; return how many rows."""
    if not clones or not spans[model]:
        return 0
    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        column = connection.ops.quote_name(field.column)
        columns.append(column)
        target = field.related_model if field.is_relation else None
        if field.primary_key:
            expressions.append(f"{column} + k * {spans[model]}")
        elif target in spans:
            expressions.append(f"{column} + k * {spans[target]}")
        elif isinstance(field, models.UUIDField):
            expressions.append("NULL")
        elif isinstance(field, models.CharField) and (
            field.unique or field.name in {"serial_number", "order_reference", "lpn", "rma_number"}
        ):
            # Identifiers stay unique (and serials distinct) with the clone number appended; the
            # copies of an LPN or RMA number on other rows get the same suffix as the original.
            expressions.append(f"CASE WHEN {column} = '' THEN '' ELSE {column} || '-' || k END")
        elif isinstance(field, models.DateTimeField):
            expressions.append(f"{column} - make_interval(days => shift, hours => hour)")
        elif isinstance(field, models.DateField):
            # A day further back whenever the times are moved by hours too, so that no RMA is
            # issued after the day its parcel arrived.
            expressions.append(f"{column} - shift - (hour > 0)::int")
        else:
            expressions.append(column)
    table = model._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {table} "
        f"CROSS JOIN (SELECT k, (k * {SPREAD_DAYS} / %s)::int AS shift, "
        f"(k * {HOUR_STEP}) %% 24 AS hour FROM generate_series(1, %s) AS k) AS c "
        f"WHERE {table}.id <= %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [clones, clones, spans[model]])
        return cursor.rowcount


def _build_templates(count: int, rng: random.Random) -> int:
    """Take `count` units through the services to the statuses in TARGETS; return how many."""
    clerk, inspector = User.objects.get(username="clerk"), User.objects.get(username="inspector")
    receiving = Station.objects.get(site__code="lon", code="RCV-01")
    inspecting = Station.objects.get(site__code="lon", code="INS-02")
    programs = list(Program.objects.filter(active=True))
    reasons = list(ReasonCode.objects.filter(active=True))
    products = list(Product.objects.all())
    targets = [name for name, weight in TARGETS for _ in range(weight)]
    built = 0
    while built < count:
        program = programs[built % len(programs)]
        product = rng.choice(products)
        serial = f"SN{built:06d}" if product.serialised else ""
        line = services.NewLine(
            product=product,
            quantity=1,
            reason=rng.choice(reasons),
            price_paid=product.unit_value,
            serial_number=serial,
        )
        # Policies cover the web shop, except B2B's; a third of customer returns are marketplace.
        channel = Channel.B2B if program.code == "b2b-excess" else Channel.WEB
        if program.code == "customer-return" and built % 3 == 0:
            channel = Channel.MARKETPLACE
        rma = services.create_rma(
            number=f"BENCH-{built:06d}",
            program=program,
            channel=channel,
            lines=[line],
            order_reference=f"ORD-{built:06d}",
            customer_name="Bench Customer",
            customer_email=f"customer{built}@example.com",
            tracking=[f"1ZBENCH{built:08d}"],
        )
        target = targets[built % len(targets)]
        parcel = services.receive_parcel(code=rma.number, station=receiving, user=clerk)
        if target == "held":
            services.receive_exception_unit(
                parcel=parcel, code=product.sku, kind="wrong_item", station=receiving, user=clerk
            )
        else:
            item, _ = services.receive_unit(
                parcel=parcel, code=serial or product.sku, station=receiving, user=clerk
            )
            services.close_parcel(parcel=parcel, station=receiving, user=clerk)
            _advance(item, target, inspecting, inspector, rng)
        built += 1
        if built == count * 4 // 5:
            # The lots filled so far have left (their units are closed); later ones stay open.
            for lot in Lot.objects.filter(status=Lot.Status.OPEN):
                disposition.close_lot(lot=lot, user=inspector, weight_kg=Decimal("12.5"))
    return built


def _advance(item, target, station, user, rng) -> None:
    if target == "received":
        return
    started = inspection.start_inspection(lpn=item.lpn, station=station, user=user)
    if target == "inspecting":
        return
    checklist = checklist_for(started.item)
    answers = {c.pk: _answer(c, rng, item.serial_number) for c in checklist}
    inspection.record_answers(inspection=started, answers=answers, station=station, user=user)
    inspection.complete_inspection(inspection=started, station=station, user=user)
    item = ReturnItem.objects.get(pk=item.pk)
    if target == "inspected":
        return
    if target == "awaiting_approval":
        # An override to quarantine always waits for a supervisor in the demo settings.
        disposition.decide_disposition(
            item=item,
            station=station,
            user=user,
            outcome=Outcome.QUARANTINE,
            override_reason=Disposition.OverrideReason.OTHER,
            override_note="Bench: held back for a supervisor.",
        )
        return
    decided, _ = disposition.decide_disposition(item=item, station=station, user=user)
    if target == "disposed" or decided.status != Disposition.Status.DECIDED:
        return
    item = ReturnItem.objects.get(pk=item.pk)
    disposition.put_away(item=item, code=decided.put_away_code, station=station, user=user)


def _answer(criterion, rng: random.Random, serial: str) -> str:
    """A valid answer, mostly good: the grade mix then looks like a real returns stream."""
    good = rng.random() < 0.7
    match criterion.kind:
        case "pass_fail":
            return "pass" if good or rng.random() < 0.5 else "fail"
        case "scale":
            top = criterion.scale_max or 1
            return str(top if good else rng.randint(0, top))
        case "choice":
            points = [option["points"] for option in criterion.options]
            return str(1 + (points.index(max(points)) if good else rng.randrange(len(points))))
        case "measure":
            value = criterion.min_value if criterion.min_value is not None else criterion.max_value
            return str(value)
        case "serial":
            return serial or "NO-SERIAL"
        case _:
            return "OK"
