"""Two stations, a double click or a scanner that sends twice, at the same instant.

Each test starts its threads together on a barrier; the row locks (parcel -> RMA -> lines) and
the unique constraints must let exactly one of them write.
"""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from returns_desk import services
from returns_desk.exceptions import (
    OverReceipt,
    ParcelNotOpen,
    RmaNotCancellable,
    RmaNotReceivable,
    SerialAlreadyReceived,
)
from returns_desk.models import OutboxEvent, Parcel, ReturnAuthorization, ReturnItem
from tests.conftest import client_at_station
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    StationFactory,
    UserFactory,
    make_rma,
    open_parcel,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data_restored"),
]


def run_together(*calls):
    """Run each call in its own thread, all released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # handed back to the test to assert on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck on a lock"
    return results


def test_the_same_serial_scanned_twice_at_once_is_received_once(station, clerk):
    phone = ProductFactory(serialised=True)
    rma = make_rma((phone, 2))
    parcel = open_parcel(rma, station, clerk)

    def receive():
        return services.receive_unit(
            parcel=parcel, code=phone.sku, serial="SN-1", station=station, user=clerk
        )

    results = run_together(receive, receive)

    received = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, SerialAlreadyReceived)]
    assert len(received) == 1 and len(refused) == 1, results
    assert ReturnItem.objects.filter(serial_number="SN-1").count() == 1
    assert rma.lines.get().quantity_received == 1


def test_one_serial_scanned_on_two_rmas_at_two_stations_at_once_is_received_once(station, clerk):
    phone = ProductFactory(serialised=True)
    other_station = StationFactory(code="RCV-02")
    other_clerk = UserFactory(username="otto", role="clerk")
    parcels = [
        (open_parcel(make_rma((phone, 1)), station, clerk), station, clerk),
        (open_parcel(make_rma((phone, 1)), other_station, other_clerk), other_station, other_clerk),
    ]

    def receive(parcel, at, by):
        return lambda: services.receive_unit(
            parcel=parcel, code=phone.sku, serial="SN-2", station=at, user=by
        )

    results = run_together(*(receive(*parcel) for parcel in parcels))

    refused = [r for r in results if isinstance(r, SerialAlreadyReceived)]
    assert len(refused) == 1, results
    assert ReturnItem.objects.filter(serial_number="SN-2").count() == 1


def test_the_same_scan_posted_twice_at_once_makes_one_unit(station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 2))
    open_parcel(rma, station, clerk)
    clients = [client_at_station(Client(), clerk, station) for _ in range(2)]
    data = {"code": product.sku, "token": str(uuid.uuid4())}

    responses = run_together(*(lambda c=c: c.post("/receiving/scan/", data) for c in clients))

    assert [r.status_code for r in responses] == [200, 200]
    pages = sorted(r.content.decode() for r in responses)
    assert sum("Received LPN-00000001" in page for page in pages) == 1
    assert sum("that scan was sent twice" in page for page in pages) == 1
    assert ReturnItem.objects.count() == 1
    assert rma.lines.get().quantity_received == 1


def test_the_last_unit_of_a_line_received_at_two_stations_at_once_counts_once(
    station, other_station, clerk, supervisor
):
    product = ProductFactory()
    rma = make_rma((product, 1), tracking="TRACK-2")
    here = open_parcel(rma, station, clerk)
    there = services.receive_parcel(code="TRACK-2", station=other_station, user=supervisor)

    results = run_together(
        lambda: services.receive_unit(parcel=here, code=product.sku, station=station, user=clerk),
        lambda: services.receive_unit(
            parcel=there, code=product.sku, station=other_station, user=supervisor
        ),
    )

    received = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, OverReceipt)]
    assert len(received) == 1 and len(refused) == 1, results
    assert ReturnItem.objects.count() == 1
    assert rma.lines.get().quantity_received == 1


def test_one_parcel_scanned_at_two_stations_at_once_opens_once(station, other_station, clerk):
    rma = make_rma((ProductFactory(), 1))

    results = run_together(
        lambda: services.receive_parcel(code=rma.number, station=station, user=clerk),
        lambda: services.receive_parcel(code=rma.number, station=other_station, user=clerk),
    )

    opened = [r for r in results if isinstance(r, Parcel)]
    refused = [r for r in results if isinstance(r, ParcelNotOpen)]
    assert len(opened) == 1 and len(refused) == 1, results
    assert Parcel.objects.count() == 1


def test_a_cancel_and_a_parcel_scan_at_once_never_leave_a_parcel_on_a_cancelled_rma(station, clerk):
    rma = make_rma((ProductFactory(), 1))

    results = run_together(
        lambda: services.receive_parcel(code=rma.number, station=station, user=clerk),
        lambda: services.cancel_rma(rma=rma, reason="shop cancelled", cancelled_by="shop"),
    )

    rma.refresh_from_db()
    parcels = Parcel.objects.filter(rma=rma).count()
    if rma.status == ReturnAuthorization.Status.CANCELLED:
        assert isinstance(results[0], RmaNotReceivable) and parcels == 0, results
    else:
        assert isinstance(results[1], RmaNotCancellable) and parcels == 1, results


def test_units_received_at_two_stations_at_once_never_share_an_lpn(
    station, other_station, clerk, supervisor
):
    first, second = ProductFactory(), ProductFactory()
    here = open_parcel(make_rma((first, 5)), station, clerk)
    there = open_parcel(make_rma((second, 5)), other_station, supervisor)

    def receive_five(parcel, product, at, user):
        return [
            services.receive_unit(parcel=parcel, code=product.sku, station=at, user=user)[0].lpn
            for _ in range(5)
        ]

    results = run_together(
        lambda: receive_five(here, first, station, clerk),
        lambda: receive_five(there, second, other_station, supervisor),
    )

    assert all(isinstance(result, list) for result in results), results
    lpns = sorted(results[0] + results[1])
    assert lpns == [f"LPN-{n:08d}" for n in range(1, 11)]


def test_two_daily_runs_at_once_expire_each_rma_once():
    today = timezone.localdate()
    for n in range(30):
        make_rma((ProductFactory(), 1), number=f"RMA-OLD-{n}", issued_on=today - timedelta(days=60))

    def sweep():
        return services.expire_rmas(today=today)

    results = run_together(sweep, sweep)

    assert sum(results) == 30, results
    assert OutboxEvent.objects.filter(event_type="rma.expired").count() == 30


def test_the_daily_run_skips_an_rma_a_station_is_receiving_against(station, clerk):
    """It never waits on a station: the RMA it skipped is taken by the next run."""
    today = timezone.localdate()
    rma = make_rma((ProductFactory(), 1), issued_on=today - timedelta(days=60))
    locked, release = threading.Event(), threading.Event()

    def station_holding_the_rma():
        with transaction.atomic():
            ReturnAuthorization.objects.select_for_update().get(pk=rma.pk)
            locked.set()
            release.wait(timeout=10)

    def sweep_while_locked():
        locked.wait(timeout=10)
        try:
            return services.expire_rmas(today=today)
        finally:
            release.set()

    held, swept = run_together(station_holding_the_rma, sweep_while_locked)

    assert swept == 0
    assert services.expire_rmas(today=today) == 1


def return_to_sender_at_two_stations():
    """A program that takes parcels without an RMA, the reason they come back, two stations."""
    program = ProgramFactory(code="delivery-failure")
    PolicyFactory(name="Return to sender", rma_required=False).programs.add(program)
    reason = ReasonFactory(code="undeliverable")
    return program, reason, [StationFactory(code=code) for code in ("RCV-11", "RCV-12")]


def test_two_stations_receiving_one_unknown_box_without_an_rma_at_once_make_one_return():
    program, reason, stations = return_to_sender_at_two_stations()
    clerks = [UserFactory(username=name, role="clerk") for name in ("ann", "bob")]

    def receive(station, clerk):
        return lambda: services.receive_without_rma(
            code="JD000123GB", program=program, reason=reason, station=station, user=clerk
        )

    results = run_together(*(receive(s, c) for s, c in zip(stations, clerks, strict=True)))

    opened = [r for r in results if isinstance(r, Parcel)]
    refused = [r for r in results if isinstance(r, ParcelNotOpen)]
    assert len(opened) == 1 and len(refused) == 1, results
    assert ReturnAuthorization.objects.count() == Parcel.objects.count() == 1


@pytest.mark.parametrize("earlier_units", [0, 1])
def test_units_scanned_at_once_into_two_boxes_of_one_unannounced_return_each_get_a_line(
    earlier_units,
):
    program, reason, stations = return_to_sender_at_two_stations()
    clerk = UserFactory(username="ann", role="clerk")
    first = services.receive_without_rma(
        code="JD000123GB", program=program, reason=reason, station=stations[0], user=clerk
    )
    second = services.receive_parcel(code="JD000123GB", station=stations[0], user=clerk)
    assert second == first  # the same box: a second box needs its own station's parcel
    for _ in range(earlier_units):
        services.receive_unit(
            parcel=first, code=ProductFactory().sku, station=stations[0], user=clerk
        )
    services.close_parcel(parcel=first, station=stations[0], user=clerk)
    # Two more boxes, one scanned by the return's number, one by the carrier's label.
    boxes = [
        services.receive_parcel(code=code, station=station, user=clerk)
        for code, station in zip((first.rma.number, "JD000123GB"), stations, strict=True)
    ]
    kettle, jacket = ProductFactory(sku="EL-KTL-17"), ProductFactory(sku="AP-JKT-M")

    def scan(box, station, sku):
        return lambda: services.receive_unit(parcel=box, code=sku, station=station, user=clerk)

    results = run_together(
        scan(boxes[0], stations[0], kettle.sku), scan(boxes[1], stations[1], jacket.sku)
    )

    assert all(isinstance(r, tuple) for r in results), results
    lines = first.rma.lines.order_by("line_no").values_list("line_no", "product__sku")
    assert sorted(sku for _, sku in lines[earlier_units:]) == ["AP-JKT-M", "EL-KTL-17"]
    assert [no for no, _ in lines] == list(range(1, earlier_units + 3))


def test_a_unit_scanned_while_an_admin_saves_its_line_is_counted_not_saved_over(
    station, clerk, monkeypatch
):
    """The admin raises a line's quantity while a clerk scans a unit of it."""
    from returns_desk.admin import ReturnAuthorizationAdmin
    from tests.returns_desk.test_admin import change_url, unchanged_change_form

    rma = make_rma((ProductFactory(sku="EL-KTL-17"), 2))
    parcel = open_parcel(rma, station, clerk)
    admin_client = Client()
    admin_client.force_login(UserFactory(username="ada", role="admin"))
    form = unchanged_change_form(admin_client, rma) | {"lines-0-quantity_expected": "3"}
    save_related = ReturnAuthorizationAdmin.save_related
    scans = []

    def scan_while_saving(self, request, *args):
        # The admin has read the RMA and its line; a clerk scans a unit of that line now.
        scan = threading.Thread(
            target=run_together,
            args=(
                lambda: services.receive_unit(
                    parcel=parcel, code="EL-KTL-17", station=station, user=clerk
                ),
            ),
        )
        scans.append(scan)
        scan.start()
        scan.join(timeout=1)  # it commits now, unless it waits for this save
        save_related(self, request, *args)

    monkeypatch.setattr(ReturnAuthorizationAdmin, "save_related", scan_while_saving)
    response = admin_client.post(change_url(rma), form)
    scans[0].join(timeout=10)

    assert response.status_code == 302
    line = rma.lines.get()
    assert (line.quantity_expected, line.quantity_received) == (3, 1)
    assert ReturnItem.objects.filter(rma_line=line).count() == 1
