"""Two stations acting on one unit at the same moment: the row locks let only one through."""

import threading

import pytest
from django.db import connection

from inspection import services
from inspection.models import Inspection
from returns_desk.exceptions import DomainError
from returns_desk.models import ReturnItem
from tests.factories import StationFactory, best_answer, make_unit_at

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data_restored"),
]
Status = ReturnItem.Status


def race(*actions) -> list:
    """Run each action in its own thread, released together; return results or errors."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except DomainError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_stations_scanning_one_unit_open_one_inspection(station, clerk, product, checklist):
    item = make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)
    other = StationFactory(code="INS-02", kind="inspection")
    results = race(
        lambda: services.start_inspection(lpn=item.lpn, station=station, user=clerk),
        lambda: services.start_inspection(lpn=item.lpn, station=other, user=clerk),
    )
    assert sorted(type(r).__name__ for r in results) == ["InspectedElsewhere", "Inspection"]
    assert Inspection.objects.filter(item=item).count() == 1
    assert item.events.filter(action="inspection_started").count() == 1


def test_two_stations_completing_one_unit_give_one_completed_inspection(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    inspection = item.inspections.get()
    services.record_answers(
        inspection=inspection,
        answers={c.pk: best_answer(c) for c in checklist},
        station=station,
        user=clerk,
    )
    other = StationFactory(code="INS-02", kind="inspection")
    results = race(
        lambda: services.complete_inspection(inspection=inspection, station=station, user=clerk),
        lambda: services.complete_inspection(inspection=inspection, station=station, user=clerk),
        lambda: services.complete_inspection(inspection=inspection, station=other, user=clerk),
    )
    completed = [r for r in results if isinstance(r, Inspection)]
    assert len(completed) == 1
    assert Inspection.objects.filter(item=item, finished_at__isnull=False).count() == 1
    assert item.events.filter(action="inspected").count() == 1
    item.refresh_from_db()
    assert item.status == Status.INSPECTED


def test_two_stations_reinspecting_one_unit_leave_one_active_inspection(
    station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
    other = StationFactory(code="INS-02", kind="inspection")
    race(
        lambda: services.start_inspection(lpn=item.lpn, station=station, user=clerk),
        lambda: services.start_inspection(lpn=item.lpn, station=other, user=clerk),
    )
    assert Inspection.objects.filter(item=item, superseded=False).count() == 1
    assert Inspection.objects.filter(item=item).count() == 2
