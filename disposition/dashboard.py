"""The supervisor dashboard's figures for a period and a site, and the charts that draw them.

Every figure is a handful of grouped queries over indexed timestamps; none loads a whole table.
Definitions (tests check them against hand-computed fixtures):
- received: units labelled at receiving in the period; per day and per station and hour.
- completed: units whose disposition took effect in the period (an event to 'disposed').
- grade mix: current (unsuperseded) grades given in the period.
- disposition mix, value, receipt to disposition: decisions made in the period that took
  effect (decided, or completed by a repair), by the unit's receiving site.
- value returned: what customers paid for those units; value recovered: the unit value of
  those sent back to sale (RECOVERING outcomes).
- receipt to disposition: hours from receipt to decision; median, and the 90th percentile by
  nearest rank.
- recall completion: per recall program, units received against units authorised on RMAs
  issued up to the period's end (cancelled RMAs left out).
- refunds: refund instructions written in the period, by status.
"""

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from inspection.models import Inspection
from returns_desk.models import ItemEvent, Program, ReturnAuthorization, ReturnItem, RMALine, Site

from .models import Disposition, Outcome, RefundInstruction

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

    def within(self, field: str, site_path: str | None) -> Q:
        """Rows whose `field` falls in the period, at the site (through `site_path`) if one."""
        q = Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})
        if self.site and site_path:
            q &= Q(**{site_path: self.site})
        return q


def nearest_rank(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


def _per_day(period: Period, rows) -> list[tuple[date, int]]:
    counts = {row["day"]: row["n"] for row in rows}
    return [(day, counts.get(day, 0)) for day in period.days()]


def received(period: Period):
    return ReturnItem.objects.filter(period.within("received_at", "station__site"))


def received_per_day(period: Period) -> list[tuple[date, int]]:
    rows = (
        received(period)
        .annotate(day=TruncDate("received_at", tzinfo=period.tz))
        .values("day")
        .annotate(n=Count("pk"))
    )
    return _per_day(period, rows)


def completed_per_day(period: Period) -> list[tuple[date, int]]:
    rows = (
        ItemEvent.objects.filter(
            period.within("created_at", "item__station__site"),
            to_status=ReturnItem.Status.DISPOSED,
        )
        .annotate(day=TruncDate("created_at", tzinfo=period.tz))
        .values("day")
        .annotate(n=Count("pk"))
    )
    return _per_day(period, rows)


def received_per_station_hour(period: Period) -> dict:
    """{"hours": [..], "rows": [(station code, [count per hour])]}, busy hours only."""
    rows = (
        received(period)
        .annotate(hour=ExtractHour("received_at", tzinfo=period.tz))
        .values("station__code", "hour")
        .annotate(n=Count("pk"))
    )
    grid: dict[str, dict[int, int]] = {}
    for row in rows:
        grid.setdefault(row["station__code"], {})[row["hour"]] = row["n"]
    hours = sorted({hour for counts in grid.values() for hour in counts})
    hours = list(range(hours[0], hours[-1] + 1)) if hours else []
    return {
        "hours": hours,
        "rows": [(code, [grid[code].get(h, 0) for h in hours]) for code in sorted(grid)],
    }


def grade_mix(period: Period) -> list[tuple[str, int]]:
    rows = (
        Inspection.objects.filter(
            period.within("finished_at", "item__station__site"), superseded=False
        )
        .values("grade_code")
        .annotate(n=Count("pk"))
        .order_by("grade_code")
    )
    return [(row["grade_code"], row["n"]) for row in rows]


def decisions(period: Period):
    return Disposition.objects.filter(
        period.within("decided_at", "item__station__site"), status__in=TOOK_EFFECT
    )


def disposition_mix(period: Period) -> list[tuple[str, int]]:
    rows = decisions(period).values("chosen_outcome").annotate(n=Count("pk")).order_by("-n")
    return [(Outcome(row["chosen_outcome"]).label, row["n"]) for row in rows]


def value(period: Period) -> dict[str, Decimal]:
    totals = decisions(period).aggregate(
        returned=Sum("item__rma_line__price_paid"),
        recovered=Sum("item__product__unit_value", filter=Q(chosen_outcome__in=RECOVERING)),
    )
    return {name: total or Decimal(0) for name, total in totals.items()}


def receipt_to_disposition_hours(period: Period) -> dict[str, float | None]:
    spans = decisions(period).values_list("decided_at", "item__received_at")
    hours = [(decided - received).total_seconds() / 3600 for decided, received in spans]
    return {
        "count": len(hours),
        "median": statistics.median(hours) if hours else None,
        "p90": nearest_rank(hours, 90),
    }


def _pareto(rows, label) -> list[dict]:
    total = sum(row["n"] for row in rows)
    running, result = 0, []
    for row in rows[:TOP]:
        running += row["n"]
        result.append(
            {"label": label(row), "n": row["n"], "cumulative": round(100 * running / total)}
        )
    return result


def top_reasons(period: Period) -> list[dict]:
    rows = list(
        received(period)
        .filter(rma_line__isnull=False)
        .values("rma_line__reason__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "rma_line__reason__name")
    )
    return _pareto(rows, lambda row: row["rma_line__reason__name"])


def top_reasons_by_sku(period: Period) -> list[dict]:
    rows = list(
        received(period)
        .filter(rma_line__isnull=False)
        .values("product__sku", "rma_line__reason__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "product__sku", "rma_line__reason__name")
    )
    return _pareto(rows, lambda row: f"{row['product__sku']} · {row['rma_line__reason__name']}")


def recall_completion(period: Period) -> list[dict]:
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


def refunds(period: Period) -> list[dict]:
    rows = (
        RefundInstruction.objects.filter(period.within("created_at", "item__station__site"))
        .values("status")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    )
    by_status = {row["status"]: row for row in rows}
    return [
        {
            "status": label,
            "n": by_status.get(status, {}).get("n", 0),
            "amount": by_status.get(status, {}).get("amount") or Decimal(0),
        }
        for status, label in RefundInstruction.Status.choices
    ]


def figures(period: Period) -> dict:
    return {
        "received_per_day": received_per_day(period),
        "completed_per_day": completed_per_day(period),
        "station_hours": received_per_station_hour(period),
        "grade_mix": grade_mix(period),
        "disposition_mix": disposition_mix(period),
        "value": value(period),
        "lead_time": receipt_to_disposition_hours(period),
        "top_reasons": top_reasons(period),
        "top_reasons_by_sku": top_reasons_by_sku(period),
        "recalls": recall_completion(period),
        "refunds": refunds(period),
    }


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
    """Cells per station and hour, shaded by count (fill-opacity, a presentation attribute)."""
    top = max((n for _, counts in station_hours["rows"] for n in counts), default=0) or 1
    rows = [
        {
            "code": code,
            "y": (r + 1) * CELL,
            "text_y": (r + 1) * CELL + CELL - 8,
            "cells": [
                {"x": LABEL_WIDTH // 2 + c * CELL, "n": n, "opacity": round(0.1 + 0.9 * n / top, 2)}
                for c, n in enumerate(counts)
            ],
        }
        for r, (code, counts) in enumerate(station_hours["rows"])
    ]
    hours = [
        {"x": LABEL_WIDTH // 2 + c * CELL + CELL // 2, "hour": hour}
        for c, hour in enumerate(station_hours["hours"])
    ]
    return {
        "rows": rows,
        "hours": hours,
        "cell": CELL - 2,
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
        "station_hours": heat_grid(data["station_hours"]),
    }
