"""A fresh demo shows a warehouse at work: two weeks of it, done through the services."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from disposition import dashboard
from disposition.models import Lot
from returns_desk.demo import HAND_MADE_RMAS
from returns_desk.models import (
    ItemEvent,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    Station,
)

pytestmark = pytest.mark.django_db

# A Wednesday afternoon in London: the Sunday before is in the week the dashboard shows.
LOADED_AT = datetime(2026, 3, 11, 15, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def demo():
    with time_machine.travel(LOADED_AT, tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()


def test_the_supervisor_finds_work_waiting_in_every_queue(demo, client):
    client.force_login(User.objects.get(username="supervisor"))
    waiting = {
        "awaiting_inspection": ReturnItem.objects.filter(status="received"),
        "awaiting_approval": ReturnItem.objects.filter(status="awaiting_approval"),
        "repairs": ReturnItem.objects.filter(status="in_repair"),
    }
    for key, units in waiting.items():
        page = client.get(reverse("supervisor:queue", args=[key])).content.decode()
        lpns = list(units.values_list("lpn", flat=True))
        assert lpns, f"nothing waits in {key}"
        assert any(lpn in page for lpn in lpns), key
    page = client.get(reverse("supervisor:queue", args=["open_lots"])).content.decode()
    open_lots = Lot.objects.filter(status="open").values_list("code", flat=True)
    assert any(code in page for code in open_lots)
    open_exceptions = ReceivingException.objects.filter(status="open").select_related(
        "item", "parcel"
    )
    assert open_exceptions
    page = client.get(reverse("supervisor:queue", args=["exceptions"])).content.decode()
    assert any(
        (exception.item.lpn if exception.item else exception.parcel.scanned_code) in page
        for exception in open_exceptions
    )


def test_the_dashboard_week_has_receipts_on_every_working_day_and_a_mix_of_grades(demo):
    today = LOADED_AT.date()
    week = dashboard.figures(dashboard.Period(since=today - timedelta(6), until=today))
    received = dict(week["received_per_day"])
    assert received[today - timedelta(3)] == 0  # Sunday
    assert all(n > 0 for day, n in received.items() if day.weekday() != 6)
    assert len(week["grade_mix"]) >= 4
    assert len(week["disposition_mix"]) >= 4
    assert week["value"]["recovered"] > 0


def test_every_unit_history_runs_forward_in_working_hours_up_to_the_moment_of_loading(demo):
    events = ItemEvent.objects.exclude(item=None).select_related("station__site")
    events = events.order_by("item", "pk")
    assert events.count() > 500
    last = {}
    for event in events:
        assert event.created_at <= LOADED_AT
        assert event.created_at >= last.get(event.item_id, event.created_at)
        last[event.item_id] = event.created_at
        if event.station:  # a supervisor's approvals and lots are done from the office
            local = timezone.localtime(event.created_at, ZoneInfo(event.station.site.time_zone))
            assert local.weekday() != 6 and 8 <= local.hour < 18, (event.action, local)
    assert min(e.created_at for e in events) < LOADED_AT - timedelta(days=12)


def test_the_readme_stations_and_rmas_are_left_for_the_reader_to_try(demo):
    london = Station.objects.filter(site__code="lon", code__in=["RCV-01", "INS-01", "MIX-01"])
    assert len(london) == 3
    assert not ItemEvent.objects.filter(station__in=london).exists()
    hand_made = ReturnAuthorization.objects.filter(number__in=[s.number for s in HAND_MADE_RMAS])
    assert not ReturnItem.objects.filter(rma_line__rma__in=hand_made).exists()


def test_loading_again_adds_nothing_and_the_integrity_checks_pass(demo):
    units, events = ReturnItem.objects.count(), ItemEvent.objects.count()
    assert f"{units} units received" in demo

    call_command("seed_demo", stdout=StringIO())

    assert (ReturnItem.objects.count(), ItemEvent.objects.count()) == (units, events)
    call_command("check_integrity", stdout=StringIO())


def test_no_activity_days_loads_the_configuration_alone(db):
    call_command("seed_demo", activity_days=0, stdout=StringIO())

    assert ReturnAuthorization.objects.exists()
    assert not ReturnItem.objects.exists()
