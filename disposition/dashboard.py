"""The supervisor dashboard's figures for a period and a site, and the charts that draw them.

Finished days are read from their roll-ups (DashboardDay), today from the roll-ups of its
finished hours (DashboardHour) plus its last hour or so counted live: see parts().
Definitions (tests check them against hand-computed fixtures):
- received: units labelled at receiving in the period; per day and per station and hour.
- completed: units whose disposition took effect in the period (an event to 'disposed').
- grade mix: current (unsuperseded) grades given in the period.
- disposition mix, value, receipt to disposition: decisions made in the period that took
  effect (decided, or completed by a repair), by the unit's receiving site.
- value returned: what customers paid for those units; value recovered: the unit value of
  those sent back to sale (RECOVERING outcomes).
- receipt to disposition: hours from receipt to decision (counted to the second); median, and
  the 90th percentile by nearest rank.
- recall completion: per recall program, units received against units authorised on RMAs
  issued up to the period's end (cancelled RMAs left out); up to twenty minutes old (plus the
  moment one request takes to count it again).
- refunds: refund instructions written in the period, by status.
"""

import base64
import math
import sys
import threading
import time as time_module
import uuid
from array import array
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, Trunc, TruncDate
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from inspection.models import Inspection
from returns_desk.models import ItemEvent, Program, ReturnAuthorization, ReturnItem, RMALine, Site

from .models import DashboardDay, DashboardHour, Disposition, Outcome, RefundInstruction

RECOVERING = (
    Outcome.RESTOCK,
    Outcome.REPAIR,
    Outcome.REFURBISH,
    Outcome.RETURN_TO_VENDOR,
    Outcome.LIQUIDATE,
)
TOOK_EFFECT = (Disposition.Status.DECIDED, Disposition.Status.COMPLETED)
TOP = 10


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # inclusive
    site: Site | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.time_zone) if self.site else timezone.get_current_timezone()

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=self.tz)

    def days(self) -> list[date]:
        return [self.since + timedelta(n) for n in range((self.until - self.since).days + 1)]


# A day's or an hour's figures as counts that add up ("parts", JSON as stored in DashboardDay
# and DashboardHour). FORMAT changes with what a stored row holds: a row in another format is
# made again, never read (code still serving while a migration drops the old rows writes more).
# Format 3: a stored row's figures carry the random token that names them (see _current).
# Format 4: units graded and decided per station and hour, beside those received.
FORMAT = 4
# Per station and hour: units received, graded (current grades) and decided (decisions in effect).
STATION_WORK = ("received", "graded", "decided")


def empty_parts() -> dict:
    return {
        "format": FORMAT,
        "received": 0,
        "completed": 0,
        "hours": {work: {} for work in STATION_WORK},
        "grades": {},
        "outcomes": {},
        "returned": "0",
        "recovered": "0",
        "lead_runs": [],
        "reasons": [],
        "refunds": {},
    }


def _add(counts: dict, key: str, n) -> None:
    counts[key] = counts.get(key, 0) + n


def add_parts(*spans: dict) -> dict:
    """The parts of spans of time taken together.

    In one pass: adding a day's hours two at a time copied every count added so far at each
    step, quadratic in the hours of the day.
    """
    total = empty_parts()
    money = {"returned": Decimal(0), "recovered": Decimal(0)}
    refunds: dict[str, list] = {}
    reasons: dict[tuple[str, str], int] = {}
    for parts in spans:
        total["received"] += parts["received"]
        total["completed"] += parts["completed"]
        for work in STATION_WORK:
            for code, counts in parts["hours"][work].items():
                hours = total["hours"][work].setdefault(code, {})
                for hour, n in counts.items():
                    _add(hours, hour, n)
        for key in ("grades", "outcomes"):
            for name, n in parts[key].items():
                _add(total[key], name, n)
        for key in money:
            money[key] += Decimal(parts[key])
        total["lead_runs"] += parts["lead_runs"]
        for status, (n, amount) in parts["refunds"].items():
            so_far = refunds.setdefault(status, [0, Decimal(0)])
            so_far[0] += n
            so_far[1] += Decimal(amount)
        for sku, reason, n in parts["reasons"]:
            _add(reasons, (sku, reason), n)
    total |= {key: str(amount) for key, amount in money.items()}
    total["refunds"] = {status: [n, str(amount)] for status, (n, amount) in refunds.items()}
    total["reasons"] = [[sku, reason, n] for (sku, reason), n in reasons.items()]
    return total


# Every decision's lead time is kept, so the median and the 90th percentile are exact: a day's
# or an hour's seconds sorted into a run, packed as base64 of 32-bit integers (little-endian),
# which decodes at the speed of a copy (a day at a million units holds 4,400). Parts add up by
# listing their runs; the figures pick the k-th smallest value across the runs by bisection
# instead of merging and sorting them.


def pack_run(seconds: list[int]) -> str:
    run = array("i", sorted(seconds))
    if sys.byteorder == "big":
        run.byteswap()
    return base64.b64encode(run.tobytes()).decode("ascii")


def unpack_run(packed: str) -> array:
    run = array("i", base64.b64decode(packed))
    if sys.byteorder == "big":
        run.byteswap()
    return run


def kth_smallest(runs: list[array], k: int) -> int:
    """The k-th smallest value (counted from 0) across sorted runs: the least value that more
    than k of their values are at most, bisected between the smallest and the largest."""
    low = min(run[0] for run in runs if run)
    high = max(run[-1] for run in runs if run)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect_right(run, middle) for run in runs) > k:
            high = middle
        else:
            low = middle + 1
    return low


def lead_time(runs: list[array]) -> dict:
    """How many lead times the runs hold, their median and their 90th percentile by nearest
    rank, in hours."""
    n = sum(len(run) for run in runs)
    if not n:
        return {"count": 0, "median": None, "p90": None}
    median = (kth_smallest(runs, (n - 1) // 2) + kth_smallest(runs, n // 2)) / 2
    p90 = kth_smallest(runs, max(math.ceil(0.9 * n) - 1, 0))
    return {"count": n, "median": median / 3600, "p90": p90 / 3600}


HOUR = timedelta(hours=1)


def live_parts(
    period: Period,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    hourly: bool = False,
) -> dict:
    """The parts of [start, end) (the whole period by default) per day, or per hour counted
    from the period's start, aggregated from the units, events and decisions: seven queries."""
    start, end = start or period.start, end or period.end
    if hourly:
        # Truncated at the fixed UTC offset of the period's start, every hour lasts sixty
        # minutes from there on: the hour a clock change back repeats stays two hours, and a
        # change by half an hour (Lord Howe Island) does not move the boundaries.
        zone = dt_timezone(period.start.utcoffset())
        first = start.astimezone(zone)
        parts = {first + n * HOUR: empty_parts() for n in range(math.ceil((end - start) / HOUR))}

        def bucket(field: str):
            return Trunc(field, "hour", tzinfo=zone)

    else:
        first = start.astimezone(period.tz).date()
        last = (end - timedelta.resolution).astimezone(period.tz).date()
        parts = {first + timedelta(n): empty_parts() for n in range((last - first).days + 1)}

        def bucket(field: str):
            return TruncDate(field, tzinfo=period.tz)

    def within(field: str, site_path: str) -> Q:
        q = Q(**{f"{field}__gte": start, f"{field}__lt": end})
        return q & Q(**{site_path: period.site}) if period.site else q

    received = ReturnItem.objects.filter(within("received_at", "station__site"))
    decisions = Disposition.objects.filter(
        within("decided_at", "item__station__site"), status__in=TOOK_EFFECT
    )

    def by_station_and_hour(rows, field: str, *also: str):
        return rows.values(
            "station__code", *also, at=bucket(field), hour=ExtractHour(field, tzinfo=period.tz)
        )

    def count_station_hour(work: str, row: dict) -> None:
        # A decision recorded without a station (the column allows it) counts under "" ("—").
        hours = parts[row["at"]]["hours"][work].setdefault(row["station__code"] or "", {})
        _add(hours, str(row["hour"]), row["n"])

    for row in by_station_and_hour(received, "received_at").annotate(n=Count("pk")):
        parts[row["at"]]["received"] += row["n"]
        count_station_hour("received", row)
    for row in (
        received.filter(rma_line__isnull=False)
        .values("product__sku", "rma_line__reason__name", at=bucket("received_at"))
        .annotate(n=Count("pk"))
    ):
        parts[row["at"]]["reasons"].append(
            [row["product__sku"], row["rma_line__reason__name"], row["n"]]
        )
    for row in (
        ItemEvent.objects.filter(
            within("created_at", "item__station__site"), to_status=ReturnItem.Status.DISPOSED
        )
        .values(at=bucket("created_at"))
        .annotate(n=Count("pk"))
    ):
        parts[row["at"]]["completed"] = row["n"]
    # Grades and outcomes by station and hour too: the same rows, so no query of their own.
    graded = Inspection.objects.filter(
        within("finished_at", "item__station__site"), superseded=False
    )
    for row in by_station_and_hour(graded, "finished_at", "grade_code").annotate(n=Count("pk")):
        _add(parts[row["at"]]["grades"], row["grade_code"], row["n"])
        count_station_hour("graded", row)
    for row in by_station_and_hour(decisions, "decided_at", "chosen_outcome").annotate(
        n=Count("pk"),
        returned=Sum("item__rma_line__price_paid"),
        recovered=Sum("item__product__unit_value", filter=Q(chosen_outcome__in=RECOVERING)),
    ):
        part = parts[row["at"]]
        _add(part["outcomes"], row["chosen_outcome"], row["n"])
        count_station_hour("decided", row)
        for total in ("returned", "recovered"):
            part[total] = str(Decimal(part[total]) + (row[total] or 0))
    lead_seconds = defaultdict(list)
    for at, decided, received_at in decisions.values_list(
        bucket("decided_at"), "decided_at", "item__received_at"
    ):
        lead_seconds[at].append(round((decided - received_at).total_seconds()))
    for at, seconds in lead_seconds.items():
        parts[at]["lead_runs"] = [pack_run(seconds)]
    for row in (
        RefundInstruction.objects.filter(within("created_at", "item__station__site"))
        .values("status", at=bucket("created_at"))
        .annotate(n=Count("pk"), amount=Sum("amount"))
    ):
        parts[row["at"]]["refunds"][row["status"]] = [row["n"], str(row["amount"] or 0)]
    return parts


# Finished days are rolled up: stored once, read back on every later request; so are the
# finished hours of a day still running.
#
# A day is rolled up (lazily, by the first request that shows it, or by the rollup_dashboard
# command) once it ended in the period's time zone at least GRACE ago, so no transaction that
# wrote into it can still be committing. Today, and a day within the grace, add up the roll-ups
# of their hours that ended at least GRACE ago (made the same way: by the first request after
# an hour ends) and aggregate only the rest of the day live: the hour under way and the one
# that ended less than GRACE ago. A day's hours run on from its start, sixty minutes each, so in
# a half-hour zone they end at half past (UTC).
# A row is dropped when something in its day or hour changes afterwards, and made again when
# next shown: a unit, event or refund saved with a timestamp in a rolled-up day or hour (a late
# or back-dated write), an inspection of that day superseded, a decision of that day approved,
# rejected, reopened or completed, a refund of that day released or exported (see forget_days
# and its signal receivers). Hours are read only while their day is unfinished, and deleted
# when days are rolled up once they are KEEP_HOURS old. Writes that bypass model signals (bulk
# loads such as seed_bench, SQL) must be followed by `manage.py rollup_dashboard --rebuild`.

GRACE = timedelta(minutes=10)
KEEP_HOURS = timedelta(days=2)


def _finished(period: Period, day: date, now: datetime) -> bool:
    return now >= Period(since=day, until=day, site=period.site).end + GRACE


def _stored(period: Period) -> QuerySet:
    return DashboardDay.objects.filter(
        site=period.site, day__gte=period.since, day__lte=period.until
    )


# A stored row is never changed, only deleted and made again (with a new token), so each process
# keeps the figures it decoded by their token and reads back only the tokens of rows it has
# decoded before. At a million units, late in the day, a week of days and today's hours are
# 300 KB of JSON, and decoding them on every request was a quarter of the dashboard's time (17.3
# -> 12.8 ms in-process); a quarter of a year's days is 1.8 MB.
# Callers treat the figures as read-only: every request shares them.
_decoded: OrderedDict[str, dict] = OrderedDict()
_decoded_lock = threading.Lock()
# A quarter's days for three sites and for all of them, and two days of hours: 17 MB at 1M.
DECODED_KEPT = 400


def _keep(token: str, figures: dict) -> dict:
    with _decoded_lock:
        _decoded[token] = figures
        while len(_decoded) > DECODED_KEPT:
            _decoded.popitem(last=False)
    return figures


def _to_store(made: dict) -> dict:
    """Figures just made, with the token their row is stored under, kept as if decoded."""
    token = uuid.uuid4().hex
    return _keep(token, made | {"token": token})


def _current(rows: QuerySet, at: str) -> dict:
    """The stored roll-ups' figures by their day or hour (the field `at`); one stored in another
    FORMAT is deleted instead, so it is made again like a missing one."""
    found, wanted, stale = {}, {}, []
    listed = list(rows.values_list("pk", at, "figures__format", "figures__token"))
    with _decoded_lock:
        for pk, moment, stored_format, token in listed:
            if stored_format != FORMAT:
                stale.append(pk)
            elif token in _decoded:
                _decoded.move_to_end(token)
                found[moment] = _decoded[token]
            else:
                wanted[pk] = moment
    if stale:
        rows.model.objects.filter(pk__in=stale).delete()
    # A row deleted since the first read is missing here, and made again like any missing one.
    for pk, figures in rows.model.objects.filter(pk__in=wanted).values_list("pk", "figures"):
        found[wanted[pk]] = _keep(figures["token"], figures)
    return found


def parts(period: Period) -> dict[date, dict]:
    """Each day's parts: finished days from their roll-up (made now if missing), an unfinished
    day from the roll-ups of its finished hours (made now if missing) and the rest live."""
    now = timezone.now()
    found = _current(_stored(period), "day")
    finished = [day for day in period.days() if _finished(period, day, now)]
    if missing := [day for day in finished if day not in found]:
        made = live_parts(Period(since=missing[0], until=missing[-1], site=period.site))
        made = {day: _to_store(made[day]) for day in missing}
        DashboardDay.objects.bulk_create(
            [DashboardDay(site=period.site, day=day, figures=made[day]) for day in missing],
            ignore_conflicts=True,
        )
        DashboardHour.objects.filter(starts_at__lt=now - KEEP_HOURS).delete()
        found |= made
    if live := [day for day in period.days() if day not in finished]:
        # Only the first unfinished day can have finished hours: a later day's first hour
        # counts as finished only after the earlier day does.
        hours, rest_from = _finished_hours(
            Period(since=live[0], until=live[0], site=period.site), now
        )
        found |= _latest_parts(period, rest_from)
        found[live[0]] = add_parts(hours, found[live[0]])
    return {day: found[day] for day in period.days()}


def _latest_parts(period: Period, start: datetime) -> dict:
    """The live parts from `start` to the period's end, shared by every request for up to
    settings.DASHBOARD_LIVE_SECONDS: in a busy hour (5,600 units received at one site) counting
    them took 90-290 ms at a million units, which each supervisor's refresh would pay again."""
    # The format in the key: while a deployment runs old and new code side by side, neither
    # reads parts the other counted in its own shape (a KeyError, a 500, until they expired).
    key = ":".join(
        (f"dashboard-live-{FORMAT}", str(period.site.pk if period.site else "all"))
        + (str(period.since), str(period.until), start.isoformat())
    )
    return _shared(
        key, lambda: live_parts(period, start, period.end), settings.DASHBOARD_LIVE_SECONDS
    )


# A shared figure past its time is still served while one request counts it again, for up to
# as long again: when it simply expired, every request of the next moments counted it at once,
# each worker busy with the same count and every other request queued behind them (the recall
# figures at a million units: the dashboard's p95 went from 78 ms to 1,088 ms; run 10). A
# request that dies mid-count holds the others to the old value for RECOUNTING_SECONDS at most.
RECOUNTING_SECONDS = 60
# Entries hold (value, fresh until) under this cache version; code before held the value alone
# under version 1, and while both serve, during a deployment, neither reads the other's.
SHARED_VERSION = 2


def _shared(key: str, count, seconds: int):
    """count()'s value, shared by every request and counted again once `seconds` old: by the
    first request to find it so, while the others serve the old value in the meantime."""
    recounting = f"{key}:recounting"
    kept = cache.get_many([key, recounting], version=SHARED_VERSION)
    if key in kept:
        value, fresh_until = kept[key]
        if (
            time_module.time() < fresh_until
            or recounting in kept
            or not cache.add(recounting, True, RECOUNTING_SECONDS, version=SHARED_VERSION)
        ):
            return value
    try:
        return _share(key, count(), seconds)
    finally:
        if key in kept:
            cache.delete(recounting, version=SHARED_VERSION)


def _share(key: str, value, seconds: int):
    cache.set(key, (value, time_module.time() + seconds), 2 * seconds, version=SHARED_VERSION)
    return value


def _finished_hours(day: Period, now: datetime) -> tuple[dict, datetime]:
    """The parts of the day's hours that ended at least GRACE ago, from their roll-ups (made now
    if missing), and the moment the last of them ends."""
    start = day.start.astimezone(UTC)
    hours = [start + n * HOUR for n in range(max((min(now - GRACE, day.end) - start) // HOUR, 0))]
    if not hours:
        return empty_parts(), start
    found = _current(
        DashboardHour.objects.filter(
            site=day.site, starts_at__gte=hours[0], starts_at__lte=hours[-1]
        ),
        "starts_at",
    )
    if missing := [hour for hour in hours if hour not in found]:
        made = live_parts(day, missing[0], missing[-1] + HOUR, hourly=True)
        made = {hour: _to_store(made[hour]) for hour in missing}
        DashboardHour.objects.bulk_create(
            [DashboardHour(site=day.site, starts_at=hour, figures=made[hour]) for hour in missing],
            ignore_conflicts=True,
        )
        found |= made
    return add_parts(*(found[hour] for hour in hours)), hours[-1] + HOUR


def forget_days(*moments: datetime) -> None:
    """Drop the roll-ups of the days and hours these moments fall in, at every site (any time
    zone)."""
    moments = [moment for moment in moments if moment and moment <= timezone.now() - GRACE]
    if not moments:
        return
    DashboardDay.objects.filter(
        day__in={moment.date() + timedelta(shift) for moment in moments for shift in (-1, 0, 1)}
    ).delete()
    # Every hour from the first moment's to the last one's: an export passes hundreds of
    # moments, and an hour dropped needlessly is only counted again.
    DashboardHour.objects.filter(
        starts_at__gt=min(moments) - HOUR, starts_at__lte=max(moments)
    ).delete()


# What each source row's day is, and the fields whose change alters the figures of that day
# (None: only a new row does, e.g. a unit's receipt never moves once recorded).
WATCHED = {
    ReturnItem: ("received_at", None),
    ItemEvent: ("created_at", None),
    Inspection: ("finished_at", {"superseded", "grade_code", "finished_at"}),
    Disposition: ("decided_at", {"status", "chosen_outcome", "decided_at"}),
    RefundInstruction: ("created_at", {"status", "amount", "created_at"}),
}


def _row_changed(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    field, changes = WATCHED[sender]
    if created or (changes is not None and (update_fields is None or changes & set(update_fields))):
        forget_days(getattr(instance, field))


def watch_sources() -> None:
    for model in WATCHED:
        post_save.connect(_row_changed, sender=model, dispatch_uid=f"dashboard_{model.__name__}")
        post_delete.connect(
            _row_changed, sender=model, dispatch_uid=f"dashboard_gone_{model.__name__}"
        )


# From parts to figures.


def summarise(period: Period, days: dict[date, dict]) -> dict:
    """The dashboard's figures for the period from its days' parts (see the module docstring)."""
    total = empty_parts()
    lead_runs = []
    hours: dict[str, dict[str, dict[int, int]]] = {work: {} for work in STATION_WORK}
    reasons: dict[str, int] = {}
    by_sku: dict[tuple[str, str], int] = {}
    refunds: dict[str, list] = {}
    for day in days.values():
        for work in STATION_WORK:
            for code, counts in day["hours"][work].items():
                for hour, n in counts.items():
                    _add(hours[work].setdefault(code, {}), int(hour), n)
        for key in ("grades", "outcomes"):
            for name, n in day[key].items():
                _add(total[key], name, n)
        for total_name in ("returned", "recovered"):
            total[total_name] = Decimal(total[total_name]) + Decimal(day[total_name])
        lead_runs += [unpack_run(run) for run in day["lead_runs"]]
        for sku, reason, n in day["reasons"]:
            _add(reasons, reason, n)
            _add(by_sku, (sku, reason), n)
        for status, (n, amount) in day["refunds"].items():
            so_far = refunds.setdefault(status, [0, Decimal(0)])
            so_far[0] += n
            so_far[1] += Decimal(amount)
    # One span of hours for all three, so a station's receipts and grades line up.
    busy = sorted({hour for work in hours.values() for counts in work.values() for hour in counts})
    span = list(range(busy[0], busy[-1] + 1)) if busy else []
    return {
        "received_per_day": [(day, counts["received"]) for day, counts in days.items()],
        "completed_per_day": [(day, counts["completed"]) for day, counts in days.items()],
        "station_hours": {
            work: {
                "hours": span,
                "rows": [
                    (code, [hours[work][code].get(h, 0) for h in span])
                    for code in sorted(hours[work])
                ],
            }
            for work in STATION_WORK
        },
        "grade_mix": sorted(total["grades"].items()),
        "disposition_mix": [
            (Outcome(outcome).label, n)
            for outcome, n in sorted(
                total["outcomes"].items(), key=lambda item: (-item[1], item[0])
            )
        ],
        "value": {"returned": total["returned"], "recovered": total["recovered"]},
        "lead_time": lead_time(lead_runs),
        "top_reasons": _pareto(
            sorted(reasons.items(), key=lambda item: (-item[1], item[0])), lambda key: key
        ),
        "top_reasons_by_sku": _pareto(
            sorted(by_sku.items(), key=lambda item: (-item[1], item[0])),
            lambda key: f"{key[0]} · {key[1]}",
        ),
        "recalls": recall_completion(period),
        "refunds": [
            {
                "status": label,
                "n": refunds.get(status, [0])[0],
                "amount": refunds.get(status, [0, Decimal(0)])[1],
            }
            for status, label in RefundInstruction.Status.choices
        ],
    }


def _pareto(counts: list[tuple], label) -> list[dict]:
    total = sum(n for _, n in counts)
    running, result = 0, []
    for key, n in counts[:TOP]:
        running += n
        result.append({"label": label(key), "n": n, "cumulative": round(100 * running / total)})
    return result


# A recall's completion is a campaign figure, not the period's: it sums every line of every RMA
# the recall ever issued (135,000 RMAs at a million units, ~0.5 s). Kept per site and end date,
# and refreshed ahead of its expiry by `rollup_dashboard`, which runs every quarter of an hour,
# so supervisors read it rather than wait for it.
RECALL_SECONDS = 20 * 60


def _recall_key(period: Period) -> str:
    return f"dashboard-recalls:{period.site.pk if period.site else 'all'}:{period.until}"


def recall_completion(period: Period) -> list[dict]:
    return _shared(_recall_key(period), lambda: _recall_completion(period), RECALL_SECONDS)


def refresh_recall_completion(period: Period) -> None:
    _share(_recall_key(period), _recall_completion(period), RECALL_SECONDS)


def _recall_completion(period: Period) -> list[dict]:
    lines = RMALine.objects.filter(
        rma__program__kind=Program.Kind.RECALL, rma__issued_on__lte=period.until
    ).exclude(rma__status=ReturnAuthorization.Status.CANCELLED)
    if period.site:
        lines = lines.filter(rma__site=period.site)
    rows = (
        lines.values(program=F("rma__program__name"))
        .annotate(authorised=Sum("quantity_expected"), returned=Sum("quantity_received"))
        .order_by("program")
    )
    return [
        {**row, "percent": round(100 * row["returned"] / row["authorised"])}
        for row in rows
        if row["authorised"]
    ]


def figures(period: Period) -> dict:
    return summarise(period, parts(period))


# Charts: server-side SVG with presentation attributes only (the CSP forbids inline styles).

BAR_HEIGHT, GAP, LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 22, 6, 170, 360, 90


@dataclass(frozen=True)
class Bar:
    label: str
    value: object
    y: int
    width: int
    text_y: int


def bar_chart(rows: list[tuple[str, float]], title: str) -> dict:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    top = max((float(value) for _, value in rows), default=0) or 1
    bars = [
        Bar(
            label=str(label),
            value=value,
            y=n * (BAR_HEIGHT + GAP),
            width=round(PLOT_WIDTH * float(value) / top),
            text_y=n * (BAR_HEIGHT + GAP) + BAR_HEIGHT - 6,
        )
        for n, (label, value) in enumerate(rows)
    ]
    return {
        "title": title,
        "bars": bars,
        "height": max(len(bars), 1) * (BAR_HEIGHT + GAP),
        "width": LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        "plot_x": LABEL_WIDTH,
        "value_x": LABEL_WIDTH + PLOT_WIDTH + 6,
        "label_x": LABEL_WIDTH - 6,
    }


CELL = 26


def heat_grid(station_hours: dict) -> dict:
    """Cells per station and hour, shaded by count (fill-opacity, a presentation attribute).

    Each row's cells come as markup made here: three grids of up to 24 hours a station, each
    drawn and tabled, made the template's loops (and escaping every number) most of the
    dashboard's time. Numbers are written the C way, as SVG reads them, in any language.
    """
    top = max((n for _, counts in station_hours["rows"] for n in counts), default=0) or 1
    rows = []
    side = CELL - 2
    for r, (code, counts) in enumerate(station_hours["rows"]):
        code, y = code or "—", (r + 1) * CELL
        name = escape(code)  # the one value not a number, escaped once for the row's cells
        cells = list(zip(station_hours["hours"], counts, strict=True))
        drawn = "".join(
            f'<rect x="{LABEL_WIDTH // 2 + c * CELL}" y="{y}" width="{side}" height="{side}"'
            f' fill-opacity="{round(0.1 + 0.9 * n / top, 2)}" class="chart-cell">'
            f"<title>{name}, {hour}h: {n}</title></rect>"
            for c, (hour, n) in enumerate(cells)
        )
        tabled = "".join(f'<td class="num">{n}</td>' for _, n in cells)
        rows.append(
            {
                "code": code,
                "text_y": y + CELL - 8,
                "drawn": mark_safe(drawn),  # numbers and the escaped code only
                "tabled": mark_safe(tabled),  # counts only
            }
        )
    hours = [
        {"x": LABEL_WIDTH // 2 + c * CELL + CELL // 2, "hour": hour}
        for c, hour in enumerate(station_hours["hours"])
    ]
    return {
        "rows": rows,
        "hours": hours,
        "width": LABEL_WIDTH // 2 + len(hours) * CELL + 4,
        "height": (len(rows) + 1) * CELL + 4,
        "label_x": LABEL_WIDTH // 2 - 6,
    }


def charts(data: dict) -> dict:
    value = data["value"]
    return {
        "received": bar_chart(
            [(date_format(day, "D j M"), n) for day, n in data["received_per_day"]],
            gettext("Units received"),
        ),
        "completed": bar_chart(
            [(date_format(day, "D j M"), n) for day, n in data["completed_per_day"]],
            gettext("Units completed"),
        ),
        "grades": bar_chart(data["grade_mix"], gettext("Grade mix")),
        "outcomes": bar_chart(data["disposition_mix"], gettext("Disposition mix")),
        "value": bar_chart(
            [
                (gettext("Value returned"), value["returned"]),
                (gettext("Value recovered"), value["recovered"]),
            ],
            gettext("Value recovered against value returned"),
        ),
        "reasons": bar_chart(
            [(row["label"], row["n"]) for row in data["top_reasons"]], gettext("Top return reasons")
        ),
        "station_hours": [
            {
                "title": title,
                "empty": empty,
                **heat_grid(data["station_hours"][work]),
            }
            for work, title, empty in (
                (
                    "received",
                    gettext("Units received per station and hour"),
                    gettext("Nothing received in this period."),
                ),
                (
                    "graded",
                    gettext("Units graded per station and hour"),
                    gettext("Nothing graded in this period."),
                ),
                (
                    "decided",
                    gettext("Units decided per station and hour"),
                    gettext("Nothing decided in this period."),
                ),
            )
        ],
    }
