"""An RMA's end: expired when nothing came in its window, closed when nothing is left to do."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from inspection.services import reopen_unit
from returns_desk import services
from returns_desk.exceptions import RmaNotReceivable
from returns_desk.models import OutboxEvent, Parcel, ReturnAuthorization, ReturnItem
from tests.factories import ProductFactory, make_rma, open_parcel

pytestmark = pytest.mark.django_db

Status = ReturnAuthorization.Status
TODAY = timezone.localdate()
LONG_AGO = TODAY - timedelta(days=90)


def awaited(number, *, expires_on, quantity=1, **fields):
    return make_rma(
        (ProductFactory(), quantity),
        number=number,
        issued_on=min(expires_on, TODAY) - timedelta(days=10),
        expires_on=expires_on,
        **fields,
    )


def receive(rma, station, clerk, *, units=1) -> list[ReturnItem]:
    parcel = open_parcel(rma, station, clerk)
    sku = rma.lines.get().product.sku
    received = [
        services.receive_unit(parcel=parcel, code=sku, station=station, user=clerk)[0]
        for _ in range(units)
    ]
    services.close_parcel(parcel=parcel, station=station, user=clerk)
    return received


def bring_to(item, status, clerk):
    """Walk a unit along the flow with the core's move_item, as inspection and disposition do."""
    path = [ReturnItem.Status.INSPECTED, ReturnItem.Status.DISPOSED, ReturnItem.Status.PUT_AWAY]
    with transaction.atomic():
        locked = ReturnItem.objects.select_for_update().get(pk=item.pk)
        for step in path[: path.index(status) + 1]:
            services.move_item(locked, to_status=step, action="moved", user=clerk, station=None)


def status_of(rma) -> str:
    rma.refresh_from_db()
    return rma.status


def events(event_type) -> list[str]:
    return sorted(
        OutboxEvent.objects.filter(event_type=event_type).values_list("aggregate_key", flat=True)
    )


def test_an_rma_nothing_arrived_for_expires_the_day_after_its_window(station, clerk):
    lapsed = awaited("RMA-LAPSED", expires_on=TODAY - timedelta(days=1))
    last_day = awaited("RMA-LAST-DAY", expires_on=TODAY)

    expired = services.expire_rmas(today=TODAY)

    assert expired == 1
    assert (status_of(lapsed), status_of(last_day)) == (Status.EXPIRED, Status.AUTHORISED)
    assert events("rma.expired") == ["RMA-LAPSED"]
    event = OutboxEvent.objects.get(event_type="rma.expired")
    assert event.payload["rma"]["status"] == "expired"


def test_an_expired_rma_still_takes_a_late_parcel(station, clerk):
    rma = awaited("RMA-LATE", expires_on=TODAY - timedelta(days=3))
    services.expire_rmas(today=TODAY)

    (unit,) = receive(rma, station, clerk)

    assert unit.is_late
    assert status_of(rma) == Status.RECEIVED


def test_an_rma_whose_parcel_arrived_does_not_expire(station, clerk):
    """The box is at the desk (or parked) though nothing in it was received yet."""
    rma = awaited("RMA-AT-DESK", expires_on=TODAY)
    open_parcel(rma, station, clerk)

    assert services.expire_rmas(today=TODAY + timedelta(days=5)) == 0
    assert status_of(rma) == Status.AUTHORISED


def test_a_received_rma_closes_once_every_unit_is_put_away(station, clerk):
    rma = awaited("RMA-DONE", expires_on=TODAY + timedelta(days=20), quantity=2)
    first, second = receive(rma, station, clerk, units=2)
    bring_to(first, ReturnItem.Status.PUT_AWAY, clerk)
    bring_to(second, ReturnItem.Status.DISPOSED, clerk)

    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 0
    assert status_of(rma) == Status.RECEIVED

    bring_to(ReturnItem.objects.get(pk=second.pk), ReturnItem.Status.PUT_AWAY, clerk)
    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 1

    assert status_of(rma) == Status.CLOSED
    assert events("rma.closed") == ["RMA-DONE"]
    with pytest.raises(RmaNotReceivable, match="closed"):
        services.receive_parcel(code="RMA-DONE", station=station, user=clerk)


def test_a_held_unit_keeps_its_rma_open(station, clerk):
    """A wrong item in the box waits for a supervisor: the return is not finished."""
    rma = awaited("RMA-HELD", expires_on=TODAY + timedelta(days=20))
    parcel = open_parcel(rma, station, clerk)
    (unit, _) = services.receive_unit(
        parcel=parcel, code=rma.lines.get().product.sku, station=station, user=clerk
    )
    services.receive_exception_unit(
        parcel=parcel, code="NOT-OURS", kind="wrong_item", station=station, user=clerk
    )
    services.close_parcel(parcel=parcel, station=station, user=clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)

    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 0
    assert status_of(rma) == Status.RECEIVED


def test_an_open_parcel_keeps_its_rma_open(station, clerk):
    rma = awaited("RMA-STILL-AT-DESK", expires_on=TODAY + timedelta(days=20))
    (unit,) = receive(rma, station, clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)
    # Another box for the same RMA (an over-receipt, say) is being scanned right now.
    open_parcel(rma, station, clerk)

    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 0


def test_a_partly_received_rma_waits_for_late_parcels_before_it_closes(station, clerk):
    rma = awaited("RMA-HALF", expires_on=TODAY - timedelta(days=10), quantity=2)
    (unit,) = receive(rma, station, clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)
    assert status_of(rma) == Status.PARTIALLY_RECEIVED

    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 0
    assert services.close_finished_rmas(today=TODAY, late_parcel_days=9) == 1
    assert status_of(rma) == Status.CLOSED


def test_units_received_on_an_rma_count_for_it_after_their_parcel_was_linked_elsewhere(
    station, clerk, supervisor
):
    """A unit keeps the RMA of its own line; the parcel's new RMA is not held up by it."""
    first = awaited("RMA-FIRST", expires_on=TODAY + timedelta(days=20), quantity=2)
    (unit,) = receive(first, station, clerk)
    second = awaited("RMA-SECOND", expires_on=TODAY + timedelta(days=20))
    (other,) = receive(second, station, clerk)
    bring_to(other, ReturnItem.Status.PUT_AWAY, clerk)
    Parcel.objects.filter(pk=unit.parcel_id).update(rma=second)

    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 1
    assert (status_of(first), status_of(second)) == (Status.PARTIALLY_RECEIVED, Status.CLOSED)


def test_many_rmas_are_settled_in_batches(station, clerk, monkeypatch):
    monkeypatch.setattr(services, "RMA_BATCH", 2)
    for n in range(5):
        awaited(f"RMA-OLD-{n}", expires_on=LONG_AGO)

    assert services.expire_rmas(today=TODAY) == 5
    assert ReturnAuthorization.objects.filter(status=Status.EXPIRED).count() == 5
    assert len(events("rma.expired")) == 5


def test_the_daily_command_says_what_it_did_and_a_second_run_does_nothing(station, clerk):
    awaited("RMA-LAPSED", expires_on=LONG_AGO)
    done = awaited("RMA-DONE", expires_on=TODAY + timedelta(days=20))
    (unit,) = receive(done, station, clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)

    first, again = io.StringIO(), io.StringIO()
    call_command("close_rmas", stdout=first)
    call_command("close_rmas", stdout=again)

    assert first.getvalue().strip() == "1 RMA(s) expired, 1 closed."
    assert again.getvalue().strip() == "0 RMA(s) expired, 0 closed."
    assert len(events("rma.expired")) == len(events("rma.closed")) == 1


def test_the_customer_reads_that_the_return_is_complete_or_expired(client, station, clerk):
    lapsed = awaited("RMA-LAPSED", expires_on=LONG_AGO)
    done = awaited("RMA-DONE", expires_on=TODAY + timedelta(days=20))
    (unit,) = receive(done, station, clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)
    call_command("close_rmas", stdout=io.StringIO())

    def tracked(rma):
        answer = client.post("/track/", {"number": rma.number, "email": rma.customer_email})
        return answer.content.decode()

    assert "Your return is complete." in tracked(done)
    assert "The time to send this return has passed." in tracked(lapsed)


def test_a_first_run_can_settle_the_history_without_telling_integrations(station, clerk):
    awaited("RMA-LAPSED", expires_on=LONG_AGO)
    done = awaited("RMA-DONE", expires_on=TODAY + timedelta(days=20))
    (unit,) = receive(done, station, clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)
    told_before = OutboxEvent.objects.count()

    out = io.StringIO()
    call_command("close_rmas", "--no-webhooks", stdout=out)

    assert out.getvalue().strip() == "1 RMA(s) expired, 1 closed."
    assert status_of(done) == Status.CLOSED
    assert OutboxEvent.objects.count() == told_before


def test_rmas_that_do_not_qualify_between_batches_leave_none_behind(station, clerk, monkeypatch):
    monkeypatch.setattr(services, "RMA_BATCH", 2)
    for n in range(6):
        rma = awaited(f"RMA-OLD-{n}", expires_on=LONG_AGO)
        if n % 2:
            open_parcel(rma, station, clerk)  # arrived: it does not expire

    assert services.expire_rmas(today=TODAY) == 3
    assert sorted(events("rma.expired")) == ["RMA-OLD-0", "RMA-OLD-2", "RMA-OLD-4"]


def test_an_rma_whose_only_parcel_was_refused_empty_still_expires(station, clerk, supervisor):
    rma = awaited("RMA-EMPTY-BOX", expires_on=TODAY - timedelta(days=1))
    parcel = open_parcel(rma, station, clerk)
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="box was empty")
    parked = parcel.exceptions.get(kind="parked")
    services.refuse_exception(exception=parked, reason="empty", user=supervisor)

    assert services.expire_rmas(today=TODAY) == 1
    assert status_of(rma) == Status.EXPIRED


def test_a_unit_of_a_closed_return_reopened_by_a_supervisor_reopens_its_return(
    station, clerk, supervisor
):
    rma = awaited("RMA-DONE", expires_on=TODAY + timedelta(days=20))
    (unit,) = receive(rma, station, clerk)
    bring_to(unit, ReturnItem.Status.PUT_AWAY, clerk)
    services.close_finished_rmas(today=TODAY, late_parcel_days=30)
    assert status_of(rma) == Status.CLOSED

    reopen_unit(item=unit, reason="customer says it never worked", user=supervisor)

    assert status_of(rma) == Status.RECEIVED
    assert services.close_finished_rmas(today=TODAY, late_parcel_days=30) == 0
