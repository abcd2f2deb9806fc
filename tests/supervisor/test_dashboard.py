"""Dashboard figures against a small day worked out by hand."""

import importlib
import math
import random
import re
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disposition import dashboard
from disposition import services as disposition
from disposition.models import DashboardDay, DashboardHour, Disposition, RefundInstruction
from returns_desk.models import ItemEvent, ReturnItem, RMALine, Site
from tests.conftest import client_at_station
from tests.factories import (
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    SiteFactory,
    StationFactory,
    make_rma,
    make_unit_at,
)

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
# 08:00 in London (GMT in March): decisions up to ten hours later stay on the same day.
MORNING = datetime(2026, 3, 10, 8, 0, tzinfo=ZoneInfo("Europe/London"))
# 15:20 that day: the hours up to 15:00 are over, decision b's time (18:00) is still ahead.
AFTERNOON = MORNING.replace(hour=15, minute=20)


@pytest.fixture
def day(make_inspected, rules, config, station, clerk):
    """Six units received at London, one at Manchester, on 10 March 2026 at 08:00.

    | unit | grade | price | value | decision              | hours to decision |
    | a    | A     | 40    | 50    | restock (refund 40)   | 2                 |
    | x    | X     | 30    | 20    | recycle (refund 0)    | 6                 |
    | b    | B     | 20    | 30    | liquidate (refund 20) | 10                |
    | c    | C     | 10    | 50    | none yet (defect)     |                   |
    | o    | A     | 100   | 250   | override waits        | (refund 100 pending) |
    | r    | -     |       |       | received only         |                   |
    """
    with time_machine.travel(MORNING, tick=False):
        decided = {}
        for name, grade, price, value in [
            ("a", "A", "40.00", "50.00"),
            ("x", "X", "30.00", "20.00"),
            ("b", "B", "20.00", "30.00"),
        ]:
            unit = make_inspected(grade, price=price, value=value)
            decided[name], _ = disposition.decide_disposition(
                item=unit, station=station, user=clerk
            )
        make_inspected("C", price="10.00", reason=ReasonFactory(code="defect", name="Defect"))
        disposition.decide_disposition(
            item=make_inspected("A", price="100.00", value="250.00"),
            station=station,
            user=clerk,
            outcome="liquidate",
            override_reason="worse_than_graded",
        )
        make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)
        manchester = StationFactory(code="MAN-01", site=SiteFactory(code="man", name="Manchester"))
        make_unit_at(ReturnItem.Status.RECEIVED, station=manchester, user=clerk)
    for name, hours in [("a", 2), ("x", 6), ("b", 10)]:
        Disposition.objects.filter(pk=decided[name].pk).update(
            decided_at=MORNING + timedelta(hours=hours)
        )
    recall = make_rma(
        (ProductFactory(), 3),
        (ProductFactory(), 1),
        program=ProgramFactory(code="recall-kettle", name="Kettle recall", kind="recall"),
        issued_on=DAY - timedelta(days=2),
    )
    RMALine.objects.filter(rma=recall, line_no=1).update(quantity_received=1)
    return dashboard.Period(since=DAY, until=DAY, site=Site.objects.get(code="lon"))


def test_received_and_completed_per_day(day):
    assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
    assert dashboard.figures(day)["completed_per_day"] == [(DAY, 3)]
    every_site = dashboard.Period(since=DAY - timedelta(days=1), until=DAY)
    assert dashboard.figures(every_site)["received_per_day"] == [
        (DAY - timedelta(days=1), 0),
        (DAY, 7),
    ]


def test_received_graded_and_decided_per_station_and_hour(day):
    # Decision b (18:00) was taken at the other inspection station, a (10:00) recorded without
    # one; the override waits.
    Disposition.objects.filter(chosen_outcome="liquidate", status="decided").update(
        station=StationFactory(code="INS-02")
    )
    Disposition.objects.filter(chosen_outcome="restock").update(station=None)
    station_hours = dashboard.figures(day)["station_hours"]

    span = list(range(8, 19))  # the hours any of the three was busy, the same for all three

    def row(code: str, **counts: int) -> tuple[str, list[int]]:
        return code, [counts.get(f"h{hour}", 0) for hour in span]

    assert station_hours["received"] == {"hours": span, "rows": [row("RCV-01", h8=6)]}
    assert station_hours["graded"] == {"hours": span, "rows": [row("RCV-01", h8=5)]}
    assert station_hours["decided"] == {
        "hours": span,
        "rows": [row("", h10=1), row("INS-02", h18=1), row("RCV-01", h14=1)],
    }
    drawn = dashboard.charts(dashboard.figures(day))["station_hours"][2]
    assert [grid_row["code"] for grid_row in drawn["rows"]] == ["—", "INS-02", "RCV-01"]


def test_grade_and_disposition_mix(day):
    assert dashboard.figures(day)["grade_mix"] == [("A", 2), ("B", 1), ("C", 1), ("X", 1)]
    assert sorted(dashboard.figures(day)["disposition_mix"]) == [
        ("Liquidate", 1),
        ("Recycle", 1),
        ("Restock", 1),
    ]


def test_value_recovered_against_value_returned(day):
    # Returned: 40 + 30 + 20 paid for the decided units; recovered: restock 50 + liquidate 30.
    assert dashboard.figures(day)["value"] == {
        "returned": Decimal("90.00"),
        "recovered": Decimal("80.00"),
    }


def test_time_from_receipt_to_disposition(day):
    assert dashboard.figures(day)["lead_time"] == {"count": 3, "median": 6.0, "p90": 10.0}


@pytest.mark.parametrize("seed", range(4))
def test_lead_times_split_into_sorted_runs_give_the_exact_median_and_nearest_rank_p90(seed):
    rng = random.Random(seed)
    for n in range(1, 80):  # odd and even counts
        # Few distinct values, so many repeat; a clock a second behind can make one negative.
        values = [rng.randint(-1, 30) * rng.choice((1, 600, 3600)) for _ in range(n)]
        cuts = sorted(rng.randint(0, n) for _ in range(rng.randint(0, 8)))
        runs = [
            dashboard.unpack_run(dashboard.pack_run(values[start:end]))
            for start, end in zip([0, *cuts], [*cuts, n], strict=True)
        ] + [dashboard.unpack_run(dashboard.pack_run([]))]

        assert dashboard.lead_time(runs) == {
            "count": n,
            "median": statistics.median(values) / 3600,
            "p90": sorted(values)[math.ceil(0.9 * n) - 1] / 3600,
        }


def test_no_lead_time_has_no_median():
    assert dashboard.lead_time([dashboard.unpack_run(dashboard.pack_run([]))]) == {
        "count": 0,
        "median": None,
        "p90": None,
    }


def test_top_return_reasons_as_a_pareto(day):
    assert dashboard.figures(day)["top_reasons"] == [
        {"label": "Changed mind", "n": 5, "cumulative": 83},
        {"label": "Defect", "n": 1, "cumulative": 100},
    ]
    by_sku = dashboard.figures(day)["top_reasons_by_sku"]
    assert [row["n"] for row in by_sku] == [1] * 6
    assert by_sku[-1]["cumulative"] == 100


def test_recall_completion_counts_units_returned_against_authorised(day):
    every_site = dashboard.Period(since=DAY, until=DAY)
    assert dashboard.figures(every_site)["recalls"] == [
        {"program": "Kettle recall", "authorised": 4, "returned": 1, "percent": 25}
    ]


def test_recall_completion_is_recounted_by_the_rollup_job_not_by_the_dashboard(
    day, django_assert_num_queries
):
    every_site = dashboard.Period(since=DAY, until=DAY)
    with time_machine.travel(AFTERNOON, tick=False):
        call_command("rollup_dashboard", "--days", "1", stdout=StringIO())
        with django_assert_num_queries(1):  # the cache read, no count
            assert dashboard.recall_completion(every_site)[0]["returned"] == 1

        RMALine.objects.filter(rma__program__code="recall-kettle", line_no=2).update(
            quantity_received=1
        )
        assert dashboard.recall_completion(every_site)[0]["returned"] == 1
        call_command("rollup_dashboard", "--days", "1", stdout=StringIO())
        assert dashboard.recall_completion(every_site)[0] == {
            "program": "Kettle recall",
            "authorised": 4,
            "returned": 2,
            "percent": 50,
        }


def test_a_recall_figure_past_its_time_is_counted_once_while_the_others_show_the_last_one(
    day, django_assert_max_num_queries
):
    """Without the cron job, every request of the moment it expired counted it at once: at a
    million units that queued the whole dashboard behind half-second counts."""
    every_site = dashboard.Period(since=DAY, until=DAY)
    with time_machine.travel(AFTERNOON, tick=False) as clock:
        assert dashboard.recall_completion(every_site)[0]["returned"] == 1
        RMALine.objects.filter(rma__program__code="recall-kettle", line_no=2).update(
            quantity_received=1
        )
        clock.shift(timedelta(seconds=dashboard.RECALL_SECONDS + 1))
        recounting = cache.add(
            f"{dashboard._recall_key(every_site)}:recounting",
            True,
            60,
            version=dashboard.SHARED_VERSION,
        )  # as the first request to find it old does

        with django_assert_max_num_queries(1):  # the figure and the recount's mark, no count
            assert recounting and dashboard.recall_completion(every_site)[0]["returned"] == 1
        cache.delete(
            f"{dashboard._recall_key(every_site)}:recounting", version=dashboard.SHARED_VERSION
        )
        assert dashboard.recall_completion(every_site)[0]["returned"] == 2


def test_figures_shared_by_the_previous_release_are_neither_read_nor_a_failure(day):
    """While a deployment runs, old and new workers share one cache: the old ones kept the
    figures alone, not with the time they stay fresh."""
    every_site = dashboard.Period(since=DAY, until=DAY)
    cache.set(dashboard._recall_key(every_site), [{"program": "Old", "percent": 1}], 600)

    assert dashboard.recall_completion(every_site)[0]["program"] == "Kettle recall"


def test_refund_totals_pending_and_released(day):
    assert dashboard.figures(day)["refunds"] == [
        {"status": "Pending", "n": 1, "amount": Decimal("100.00")},
        {"status": "Released", "n": 3, "amount": Decimal("60.00")},
        {"status": "Exported", "n": 0, "amount": Decimal(0)},
    ]


def test_the_dashboard_page_draws_the_figures_as_svg(supervisor_client, day):
    response = supervisor_client.get(
        "/supervisor/", {"since": DAY.isoformat(), "until": DAY.isoformat(), "site": day.site.pk}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") >= 6 and "style=" not in html
    assert '<strong class="value-recovered">80.00</strong>' in html
    assert '<strong class="lead-median">6.0 h</strong>' in html
    # Work per station and hour: received, graded, decided, each cell named by its real hour.
    for work in ("received", "graded", "decided"):
        assert f'aria-label="Units {work} per station and hour"' in html
    assert "<title>RCV-01, 8h: 6</title>" in html and "<title>RCV-01, 14h: 1</title>" in html


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_charts_are_drawn_the_same_in_a_language_that_writes_decimal_commas(
    supervisor_client, day, language
):
    # SVG reads numbers the C way: a shade written "0,55" is no shade at all.
    response = supervisor_client.get(
        "/supervisor/",
        {"since": DAY.isoformat(), "until": DAY.isoformat(), "site": day.site.pk},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    html = response.content.decode()
    shades = re.findall(r'fill-opacity="([^"]*)"', html)
    assert shades and all(0 < float(shade) <= 1 for shade in shades)
    geometry = re.findall(r' (?:x|y|width|height)="([^"]*)"', html)
    assert geometry and all(value.isdigit() for value in geometry)


def test_the_dashboard_refuses_a_backwards_period(supervisor_client):
    response = supervisor_client.get("/supervisor/", {"since": "2026-03-10", "until": "2026-03-01"})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_the_dashboard_refuses_a_period_in_a_mistyped_year(supervisor_client):
    response = supervisor_client.get("/supervisor/", {"since": "9999-12-25", "until": "9999-12-31"})

    assert response.status_code == 400
    assert "date no later than" in response.content.decode()


def test_a_clerk_cannot_see_the_dashboard(clerk_client):
    assert clerk_client.get("/supervisor/").status_code == 403


def test_the_dashboard_costs_a_fixed_number_of_queries(
    supervisor_client, day, django_assert_max_num_queries
):
    # The first showing of the week rolls up its six finished days (one set of grouped
    # queries for all six) and today's finished hours (another), and caches the recall figures;
    # later ones read them back, and the rest of today as counted within the last 30 s. Each
    # also counts the customer e-mails in trouble. Time stands still, so no hour ends between
    # the two.
    with time_machine.travel(AFTERNOON, tick=False):
        with django_assert_max_num_queries(51):
            supervisor_client.get("/supervisor/")
        with django_assert_max_num_queries(9):
            supervisor_client.get("/supervisor/")


# Finished days are rolled up once and read back; today is live; a late change drops a roll-up.


def _live(period):
    return dashboard.summarise(period, dashboard.live_parts(period))


def test_a_rolled_up_week_shows_what_a_live_count_shows(day, make_inspected, station, clerk):
    make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)  # today, at London
    with time_machine.travel(MORNING - timedelta(days=3), tick=False):
        disposition.decide_disposition(item=make_inspected("B"), station=station, user=clerk)
    today = date.today()
    for site in (day.site, None):
        period = dashboard.Period(
            since=DAY - timedelta(days=4), until=DAY + timedelta(1), site=site
        )
        assert dashboard.figures(period) == _live(period)
        assert dashboard.figures(period) == _live(period)  # read back from the roll-ups
        week = dashboard.Period(since=today - timedelta(days=6), until=today, site=site)
        assert dashboard.figures(week) == _live(week)
    stored = DashboardDay.objects.filter(site=day.site).values_list("day", flat=True)
    assert set(stored) == {DAY + timedelta(n) for n in range(-4, 2)} | {
        today - timedelta(n) for n in range(1, 7)
    }
    assert dashboard.figures(week)["received_per_day"][-1] == (today, 1)


def test_live_parts_counted_by_code_of_another_format_are_never_read(day, monkeypatch):
    # A deployment: old code, still serving, counts today's live parts in its own shape into
    # the shared cache; the new code's dashboard must count its own instead of reading them.
    share = dashboard._share

    def share_in_the_old_shape(key, value, seconds):
        if key.startswith("dashboard-live"):  # receipts per station and hour, nothing else
            old = {at: parts | {"hours": {"RCV-01": {"8": 6}}} for at, parts in value.items()}
            share(key, old, seconds)
            return value
        return share(key, value, seconds)

    with time_machine.travel(AFTERNOON, tick=False):
        with monkeypatch.context() as old_code:
            old_code.setattr(dashboard, "FORMAT", dashboard.FORMAT - 1)
            old_code.setattr(dashboard, "_share", share_in_the_old_shape)
            dashboard.figures(day)

        assert dashboard.figures(day) == _live(day)


def _earlier_format(figures: dict) -> dict:
    """Figures as code before FORMAT 2 stored them: lead times a plain list, no format."""
    old = {key: value for key, value in figures.items() if key not in ("format", "lead_runs")}
    return old | {"received": 99, "lead_seconds": [1]}


def test_a_roll_up_stored_in_an_earlier_format_is_made_again_never_read(day):
    # Old code still serving while the migration that drops its roll-ups runs writes more.
    with time_machine.travel(AFTERNOON, tick=False):
        dashboard.figures(day)
        for hour in DashboardHour.objects.all():
            hour.figures = _earlier_format(hour.figures)
            hour.save()

        assert dashboard.figures(day) == _live(day)
        assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
        assert {hour.figures["format"] for hour in DashboardHour.objects.all()} == {
            dashboard.FORMAT
        }
    dashboard.figures(day)
    stored = DashboardDay.objects.get(site=day.site, day=DAY)
    stored.figures = _earlier_format(stored.figures)
    stored.save()

    assert dashboard.figures(day)["lead_time"] == {"count": 3, "median": 6.0, "p90": 10.0}
    assert DashboardDay.objects.get(site=day.site, day=DAY).figures["format"] == dashboard.FORMAT


def test_a_worker_reads_back_only_the_tokens_of_the_roll_ups_it_has_decoded(day):
    """At a million units a week's roll-ups are 300 KB of JSON to decode on every showing."""
    week = dashboard.Period(since=DAY - timedelta(days=6), until=DAY, site=day.site)
    shown = dashboard.figures(week)

    with CaptureQueriesContext(connection) as reads:
        assert dashboard.figures(week) == shown
    whole_figures = [q["sql"] for q in reads if re.search(r'"figures" FROM', q["sql"])]
    assert whole_figures == []


def test_a_roll_up_made_again_by_another_worker_is_read_afresh(day):
    """A worker keeps what it decoded by the row's token; a row dropped and made again by
    another worker carries a new token, so this one never shows its old figures."""
    assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
    stored = DashboardDay.objects.get(site=day.site, day=DAY)
    remade = stored.figures | {"received": 7, "token": "made-by-another-worker"}
    stored.delete()
    DashboardDay.objects.create(site=day.site, day=DAY, figures=remade)

    assert dashboard.figures(day)["received_per_day"] == [(DAY, 7)]


def test_the_upgrade_to_sorted_lead_time_runs_drops_every_stored_roll_up(day):
    with time_machine.travel(AFTERNOON, tick=False):
        dashboard.figures(dashboard.Period(since=DAY - timedelta(days=1), until=DAY))
    assert DashboardDay.objects.exists() and DashboardHour.objects.exists()

    importlib.import_module("disposition.migrations.0014_dashboard_lead_runs").drop_rollups(
        apps, None
    )

    assert not DashboardDay.objects.exists() and not DashboardHour.objects.exists()


def test_a_day_is_rolled_up_only_once_it_is_over(day):
    just_after = MORNING.replace(hour=0) + timedelta(days=1, minutes=5)
    with time_machine.travel(just_after, tick=False):
        assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
        assert not DashboardDay.objects.exists()
    with time_machine.travel(just_after + dashboard.GRACE, tick=False):
        assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
        assert DashboardDay.objects.filter(site=day.site, day=DAY).exists()


def test_an_approval_after_the_roll_up_counts_on_the_day_of_the_decision(day, supervisor):
    assert dashboard.figures(day)["lead_time"]["count"] == 3
    waiting = Disposition.objects.get(status=Disposition.Status.AWAITING_APPROVAL)

    disposition.approve_override(disposition=waiting, user=supervisor)

    assert dashboard.figures(day)["lead_time"]["count"] == 4
    assert ("Liquidate", 2) in dashboard.figures(day)["disposition_mix"]
    assert dashboard.figures(day) == _live(day)


@pytest.fixture
def londons_received_unit(day, station):
    # The period's site's: Manchester's was received at the same moment.
    return ReturnItem.objects.get(status=ReturnItem.Status.RECEIVED, station=station)


def test_a_back_dated_event_drops_the_roll_up_of_its_day(day, clerk, londons_received_unit):
    assert dashboard.figures(day)["completed_per_day"] == [(DAY, 3)]
    unit = londons_received_unit

    ItemEvent.objects.create(
        item=unit,
        action="imported",
        to_status=ReturnItem.Status.DISPOSED,
        user=clerk,
        created_at=MORNING + timedelta(hours=3),
    )

    assert dashboard.figures(day)["completed_per_day"] == [(DAY, 4)]


def test_refunds_exported_after_the_roll_up_count_as_exported(day, clerk):
    assert dashboard.figures(day)["refunds"][1] == {
        "status": "Released",
        "n": 3,
        "amount": Decimal("60.00"),
    }

    disposition.export_refunds(
        refunds=list(RefundInstruction.objects.filter(status="released")), user=clerk
    )

    released, exported = dashboard.figures(day)["refunds"][1:]
    assert (released["n"], exported["n"], exported["amount"]) == (0, 3, Decimal("60.00"))


# Today adds up the roll-ups of its hours that ended at least GRACE ago and counts the rest live.


def test_today_shows_what_a_live_count_shows_before_and_after_its_hours_are_rolled_up(day):
    with time_machine.travel(AFTERNOON, tick=False):
        for site in (day.site, None):
            period = dashboard.Period(since=DAY - timedelta(days=6), until=DAY, site=site)
            assert not DashboardHour.objects.filter(site=site).exists()
            assert dashboard.figures(period) == _live(period)
            assert DashboardHour.objects.filter(site=site).count() == 15  # 00:00 to 15:00
            assert dashboard.figures(period) == _live(period)  # read back from the roll-ups
        assert dashboard.figures(day)["lead_time"] == {"count": 3, "median": 6.0, "p90": 10.0}


def test_the_last_hour_is_counted_once_for_every_supervisor_and_at_most_30_s_old(
    day, station, clerk, django_assert_max_num_queries
):
    today = dashboard.Period(since=DAY, until=DAY, site=day.site)
    with time_machine.travel(AFTERNOON, tick=False) as clock:
        received = dashboard.parts(today)[DAY]["received"]
        make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)

        with django_assert_max_num_queries(3):  # two roll-up reads and the cached live part
            assert dashboard.parts(today)[DAY]["received"] == received
        clock.shift(timedelta(seconds=31))
        assert dashboard.parts(today)[DAY]["received"] == received + 1


def test_an_hour_is_rolled_up_only_once_it_ended_grace_ago(day):
    with time_machine.travel(AFTERNOON.replace(minute=5), tick=False):
        assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
        assert DashboardHour.objects.filter(site=day.site).count() == 14  # 14:00-15:00 is live
    with time_machine.travel(AFTERNOON.replace(minute=10), tick=False):
        assert dashboard.figures(day)["received_per_day"] == [(DAY, 6)]
        assert DashboardHour.objects.filter(site=day.site).count() == 15


def test_today_reads_its_rolled_up_hours_back_in_two_queries(day, django_assert_max_num_queries):
    week = dashboard.Period(since=DAY - timedelta(days=6), until=DAY, site=day.site)
    with time_machine.travel(AFTERNOON, tick=False):
        dashboard.parts(week)
        # The finished days, today's finished hours, then seven grouped queries over the rest.
        with django_assert_max_num_queries(9):
            assert dashboard.parts(week)[DAY]["received"] == 6


def test_a_back_dated_event_drops_the_roll_up_of_its_hour(day, clerk, londons_received_unit):
    with time_machine.travel(AFTERNOON, tick=False):
        assert dashboard.figures(day)["completed_per_day"] == [(DAY, 3)]
        unit = londons_received_unit

        ItemEvent.objects.create(
            item=unit,
            action="imported",
            to_status=ReturnItem.Status.DISPOSED,
            user=clerk,
            created_at=MORNING + timedelta(hours=3, minutes=59),
        )

        assert dashboard.figures(day)["completed_per_day"] == [(DAY, 4)]
        assert dashboard.figures(day) == _live(day)


def test_hours_run_on_from_midnight_in_a_half_hour_zone(clerk):
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours end at half past, UTC
    station = StationFactory(code="DEL-01", site=SiteFactory(code="del", time_zone="Asia/Kolkata"))
    for minutes in (10 * 60 + 15, 10 * 60 + 45, 11 * 60 + 20):
        with time_machine.travel(
            datetime.combine(DAY, datetime.min.time(), kolkata) + timedelta(minutes=minutes),
            tick=False,
        ):
            make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)
    period = dashboard.Period(since=DAY, until=DAY, site=station.site)

    with time_machine.travel(datetime(2026, 3, 10, 11, 50, tzinfo=kolkata), tick=False):
        figures = dashboard.figures(period)

        assert figures == _live(period)
        assert figures["station_hours"]["received"] == {
            "hours": [10, 11],
            "rows": [("DEL-01", [2, 1])],
        }
        hours = DashboardHour.objects.filter(site=station.site).order_by("starts_at")
        assert [hour.starts_at.astimezone(kolkata).hour for hour in hours] == list(range(11))
        assert hours.last().figures["received"] == 2


def test_the_hour_a_clock_change_repeats_is_rolled_up_as_two_hours(station, clerk):
    # 25 October 2026: London's clocks go back from 02:00 BST to 01:00 GMT; 01:30 comes twice.
    autumn = date(2026, 10, 25)
    for hour in (0, 1):
        with time_machine.travel(datetime(2026, 10, 25, hour, 30, tzinfo=UTC), tick=False):
            make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)
    period = dashboard.Period(since=autumn, until=autumn, site=station.site)

    with time_machine.travel(datetime(2026, 10, 25, 3, 0, tzinfo=UTC), tick=False):
        assert dashboard.figures(period) == _live(period)
        stored = DashboardHour.objects.filter(site=station.site)
        assert {row.starts_at: row.figures["received"] for row in stored} == {
            datetime(2026, 10, 24, 23, tzinfo=UTC): 0,  # midnight BST
            datetime(2026, 10, 25, 0, tzinfo=UTC): 1,  # 01:00 BST
            datetime(2026, 10, 25, 1, tzinfo=UTC): 1,  # 01:00 GMT
        }


def test_hours_are_deleted_once_their_day_is_rolled_up_and_two_days_old(day):
    with time_machine.travel(AFTERNOON, tick=False):
        dashboard.figures(day)
    with time_machine.travel(AFTERNOON + timedelta(days=2), tick=False):
        dashboard.figures(dashboard.Period(since=DAY, until=DAY + timedelta(days=2), site=day.site))

        assert not DashboardHour.objects.filter(starts_at__lt=AFTERNOON).exists()
        assert DashboardHour.objects.exists()  # today's, at this later date


def test_rollup_dashboard_rebuild_counts_an_hour_again_after_a_bulk_load(
    day, clerk, londons_received_unit
):
    unit = londons_received_unit
    with time_machine.travel(AFTERNOON, tick=False):
        call_command("rollup_dashboard", stdout=StringIO())
        # bulk_create sends no signals, as when seed_bench or SQL loads rows.
        ItemEvent.objects.bulk_create(
            [
                ItemEvent(
                    item=unit,
                    action="imported",
                    to_status=ReturnItem.Status.DISPOSED,
                    user=clerk,
                    created_at=MORNING + timedelta(hours=3),
                )
            ]
        )
        assert dashboard.figures(day)["completed_per_day"] == [(DAY, 3)]

        call_command("rollup_dashboard", "--rebuild", stdout=StringIO())

        assert DashboardHour.objects.filter(site=day.site).count() == 15
        assert dashboard.figures(day)["completed_per_day"] == [(DAY, 4)]


def test_the_dashboard_opens_on_the_supervisors_own_sites_today(client, supervisor, settings):
    """At 23:30 in London (the installation's zone) it is already the next day in Auckland."""
    settings.TIME_ZONE = "Europe/London"
    auckland = StationFactory(
        code="RCV-AKL",
        site=SiteFactory(code="akl", name="Auckland DC", time_zone="Pacific/Auckland"),
    )
    client_at_station(client, supervisor, auckland)

    with time_machine.travel(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), tick=False):
        page = client.get("/supervisor/").content.decode()

    assert 'name="until" value="2026-03-11"' in page
