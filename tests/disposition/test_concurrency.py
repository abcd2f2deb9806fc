"""Two stations deciding at the same moment: row locks and constraints let one decision through."""

import threading

import pytest
from django.db import connection

from disposition import services
from disposition.models import Disposition, Lot, RefundInstruction
from returns_desk.models import Station
from tests.factories import StationFactory

# Serialized rollback restores the roles the migrations created, which each flush removes.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data_restored"),
]


def at_once(*calls) -> list:
    """Start every call in its own thread at the same instant; return what each returned."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_stations_deciding_one_unit_make_one_disposition(
    make_inspected, rules, station, clerk, supervisor, config
):
    item = make_inspected("A")
    other = StationFactory(code="INS-02", kind=Station.Kind.INSPECTION)

    results = at_once(
        lambda: services.decide_disposition(item=item, station=station, user=clerk),
        lambda: services.decide_disposition(item=item, station=other, user=supervisor),
    )

    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].pk == results[1][0].pk
    assert Disposition.objects.filter(item=item).count() == 1
    assert RefundInstruction.objects.filter(item=item).count() == 1
    assert item.events.filter(action="disposition_decided").count() == 1


def test_two_units_for_one_partner_decided_at_once_share_one_open_lot(
    make_inspected, rules, station, clerk, supervisor, config
):
    first, second = make_inspected("X"), make_inspected("X")
    other = StationFactory(code="INS-02", kind=Station.Kind.INSPECTION)

    at_once(
        lambda: services.decide_disposition(item=first, station=station, user=clerk),
        lambda: services.decide_disposition(item=second, station=other, user=supervisor),
    )

    assert Lot.objects.filter(status=Lot.Status.OPEN).count() == 1
    assert Disposition.objects.filter(lot__isnull=False).count() == 2
