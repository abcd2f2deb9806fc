"""Two weeks of a warehouse's work in the demo, done through the real services at the times it
happened.

Without it a fresh demo holds RMAs and nothing else: an empty dashboard, empty queues, no lots
and no unit with a history. With it, London's RCV-02 and INS-02 and Rotterdam's stations have
received, graded, decided and put away units on every working day (Monday to Saturday) of the
last two weeks; the supervisor approved overrides, resolved exceptions, closed lots and exported
refunds; repaired units came back for a second grading. Whatever was scheduled after the moment
of loading has not happened yet, so today's work is under way: units wait for inspection and
for a decision, overrides for a supervisor, and the latest exceptions are open.

Every step runs on a clock travelled to its moment (time-machine), in order of time, so each
receipt, grade, decision and history event carries the time it would have had. The stations the
README walks through (London's RCV-01, INS-01 and MIX-01) and its RMAs are left as they were.
These RMAs carry no customer e-mail address, so loading them mails no one. A database that has
units already is left as it is.
"""

import heapq
import io
import itertools
import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from inspection import services as inspection
from inspection.models import GradingCriterion
from inspection.selectors import best_answer, checklist_for
from returns_desk import services as receiving
from returns_desk.models import (
    Channel,
    Parcel,
    Product,
    Program,
    ReasonCode,
    ReceivingException,
    ReturnItem,
    Station,
)

from . import services
from .models import Disposition, Lot, Outcome, RefundInstruction, RepairOrder
from .selectors import disposition_settings, recommend

DAYS = 14
SEED = 2026  # the same two weeks on every fresh demo
OPENS, CLOSES = time(8, 0), time(17, 30)
# (program, channel, reasons, weight): what a general-merchandise returns centre receives.
MIX = [
    (
        "customer-return",
        Channel.WEB,
        ("wrong-size", "changed-mind", "defect", "not-as-described", "damaged-in-transit"),
        14,
    ),
    ("warranty", Channel.WEB, ("warranty-claim",), 2),
    ("trade-in", Channel.WEB, ("trade-in",), 2),
    ("rental", Channel.B2B, ("end-of-lease",), 1),
    ("b2b-excess", Channel.B2B, ("excess-stock",), 1),
    ("delivery-failure", Channel.WEB, ("undeliverable",), 2),
    ("end-of-life", Channel.WEB, ("end-of-life",), 1),
]
ELECTRONICS_ONLY = {"warranty", "trade-in", "rental", "end-of-life"}
# (site, receiving station, inspection station, parcels a day at least and at most)
SITES = [("lon", "RCV-02", "INS-02", 4, 7), ("rtm", "RCV-01", "INS-01", 2, 4)]
# How a unit comes back, by share: how its checklist is answered.
CONDITIONS = [("like new", 35), ("worn", 35), ("poor", 18), ("broken", 12)]
# What a clerk saw beside the checklist, by the outcome the rules recommend. Donating, and
# overriding the decision on a unit worth more than the threshold, wait for a supervisor.
OVERRIDES = {
    Outcome.LIQUIDATE: [
        (Outcome.REFURBISH, Disposition.OverrideReason.BETTER_THAN_GRADED, "Only the box is worn"),
        (Outcome.DONATE, Disposition.OverrideReason.OTHER, "Shelter Homes asked for these"),
    ],
    Outcome.REFURBISH: [
        (Outcome.RESTOCK, Disposition.OverrideReason.BETTER_THAN_GRADED, "Sealed in the carton"),
    ],
}
CUSTOMERS = [
    "Amira Haddad",
    "Ben Carter",
    "Chloé Martin",
    "Daan de Vries",
    "Emma Jansen",
    "Femi Adeyemi",
    "Greta Müller",
    "Hugo Silva",
    "Isla Murray",
    "Jonas Berg",
    "Kofi Mensah",
    "Lucía Gómez",
]


Kind = ReceivingException.Kind


class Day:
    """The working hours of a site: a moment that falls outside them moves to the next opening."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone)

    def working(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.zone)
        if local.weekday() != 6 and OPENS <= local.time() <= CLOSES:
            return local
        day = local.date() + timedelta(days=0 if local.time() < OPENS else 1)
        while day.weekday() == 6:
            day += timedelta(days=1)
        # Work left over from the day before is done first thing, in the order it arrived.
        overrun = local - self.at(local.date(), CLOSES) if local.time() > CLOSES else timedelta()
        return self.at(day, OPENS) + min(overrun, timedelta(hours=2))


class Schedule:
    """Steps run at their moments in order of time; a step may schedule the steps it leads to."""

    def __init__(self, until: datetime):
        self.until = until
        self.steps: list = []
        self.order = itertools.count()

    def at(self, moment: datetime, step: Callable, *args) -> None:
        heapq.heappush(self.steps, (moment, next(self.order), step, args))

    def run(self) -> None:
        while self.steps and self.steps[0][0] <= self.until:
            moment, _, step, args = heapq.heappop(self.steps)
            with time_machine.travel(moment, tick=False):
                step(moment, *args)


def answer(criterion: GradingCriterion, condition: str, item: ReturnItem, rng: random.Random):
    """The answer a clerk gives for a unit in `condition`: the best one for a unit like new."""
    worse = {"like new": 0.0, "worn": 0.5, "poor": 0.75, "broken": 0.9}[condition]
    if criterion.kind == "serial":
        return item.serial_number or "OK"
    if condition == "like new" or rng.random() >= worse:
        return best_answer(criterion)
    match criterion.kind:
        case "pass_fail":
            # Only a broken unit fails what is critical (it does not power on, say).
            return "fail" if condition == "broken" or not criterion.critical else "pass"
        case "scale":
            return str(rng.randint(0, max(criterion.scale_max - 2, 0)))
        case "choice":
            return str(rng.randint(2, len(criterion.options)))
        case "measure":
            low = criterion.min_value if criterion.min_value is not None else Decimal(0)
            return str(max(low - rng.randint(1, 25), Decimal(0)))
        case _:
            return rng.choice(["Scuffed corner", "Box dented", "Light marks on the front"])


class Warehouse:
    """The demo's clerks and supervisor at work: each method is one step of a unit's way."""

    def __init__(self, rng: random.Random, until: datetime):
        names = ["clerk", "inspector", "supervisor"]
        users = get_user_model().objects.in_bulk(names, field_name="username")
        self.clerk, self.inspector, self.supervisor = (users[name] for name in names)
        self.rng = rng
        self.schedule = Schedule(until)
        self.products = list(Product.objects.select_related("category").order_by("sku"))
        self.programs = {program.code: program for program in Program.objects.all()}
        self.reasons = {reason.code: reason for reason in ReasonCode.objects.all()}
        self.numbers = itertools.count(200001)

    def later(self, moment: datetime, minutes: tuple[int, int], station: Station) -> datetime:
        """A moment `minutes` (at least, at most) after `moment`, in the station's working hours."""
        hours = Day(ZoneInfo(station.site.time_zone))
        return hours.working(moment + timedelta(minutes=self.rng.randint(*minutes)))

    def plan_day(self, day: date) -> None:
        for site, receiving_code, inspection_code, fewest, most in SITES:
            stations = Station.objects.filter(site__code=site).select_related("site")
            receiving_at = stations.get(code=receiving_code)
            inspecting_at = stations.get(code=inspection_code)
            hours = Day(ZoneInfo(receiving_at.site.time_zone))
            moment = hours.at(day, OPENS)
            for _ in range(self.rng.randint(fewest, most)):
                moment += timedelta(minutes=self.rng.randint(15, 60))
                self.plan_return(hours.working(moment), receiving_at, inspecting_at)
            if self.rng.random() < 0.3:
                noon = hours.at(day, time(12, self.rng.randint(0, 59)))
                self.schedule.at(noon, self.park_unmatched, receiving_at)
        # The supervisor's end of the day, from the London office, for both sites.
        office = Day(ZoneInfo("Europe/London"))
        self.schedule.at(office.at(day, time(16, 30)), self.close_old_lots)
        self.schedule.at(office.at(day, time(17, 0)), self.export_refunds)

    def plan_return(self, arrives: datetime, receiving_at: Station, inspecting_at: Station):
        program, channel, reasons, _ = self.rng.choices(MIX, weights=[m[3] for m in MIX])[0]
        products = [
            product
            for product in self.products
            if program not in ELECTRONICS_ONLY or product.category.code == "electronics"
        ]
        lines = [
            receiving.NewLine(
                product=product,
                quantity=1 if self.rng.random() < 0.85 else 2,
                reason=self.reasons[self.rng.choice(reasons)],
                price_paid=product.unit_value,
            )
            for product in self.rng.sample(products, k=1 if self.rng.random() < 0.7 else 2)
        ]
        issued = arrives - timedelta(days=self.rng.randint(2, 9), hours=3)
        self.schedule.at(
            issued, self.authorise, program, channel, lines, arrives, receiving_at, inspecting_at
        )

    def authorise(self, moment, program, channel, lines, arrives, receiving_at, inspecting_at):
        number = f"RMA-{next(self.numbers)}"
        receiving.create_rma(
            number=number,
            program=self.programs[program],
            channel=channel,
            lines=lines,
            customer_name=self.rng.choice(CUSTOMERS),
            order_reference=f"WEB-{number[4:]}",
            issued_on=moment.date(),
            purchased_on=moment.date() - timedelta(days=self.rng.randint(5, 40)),
        )
        self.schedule.at(arrives, self.receive, number, receiving_at, inspecting_at)

    def receive(self, moment, number, receiving_at, inspecting_at):
        parcel = receiving.receive_parcel(code=number, station=receiving_at, user=self.clerk)
        lines = list(parcel.rma.lines.select_related("product").order_by("line_no"))
        for line in lines:
            for copy in range(line.quantity_expected):
                serial = f"SN-{line.product.sku[3:6]}-{parcel.pk:05d}{line.line_no}{copy}"
                item, _ = receiving.receive_unit(
                    parcel=parcel,
                    code=line.product.sku,
                    serial=serial if line.product.serialised else "",
                    station=receiving_at,
                    user=self.clerk,
                )
                self.schedule.at(
                    self.later(moment, (60, 1500), inspecting_at),
                    self.inspect,
                    item.lpn,
                    inspecting_at,
                )
        if self.rng.random() < 0.08:
            # One more unit than the RMA expects, or one it does not expect at all.
            extra = self.rng.choice(self.products)
            kind = self.rng.choice([Kind.WRONG_ITEM, Kind.OVER_RECEIPT])
            held, _ = receiving.receive_exception_unit(
                parcel=parcel,
                code=lines[-1].product.sku if kind == Kind.OVER_RECEIPT else extra.sku,
                kind=kind,
                station=receiving_at,
                user=self.clerk,
            )
            self.schedule.at(
                self.later(moment, (900, 2400), receiving_at), self.release, held.lpn, inspecting_at
            )
        receiving.close_parcel(parcel=parcel, station=receiving_at, user=self.clerk)

    def park_unmatched(self, moment, receiving_at):
        code = f"1Z{self.rng.randint(10**15, 10**16 - 1)}"
        parcel = receiving.park_unmatched_parcel(
            code=code, station=receiving_at, user=self.clerk, reason="No paperwork in the box"
        )
        self.schedule.at(self.later(moment, (1500, 3000), receiving_at), self.write_off, parcel.pk)

    def release(self, moment, lpn, inspecting_at):
        exception = ReceivingException.objects.get(item__lpn=lpn)
        receiving.release_exception(
            exception=exception,
            reason="Customer service: keep it, the customer is refunded for it",
            user=self.supervisor,
        )
        self.schedule.at(
            self.later(moment, (30, 240), inspecting_at), self.inspect, lpn, inspecting_at
        )

    def write_off(self, moment, parcel_pk):
        exception = ReceivingException.objects.get(parcel_id=parcel_pk, item__isnull=True)
        receiving.write_off_exception(
            exception=exception,
            reason="No sender or RMA found in two days: recycled",
            user=self.supervisor,
        )

    def inspect(self, moment, lpn, inspecting_at, condition=None):
        started = inspection.start_inspection(lpn=lpn, station=inspecting_at, user=self.inspector)
        item = started.item
        if condition is None:
            names, shares = zip(*CONDITIONS, strict=True)
            condition = self.rng.choices(names, weights=shares)[0]
        answers = {c.pk: answer(c, condition, item, self.rng) for c in checklist_for(item)}
        inspection.submit_inspection(
            inspection=started, answers=answers, station=inspecting_at, user=self.inspector
        )
        self.schedule.at(moment + timedelta(minutes=1), self.decide, lpn, inspecting_at)

    def decide(self, moment, lpn, inspecting_at):
        item = services.find_unit(lpn)
        recommended = recommend(item, disposition_settings()).outcome
        override = {}
        if recommended in OVERRIDES and self.rng.random() < 0.5:
            outcome, reason, note = self.rng.choice(OVERRIDES[recommended])
            override = {"outcome": outcome, "override_reason": reason, "override_note": note}
        disposition, _ = services.decide_disposition(
            item=item, station=inspecting_at, user=self.inspector, **override
        )
        if disposition.status == Disposition.Status.AWAITING_APPROVAL:
            # Approved the next working morning.
            self.schedule.at(
                self.later(moment, (900, 1400), inspecting_at), self.approve, disposition.pk
            )
        else:
            self.schedule.at(
                self.later(moment, (10, 90), inspecting_at), self.put_away, lpn, inspecting_at
            )

    def approve(self, moment, disposition_pk):
        disposition = Disposition.objects.get(pk=disposition_pk)
        services.approve_override(disposition=disposition, user=self.supervisor)

    def put_away(self, moment, lpn, inspecting_at):
        item = services.find_unit(lpn)
        if item.status != ReturnItem.Status.DISPOSED:
            return  # its lot closed and left with it before anyone got to it
        disposition = item.dispositions.select_related("lot").get(status=Disposition.Status.DECIDED)
        services.put_away(
            item=item, code=disposition.put_away_code, station=inspecting_at, user=self.inspector
        )
        if disposition.goes_to_bench:
            self.schedule.at(
                self.later(moment, (1440, 4320), inspecting_at), self.repair, item.pk, inspecting_at
            )

    def repair(self, moment, item_pk, inspecting_at):
        order = RepairOrder.objects.get(item_id=item_pk, status=RepairOrder.Status.OPEN)
        services.complete_repair(
            order=order, user=self.supervisor, notes="Cleaned, tested", cost=Decimal("12.50")
        )
        lpn = ReturnItem.objects.get(pk=item_pk).lpn
        self.schedule.at(
            self.later(moment, (30, 240), inspecting_at),
            self.inspect,
            lpn,
            inspecting_at,
            "like new",
        )

    def close_old_lots(self, moment):
        for lot in Lot.objects.filter(
            status=Lot.Status.OPEN, opened_at__lte=moment - timedelta(days=4)
        ):
            if lot.dispositions.filter(status=Disposition.Status.DECIDED).exists():
                weight = Decimal(self.rng.randint(30, 400)) / 10
                services.close_lot(lot=lot, user=self.supervisor, weight_kg=weight)

    def export_refunds(self, moment):
        released = RefundInstruction.objects.filter(
            status=RefundInstruction.Status.RELEASED, created_at__lte=moment - timedelta(days=1)
        )
        if refunds := list(released):
            services.export_refunds(refunds=refunds, user=self.supervisor)


def load_demo_activity(*, activity_days: int = DAYS, **signal) -> None:
    """Run the demo warehouse's last `activity_days` days, where no unit was received yet."""
    if activity_days <= 0 or ReturnItem.objects.exists() or Parcel.objects.exists():
        return
    warehouse = Warehouse(random.Random(SEED), until=timezone.now())
    today = timezone.localdate()
    for back in range(activity_days - 1, -1, -1):
        day = today - timedelta(days=back)
        if day.weekday() != 6:
            warehouse.plan_day(day)
    warehouse.schedule.run()
    # The dashboard's finished days rolled up now rather than on a supervisor's first visit.
    call_command("rollup_dashboard", days=activity_days, stdout=io.StringIO())
