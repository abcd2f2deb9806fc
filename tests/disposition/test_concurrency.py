"""Two stations deciding at the same moment: row locks and constraints let one decision through."""

import threading
import time

import pytest
from django.db import connection

from disposition import services
from disposition.models import DefaultDestination, Disposition, Lot, Partner, RefundInstruction
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
    assert Lot.objects.get().units == 2


def test_two_units_re_decided_between_two_lots_the_other_way_round_both_move(
    make_inspected, rules, partner, station, clerk, supervisor, config
):
    from inspection import services as inspection

    charity = Partner.objects.create(code="shelter", name="Shelter", kind=Partner.Kind.CHARITY)
    DefaultDestination.objects.create(outcome="donate", partner=charity)
    goodwill = {
        "outcome": "donate",
        "override_reason": Disposition.OverrideReason.CUSTOMER_GOODWILL,
    }
    to_recycle, to_donate = make_inspected("X"), make_inspected("X")
    services.decide_disposition(item=to_recycle, station=station, user=clerk, **goodwill)
    services.decide_disposition(item=to_donate, station=station, user=clerk)
    for item in (to_recycle, to_donate):
        inspection.reopen_unit(item=item, reason="Decided in error", user=supervisor)
    other = StationFactory(code="INS-02", kind=Station.Kind.INSPECTION)

    # Each leaves the lot the other joins: each locks both lots, in the same order.
    at_once(
        lambda: services.decide_disposition(item=to_recycle, station=station, user=clerk),
        lambda: services.decide_disposition(
            item=to_donate, station=other, user=supervisor, **goodwill
        ),
    )

    in_force = Disposition.objects.filter(status=Disposition.Status.DECIDED)
    assert dict(in_force.values_list("item", "lot__outcome")) == {
        to_recycle.pk: "recycle",
        to_donate.pk: "donate",
    }
    assert dict(Lot.objects.values_list("outcome", "units")) == {"recycle": 1, "donate": 1}


def test_closing_a_lot_while_a_reopened_unit_of_it_is_re_decided_both_go_through(
    make_inspected, rules, station, clerk, supervisor, config, monkeypatch
):
    from inspection import services as inspection

    charity = Partner.objects.create(code="shelter", name="Shelter", kind=Partner.Kind.CHARITY)
    DefaultDestination.objects.create(outcome="donate", partner=charity)
    shipped, re_decided = make_inspected("X"), make_inspected("X")
    for item in (shipped, re_decided):
        services.decide_disposition(item=item, station=station, user=clerk)
    lot = Lot.objects.get()
    inspection.reopen_unit(item=re_decided, reason="Decided in error", user=supervisor)
    other = StationFactory(code="INS-02", kind=Station.Kind.INSPECTION)

    # The decision holds its unit and waits before taking the lots; the close starts inside
    # that wait. With the lot locked before its units, each then waited for the other.
    lot_for = services._lot_for
    monkeypatch.setattr(services, "_lot_for", lambda *a, **kw: time.sleep(0.4) or lot_for(*a, **kw))

    def close_after_the_decision_took_its_unit():
        time.sleep(0.1)
        return services.close_lot(lot=lot, user=supervisor, weight_kg=None)

    decided, closed = at_once(
        lambda: services.decide_disposition(
            item=re_decided,
            station=other,
            user=supervisor,
            outcome="donate",
            override_reason=Disposition.OverrideReason.CUSTOMER_GOODWILL,
        ),
        close_after_the_decision_took_its_unit,
    )

    assert decided is not None and closed is not None, "one of them failed: see its traceback"
    shipped.refresh_from_db()
    assert shipped.status == "closed"
    assert closed.status == Lot.Status.CLOSED
    in_force = Disposition.objects.get(item=re_decided, status=Disposition.Status.DECIDED)
    assert (in_force.lot.outcome, in_force.lot.status) == ("donate", Lot.Status.OPEN)
