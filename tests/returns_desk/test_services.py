import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.formats import date_format

from returns_desk import services
from returns_desk.exceptions import (
    AmbiguousCode,
    InvalidTransition,
    OverReceipt,
    ParcelNotOpen,
    RmaNotReceivable,
    SerialAlreadyReceived,
    SerialRequired,
    StationCannotReceive,
    UnknownCode,
    WrongItem,
)
from returns_desk.models import (
    ItemEvent,
    Parcel,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
)
from tests.disposition.helpers import make_checklist
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    SiteFactory,
    StationFactory,
    make_rma,
    make_unit_at,
    open_parcel,
)
from tests.returns_desk.helpers import receiving_counts

pytestmark = pytest.mark.django_db

RMA = ReturnAuthorization


def days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


def receive(parcel, code, station, user, **kwargs) -> ReturnItem:
    item, created = services.receive_unit(
        parcel=parcel, code=code, station=station, user=user, **kwargs
    )
    assert created
    return item


# --- receive_parcel: matching the parcel to its RMA ---------------------------------------------


def test_receive_parcel_opens_a_parcel_for_the_rma_number(station, clerk):
    rma = make_rma((ProductFactory(), 1), number="RMA-1001")

    parcel = services.receive_parcel(code="RMA-1001", station=station, user=clerk)

    parcel.refresh_from_db()
    assert parcel.rma == rma
    assert parcel.status == Parcel.Status.OPEN
    assert parcel.station == station
    assert parcel.received_by == clerk
    assert not parcel.is_late


def test_receive_parcel_matches_a_carrier_tracking_number(station, clerk):
    rma = make_rma((ProductFactory(), 1), tracking="JD0002211334455")

    parcel = services.receive_parcel(code="JD0002211334455", station=station, user=clerk)

    assert parcel.rma == rma
    assert parcel.scanned_code == "JD0002211334455"


def test_receive_parcel_matches_an_order_reference(station, clerk):
    rma = make_rma((ProductFactory(), 1), order_reference="WEB-778899")

    parcel = services.receive_parcel(code="WEB-778899", station=station, user=clerk)

    assert parcel.rma == rma


@pytest.mark.parametrize(
    "typed",
    ["  rma-1001 ", "rMa-1001\t", " jd0002211334455", "web-778899  ", "\tWeb-778899\r\n"],
)
def test_receive_parcel_ignores_case_and_padding_of_the_code(station, clerk, typed):
    rma = make_rma(
        (ProductFactory(), 1),
        number="RMA-1001",
        tracking="JD0002211334455",
        order_reference="WEB-778899",
    )

    parcel = services.receive_parcel(code=typed, station=station, user=clerk)

    assert parcel.rma == rma
    assert parcel.scanned_code == typed.strip().upper()


def test_receive_parcel_records_a_parcel_received_event(station, clerk):
    rma = make_rma((ProductFactory(), 1))

    parcel = open_parcel(rma, station, clerk)

    event = ItemEvent.objects.get(parcel=parcel)
    assert event.action == "parcel_received"
    assert event.to_status == Parcel.Status.OPEN
    assert event.user == clerk
    assert event.station == station
    assert event.details["rma"] == rma.number


def test_receive_parcel_rejects_an_unknown_code(station, clerk):
    make_rma((ProductFactory(), 1))

    with pytest.raises(UnknownCode, match="NOPE-404"):
        services.receive_parcel(code="nope-404", station=station, user=clerk)

    assert not Parcel.objects.exists()


def test_receive_parcel_refuses_an_order_with_two_open_returns(station, clerk):
    first = make_rma((ProductFactory(), 1), order_reference="WEB-1")
    second = make_rma((ProductFactory(), 1), order_reference="WEB-1")

    with pytest.raises(AmbiguousCode) as refused:
        services.receive_parcel(code="WEB-1", station=station, user=clerk)

    assert first.number in refused.value.message
    assert second.number in refused.value.message
    assert not Parcel.objects.exists()


def test_receive_parcel_takes_the_one_open_return_of_an_order(station, clerk):
    cancelled = make_rma(
        (ProductFactory(), 1), order_reference="WEB-1", status=RMA.Status.CANCELLED
    )
    open_one = make_rma((ProductFactory(), 1), order_reference="WEB-1", issued_on=days_ago(10))

    parcel = services.receive_parcel(code="WEB-1", station=station, user=clerk)

    assert parcel.rma == open_one
    assert parcel.rma != cancelled


@pytest.mark.parametrize("status", [RMA.Status.CANCELLED, RMA.Status.CLOSED])
def test_receive_parcel_refuses_an_rma_that_is_not_open(station, clerk, status):
    rma = make_rma((ProductFactory(), 1), status=status)

    with pytest.raises(RmaNotReceivable, match=rma.number):
        open_parcel(rma, station, clerk)

    assert not Parcel.objects.exists()


def test_receive_parcel_refuses_at_an_inspection_only_station(inspection_station, clerk):
    rma = make_rma((ProductFactory(), 1))

    with pytest.raises(StationCannotReceive):
        open_parcel(rma, inspection_station, clerk)

    assert not Parcel.objects.exists()


# --- receive_parcel: the return window ----------------------------------------------------------


def test_receive_parcel_accepts_and_flags_a_late_arrival(station, clerk):
    rma = make_rma((ProductFactory(), 1), issued_on=days_ago(40))  # 30-day window

    parcel = open_parcel(rma, station, clerk)

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.OPEN
    assert parcel.is_late
    exception = ReceivingException.objects.get(parcel=parcel)
    assert exception.kind == ReceivingException.Kind.LATE
    assert exception.status == ReceivingException.Status.OPEN
    assert "accepted and flagged" in exception.message
    assert ItemEvent.objects.filter(parcel=parcel, action="exception_raised").count() == 1


def test_an_exception_is_worded_in_the_language_of_the_desk_that_raised_it(station, clerk):
    rma = make_rma((ProductFactory(), 1), issued_on=days_ago(40))

    with translation.override("de"):
        parcel = open_parcel(rma, station, clerk)

    exception = ReceivingException.objects.get(parcel=parcel)
    assert exception.message.startswith(f"RMA {rma.number} ist am ")
    assert exception.message.endswith("abgelaufen: angenommen und markiert.")
    # Read later, each reader reads it in their own language, the date as they write dates.
    expired = rma.expires_on
    with translation.override("nl"):
        assert exception.text == (
            f"RMA {rma.number} is verlopen op {expired.day} {date_format(expired, 'F')}"
            f" {expired.year}: aangenomen en gemarkeerd."
        )
    with translation.override("en"):
        assert exception.text == (
            f"RMA {rma.number} expired on {date_format(expired)}: accepted and flagged."
        )


def test_receive_parcel_parks_a_late_arrival_when_the_policy_holds_it(station, clerk):
    hold = PolicyFactory(name="Hold late", late_arrival=ReturnPolicy.LateArrival.HOLD)
    rma = make_rma((ProductFactory(), 1), policy=hold, issued_on=days_ago(40))

    parcel = open_parcel(rma, station, clerk)

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.PARKED
    assert parcel.is_late
    exception = ReceivingException.objects.get(parcel=parcel)
    assert exception.kind == ReceivingException.Kind.LATE
    assert "held for a supervisor" in exception.message


def test_receive_parcel_scanned_again_while_held_returns_the_parked_parcel(station, clerk):
    hold = PolicyFactory(name="Hold late", late_arrival=ReturnPolicy.LateArrival.HOLD)
    rma = make_rma((ProductFactory(), 1), policy=hold, issued_on=days_ago(40))
    first = open_parcel(rma, station, clerk)

    again = open_parcel(rma, station, clerk)

    assert again.pk == first.pk
    assert Parcel.objects.count() == 1
    assert ReceivingException.objects.count() == 1


def test_receive_parcel_is_on_time_on_the_last_day_of_the_window(station, clerk):
    rma = make_rma((ProductFactory(), 1), issued_on=days_ago(30))

    parcel = open_parcel(rma, station, clerk)

    assert not parcel.is_late
    assert not ReceivingException.objects.exists()


# 22:30 UTC on 31 March 2025 is still 31 March in London but already 1 April in Tokyo.
@time_machine.travel(datetime(2025, 3, 31, 22, 30, tzinfo=UTC), tick=False)
def test_receive_parcel_judges_lateness_by_the_sites_own_calendar_day(clerk):
    london = StationFactory(code="RCV-LON", site=SiteFactory(code="lon"))
    tokyo = StationFactory(
        code="RCV-TYO", site=SiteFactory(code="tyo", name="Tokyo", time_zone="Asia/Tokyo")
    )
    rma = make_rma((ProductFactory(), 1), issued_on=date(2025, 3, 1))  # expires 31 March
    other = make_rma((ProductFactory(), 1), issued_on=date(2025, 3, 1))

    assert not open_parcel(rma, london, clerk).is_late
    assert open_parcel(other, tokyo, clerk).is_late


# --- receive_parcel: the same parcel scanned again ----------------------------------------------


def test_receive_parcel_returns_the_same_parcel_when_its_code_is_scanned_twice(station, clerk):
    rma = make_rma((ProductFactory(), 1))
    first = open_parcel(rma, station, clerk)
    before = receiving_counts()

    again = open_parcel(rma, station, clerk)

    assert again.pk == first.pk
    assert receiving_counts() == before


def test_receive_parcel_refuses_a_parcel_already_open_at_another_station(
    station, other_station, clerk
):
    rma = make_rma((ProductFactory(), 1))
    open_parcel(rma, station, clerk)

    with pytest.raises(ParcelNotOpen, match=station.code):
        open_parcel(rma, other_station, clerk)

    assert Parcel.objects.count() == 1


def test_a_parcel_left_open_at_a_station_taken_out_of_service_carries_on_where_it_is_scanned(
    station, other_station, clerk
):
    product = ProductFactory()
    rma = make_rma((product, 2))
    first = open_parcel(rma, station, clerk)
    receive(first, product.sku, station, clerk)
    station.active = False
    station.save()

    parcel = open_parcel(rma, other_station, clerk)
    receive(parcel, product.sku, other_station, clerk)

    assert parcel.pk == first.pk and parcel.station == other_station
    assert rma.lines.get().quantity_received == 2
    moved = ItemEvent.objects.get(parcel=parcel, action="parcel_moved")
    assert moved.details == {"from_station": station.code}


# --- receive_unit -------------------------------------------------------------------------------


def test_receive_unit_labels_units_with_sequential_lpns(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 3)), station, clerk)

    first = receive(parcel, product.sku, station, clerk)
    second = receive(parcel, product.sku, station, clerk)

    assert first.lpn == "LPN-00000001"
    assert second.lpn == "LPN-00000002"


def test_receive_unit_counts_the_unit_on_its_line(station, clerk):
    product = ProductFactory()
    rma = make_rma((ProductFactory(), 1), (product, 2))
    parcel = open_parcel(rma, station, clerk)

    item = receive(parcel, product.sku, station, clerk)

    line = rma.lines.get(line_no=2)
    assert line.quantity_received == 1
    assert rma.lines.get(line_no=1).quantity_received == 0
    item.refresh_from_db()
    assert item.rma_line == line
    assert item.product == product
    assert item.parcel == parcel
    assert item.status == ReturnItem.Status.RECEIVED
    assert item.station == station
    assert item.received_by == clerk


def test_receive_unit_records_a_received_event(station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 1))
    parcel = open_parcel(rma, station, clerk)

    item = receive(parcel, product.sku, station, clerk)

    event = ItemEvent.objects.get(item=item)
    assert event.action == "received"
    assert event.parcel == parcel
    assert event.to_status == ReturnItem.Status.RECEIVED
    assert event.user == clerk
    assert event.station == station
    assert event.details == {"rma": rma.number, "line": 1, "sku": product.sku, "serial": ""}


def test_receive_unit_moves_the_rma_from_authorised_to_partially_received_to_received(
    station, clerk
):
    first, second = ProductFactory(), ProductFactory()
    rma = make_rma((first, 1), (second, 2))
    parcel = open_parcel(rma, station, clerk)
    assert rma.status == RMA.Status.AUTHORISED

    receive(parcel, first.sku, station, clerk)
    rma.refresh_from_db()
    assert rma.status == RMA.Status.PARTIALLY_RECEIVED

    receive(parcel, second.sku, station, clerk)
    rma.refresh_from_db()
    assert rma.status == RMA.Status.PARTIALLY_RECEIVED

    receive(parcel, second.sku, station, clerk)
    rma.refresh_from_db()
    assert rma.status == RMA.Status.RECEIVED


def test_receive_unit_accepts_the_retail_barcode_and_lower_case_skus(station, clerk):
    product = ProductFactory(sku="KETTLE-9", gtin="5012345678900")
    parcel = open_parcel(make_rma((product, 2)), station, clerk)

    by_gtin = receive(parcel, "5012345678900", station, clerk)
    by_sku = receive(parcel, " kettle-9 ", station, clerk)

    assert by_gtin.product == by_sku.product == product


def test_receive_unit_rejects_a_product_that_is_not_on_the_rma(station, clerk):
    rma = make_rma((ProductFactory(), 1))
    stranger = ProductFactory(name="Garden hose")
    parcel = open_parcel(rma, station, clerk)
    before = receiving_counts()

    with pytest.raises(WrongItem, match="Garden hose"):
        services.receive_unit(parcel=parcel, code=stranger.sku, station=station, user=clerk)

    assert receiving_counts() == before


def test_receive_unit_rejects_an_unknown_code(station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    before = receiving_counts()

    with pytest.raises(UnknownCode, match="NO-SUCH-SKU"):
        services.receive_unit(parcel=parcel, code="no-such-sku", station=station, user=clerk)

    assert receiving_counts() == before


def test_receive_unit_refuses_more_units_than_authorised_and_changes_nothing(station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 1))
    parcel = open_parcel(rma, station, clerk)
    receive(parcel, product.sku, station, clerk)
    rma.refresh_from_db()
    before = receiving_counts()

    with pytest.raises(OverReceipt, match="The one unit of .* is already received"):
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)

    assert receiving_counts() == before
    assert rma.lines.get().quantity_received == 1
    assert RMA.objects.get(pk=rma.pk).updated_at == rma.updated_at


def test_receive_unit_asks_for_the_serial_of_a_serialised_product(station, clerk):
    phone = ProductFactory(serialised=True)
    rma = make_rma((phone, 1))
    parcel = open_parcel(rma, station, clerk)
    before = receiving_counts()

    with pytest.raises(SerialRequired) as prompt:
        services.receive_unit(parcel=parcel, code=phone.sku, station=station, user=clerk)

    assert prompt.value.line == rma.lines.get()
    assert receiving_counts() == before


def test_receive_unit_records_the_serial_of_a_serialised_product(station, clerk):
    phone = ProductFactory(serialised=True)
    parcel = open_parcel(make_rma((phone, 1)), station, clerk)

    item = receive(parcel, phone.sku, station, clerk, serial=" sn-123abc ")

    item.refresh_from_db()
    assert item.serial_number == "SN-123ABC"
    assert ItemEvent.objects.get(item=item).details["serial"] == "SN-123ABC"


def test_receive_unit_receives_the_line_whose_preregistered_serial_is_scanned(station, clerk):
    phone = ProductFactory(serialised=True)
    rma = make_rma((phone, 1, "SN-AAA"), (phone, 1, "SN-BBB"))
    parcel = open_parcel(rma, station, clerk)

    item = receive(parcel, "sn-bbb", station, clerk)

    assert item.rma_line == rma.lines.get(line_no=2)
    assert item.serial_number == "SN-BBB"
    assert item.product == phone
    assert rma.lines.get(line_no=1).quantity_received == 0
    assert rma.lines.get(line_no=2).quantity_received == 1


def test_receive_unit_matches_a_preregistered_serial_scanned_after_its_sku(station, clerk):
    phone = ProductFactory(serialised=True)
    rma = make_rma((phone, 1, "SN-AAA"), (phone, 1, "SN-BBB"))
    parcel = open_parcel(rma, station, clerk)

    item = receive(parcel, phone.sku, station, clerk, serial="SN-BBB")

    assert item.rma_line == rma.lines.get(line_no=2)


def test_receive_unit_rejects_a_serial_other_than_the_one_authorised(station, clerk):
    phone = ProductFactory(serialised=True)
    parcel = open_parcel(make_rma((phone, 1, "SN-AAA")), station, clerk)
    before = receiving_counts()

    with pytest.raises(WrongItem, match="SN-ZZZ"):
        services.receive_unit(
            parcel=parcel, code=phone.sku, serial="SN-ZZZ", station=station, user=clerk
        )

    assert receiving_counts() == before


def test_receive_unit_rejects_a_serial_already_received(station, clerk):
    phone = ProductFactory(serialised=True)
    rma = make_rma((phone, 2))
    parcel = open_parcel(rma, station, clerk)
    first = receive(parcel, phone.sku, station, clerk, serial="SN-1")
    before = receiving_counts()

    with pytest.raises(SerialAlreadyReceived, match=first.lpn):
        services.receive_unit(
            parcel=parcel, code=phone.sku, serial="sn-1", station=station, user=clerk
        )

    assert receiving_counts() == before
    assert rma.lines.get().quantity_received == 1


def test_receive_unit_returns_the_same_unit_for_a_repeated_scan_token(station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 2))
    parcel = open_parcel(rma, station, clerk)
    token = uuid.uuid4()
    first, created = services.receive_unit(
        parcel=parcel, code=product.sku, station=station, user=clerk, scan_token=token
    )
    before = receiving_counts()

    again, created_again = services.receive_unit(
        parcel=parcel, code=product.sku, station=station, user=clerk, scan_token=token
    )

    assert created and not created_again
    assert again.pk == first.pk
    assert receiving_counts() == before
    assert rma.lines.get().quantity_received == 1


def test_receive_unit_refuses_a_closed_parcel(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 2)), station, clerk)
    services.close_parcel(parcel=parcel, station=station, user=clerk)
    before = receiving_counts()

    with pytest.raises(ParcelNotOpen, match="closed"):
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)

    assert receiving_counts() == before


def test_receive_unit_refuses_a_parcel_open_at_another_station(station, other_station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)

    with pytest.raises(ParcelNotOpen, match="another station"):
        services.receive_unit(parcel=parcel, code=product.sku, station=other_station, user=clerk)

    assert not ReturnItem.objects.exists()


def test_receive_unit_flags_units_of_a_late_parcel(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1), issued_on=days_ago(45)), station, clerk)

    item = receive(parcel, product.sku, station, clerk)

    assert item.is_late


# --- receive_exception_unit ---------------------------------------------------------------------


def test_receive_exception_unit_holds_a_labelled_unit_outside_the_rma_lines(station, clerk):
    expected = ProductFactory()
    stranger = ProductFactory()
    rma = make_rma((expected, 1))
    parcel = open_parcel(rma, station, clerk)

    item, created = services.receive_exception_unit(
        parcel=parcel,
        code=stranger.sku,
        kind=ReceivingException.Kind.WRONG_ITEM,
        station=station,
        user=clerk,
    )

    item.refresh_from_db()
    assert created
    assert item.lpn == "LPN-00000001"
    assert item.status == ReturnItem.Status.HELD
    assert item.product == stranger
    assert item.rma_line is None
    assert rma.lines.get().quantity_received == 0
    exception = ReceivingException.objects.get(item=item)
    assert exception.kind == ReceivingException.Kind.WRONG_ITEM
    assert exception.parcel == parcel
    assert item.lpn in exception.message
    assert ItemEvent.objects.filter(item=item, action="received", to_status="held").count() == 1
    rma.refresh_from_db()
    assert rma.status == RMA.Status.AUTHORISED


def test_receive_exception_unit_labels_an_unidentified_item(station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)

    item, _ = services.receive_exception_unit(
        parcel=parcel,
        code="mystery-box",
        kind=ReceivingException.Kind.WRONG_ITEM,
        station=station,
        user=clerk,
    )

    assert item.product is None
    assert item.scanned_code == "MYSTERY-BOX"


def test_receive_exception_unit_returns_the_same_unit_for_a_repeated_scan_token(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)
    token = uuid.uuid4()
    kwargs = dict(
        parcel=parcel,
        code=product.sku,
        kind=ReceivingException.Kind.OVER_RECEIPT,
        station=station,
        user=clerk,
        scan_token=token,
    )
    first, _ = services.receive_exception_unit(**kwargs)
    before = receiving_counts()

    again, created = services.receive_exception_unit(**kwargs)

    assert again.pk == first.pk
    assert not created
    assert receiving_counts() == before


def test_receive_exception_unit_refuses_a_kind_that_is_not_about_a_unit(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)

    with pytest.raises(ValueError, match="late"):
        services.receive_exception_unit(
            parcel=parcel,
            code=product.sku,
            kind=ReceivingException.Kind.LATE,
            station=station,
            user=clerk,
        )

    assert not ReturnItem.objects.exists()


# --- close_parcel -------------------------------------------------------------------------------


def test_close_parcel_records_each_line_still_short(station, clerk):
    full, partial, missing = ProductFactory(), ProductFactory(), ProductFactory()
    rma = make_rma((full, 1), (partial, 3), (missing, 2))
    parcel = open_parcel(rma, station, clerk)
    receive(parcel, full.sku, station, clerk)
    receive(parcel, partial.sku, station, clerk)

    closed = services.close_parcel(parcel=parcel, station=station, user=clerk)

    closed.refresh_from_db()
    assert closed.status == Parcel.Status.CLOSED
    assert closed.closed_at is not None
    assert closed.shortages == [
        {"line": 2, "sku": partial.sku, "missing": 2},
        {"line": 3, "sku": missing.sku, "missing": 2},
    ]
    event = ItemEvent.objects.get(parcel=parcel, action="parcel_closed")
    assert (event.from_status, event.to_status) == (Parcel.Status.OPEN, Parcel.Status.CLOSED)
    assert event.details == {"shortages": closed.shortages, "units": 2}


def test_close_parcel_with_every_unit_received_records_no_shortage(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)
    receive(parcel, product.sku, station, clerk)

    closed = services.close_parcel(parcel=parcel, station=station, user=clerk)

    assert closed.shortages == []


def test_close_parcel_refuses_a_parcel_already_closed(station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    services.close_parcel(parcel=parcel, station=station, user=clerk)
    before = receiving_counts()

    with pytest.raises(ParcelNotOpen):
        services.close_parcel(parcel=parcel, station=station, user=clerk)

    assert receiving_counts() == before


def test_close_parcel_refuses_a_parcel_open_at_another_station(station, other_station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)

    with pytest.raises(ParcelNotOpen):
        services.close_parcel(parcel=parcel, station=other_station, user=clerk)

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.OPEN


# --- park_parcel --------------------------------------------------------------------------------


def test_park_parcel_sends_the_open_parcel_to_the_exception_queue_with_the_reason(station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)

    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="Box empty")

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.PARKED
    exception = ReceivingException.objects.get(parcel=parcel)
    assert exception.kind == ReceivingException.Kind.PARKED
    assert exception.message == "Box empty"
    event = ItemEvent.objects.get(parcel=parcel, action="parcel_parked")
    assert event.details == {"reason": "Box empty"}


def test_a_parked_parcel_cannot_receive_units_or_be_parked_again(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="Box empty")
    before = receiving_counts()

    with pytest.raises(ParcelNotOpen, match="parked"):
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    with pytest.raises(ParcelNotOpen):
        services.park_parcel(parcel=parcel, station=station, user=clerk, reason="again")

    assert receiving_counts() == before


# --- park_unmatched_parcel ----------------------------------------------------------------------


def test_park_unmatched_parcel_parks_an_unknown_code_as_unmatched(station, clerk):
    parcel = services.park_unmatched_parcel(
        code=" no-label-77 ", station=station, user=clerk, reason="No paperwork"
    )

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.PARKED
    assert parcel.rma is None
    assert parcel.scanned_code == "NO-LABEL-77"
    exception = ReceivingException.objects.get(parcel=parcel)
    assert exception.kind == ReceivingException.Kind.UNMATCHED
    assert exception.message == "No RMA matches 'NO-LABEL-77'. No paperwork"
    assert ItemEvent.objects.filter(parcel=parcel, action="parcel_parked").exists()


def test_park_unmatched_parcel_returns_the_same_parcel_when_parked_twice(station, clerk):
    first = services.park_unmatched_parcel(code="NO-LABEL-77", station=station, user=clerk)
    before = receiving_counts()

    again = services.park_unmatched_parcel(code="no-label-77", station=station, user=clerk)

    assert again.pk == first.pk
    assert receiving_counts() == before


def test_park_unmatched_parcel_refuses_the_code_of_a_receivable_rma(station, clerk):
    rma = make_rma((ProductFactory(), 1))

    with pytest.raises(RmaNotReceivable, match="can be received"):
        services.park_unmatched_parcel(code=rma.number, station=station, user=clerk)

    assert not Parcel.objects.exists()


def test_park_unmatched_parcel_parks_a_cancelled_rmas_parcel_as_rma_not_open(station, clerk):
    rma = make_rma((ProductFactory(), 1), status=RMA.Status.CANCELLED)

    parcel = services.park_unmatched_parcel(code=rma.number, station=station, user=clerk)

    assert parcel.rma == rma
    assert parcel.status == Parcel.Status.PARKED
    exception = ReceivingException.objects.get(parcel=parcel)
    assert exception.kind == ReceivingException.Kind.RMA_NOT_OPEN
    assert "cancelled" in exception.message


def test_park_unmatched_parcel_parks_an_ambiguous_order_as_unmatched(station, clerk):
    make_rma((ProductFactory(), 1), order_reference="WEB-1")
    make_rma((ProductFactory(), 1), order_reference="WEB-1")

    parcel = services.park_unmatched_parcel(code="WEB-1", station=station, user=clerk)

    assert parcel.rma is None
    assert parcel.exceptions.get().kind == ReceivingException.Kind.UNMATCHED


# --- the history and the transition table ------------------------------------------------------


def test_item_events_cannot_be_changed(station, clerk):
    product = ProductFactory()
    item = receive(open_parcel(make_rma((product, 1)), station, clerk), product.sku, station, clerk)
    event = ItemEvent.objects.get(item=item)

    event.action = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()

    assert ItemEvent.objects.get(pk=event.pk).action == "received"


def test_item_events_cannot_be_deleted(station, clerk):
    product = ProductFactory()
    item = receive(open_parcel(make_rma((product, 1)), station, clerk), product.sku, station, clerk)
    event = ItemEvent.objects.get(item=item)

    with pytest.raises(ValueError, match="append-only"):
        event.delete()

    assert ItemEvent.objects.filter(pk=event.pk).exists()


def test_move_item_refuses_a_transition_not_in_the_table(station, clerk):
    product = ProductFactory()
    item = receive(open_parcel(make_rma((product, 1)), station, clerk), product.sku, station, clerk)
    assert ReturnItem.Status.DISPOSED not in ReturnItem.ALLOWED[ReturnItem.Status.RECEIVED]
    events = ItemEvent.objects.count()

    with pytest.raises(InvalidTransition, match="cannot become disposition decided"):
        services.move_item(
            item,
            to_status=ReturnItem.Status.DISPOSED,
            action="disposed",
            user=clerk,
            station=station,
        )

    item.refresh_from_db()
    assert item.status == ReturnItem.Status.RECEIVED
    assert ItemEvent.objects.count() == events


def test_move_items_moves_none_when_one_of_them_may_not_move(station, clerk):
    held = make_unit_at(ReturnItem.Status.HELD, station=station, user=clerk)
    make_checklist((product := ProductFactory()).category)
    inspecting = make_unit_at(
        ReturnItem.Status.INSPECTING, station=station, user=clerk, product=product
    )
    assert ReturnItem.Status.CLOSED not in ReturnItem.ALLOWED[ReturnItem.Status.INSPECTING]
    events = ItemEvent.objects.count()

    with pytest.raises(InvalidTransition, match="cannot become closed"):
        services.move_items(
            [held, inspecting],
            to_status=ReturnItem.Status.CLOSED,
            action="parcel_refused",
            user=clerk,
            station=station,
        )

    statuses = ReturnItem.objects.filter(pk__in=[held.pk, inspecting.pk]).values_list("status")
    assert sorted(statuses) == [("held",), ("inspecting",)]
    assert ItemEvent.objects.count() == events


def test_move_items_moves_each_unit_and_records_one_event_for_each(station, clerk):
    units = [make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk) for _ in "ab"]

    events = services.move_items(
        units,
        to_status=ReturnItem.Status.HELD,
        action="held",
        user=clerk,
        station=station,
        details={"reason": "wrong colour"},
    )

    for unit in units:
        unit.refresh_from_db()
        assert unit.status == ReturnItem.Status.HELD
        event = ItemEvent.objects.filter(item=unit).latest("pk")
        assert (event.action, event.from_status, event.to_status) == ("held", "received", "held")
        assert (event.user, event.station, event.details) == (
            clerk,
            station,
            {"reason": "wrong colour"},
        )
        assert event.created_at == unit.status_changed_at
    assert sorted(event.item_id for event in events) == sorted(unit.pk for unit in units)


def test_move_item_moves_and_records_an_allowed_transition(station, clerk):
    product = ProductFactory()
    item = receive(open_parcel(make_rma((product, 1)), station, clerk), product.sku, station, clerk)

    event = services.move_item(
        item, to_status=ReturnItem.Status.HELD, action="held", user=clerk, station=station
    )

    item.refresh_from_db()
    assert item.status == ReturnItem.Status.HELD
    assert (event.item, event.from_status, event.to_status) == (item, "received", "held")
