"""A scan must cost the same at any size: the desk runs on a warehouse's whole history."""

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from returns_desk import services
from returns_desk.models import (
    Counter,
    ItemEvent,
    ReturnAuthorization,
    ReturnItem,
    RMALine,
    TrackingNumber,
)
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

pytestmark = pytest.mark.django_db

SCAN = reverse("receiving:scan")


@pytest.fixture(autouse=True)
def _lpn_counter_exists(db):
    # The very first LPN creates the counter row; every later one only increments it.
    Counter.objects.create(name="lpn")


def add_rmas(count: int) -> None:
    """`count` more RMAs, each with a tracking number and two lines, in a few INSERTs."""
    products = [ProductFactory(), ProductFactory()]
    program, policy, reason = ProgramFactory(), PolicyFactory(), ReasonFactory()
    issued = timezone.localdate() - timedelta(days=3)
    rmas = ReturnAuthorization.objects.bulk_create(
        ReturnAuthorization(
            number=f"BULK-{n:05d}",
            order_reference=f"BULK-ORDER-{n:05d}",
            program=program,
            policy=policy,
            issued_on=issued,
            expires_on=issued + timedelta(days=30),
        )
        for n in range(count)
    )
    TrackingNumber.objects.bulk_create(
        TrackingNumber(rma=rma, number=f"BULK-TRACK-{n:05d}") for n, rma in enumerate(rmas)
    )
    RMALine.objects.bulk_create(
        RMALine(rma=rma, line_no=n, product=product, reason=reason)
        for rma in rmas
        for n, product in enumerate(products, start=1)
    )


def at_new_station(client, n: int):
    """A fresh clerk at a fresh station, so each measurement starts from the same screen."""
    station = StationFactory(code=f"RCV-Q{n}")
    clerk = UserFactory(username=f"clerk-q{n}", role="clerk")
    return client_at_station(client, clerk, station), station, clerk


def ready_for_unit_scan(
    client, n: int, *, lines: int = 2, received: int = 0, more: int = 1, from_desk: bool = False
) -> Callable:
    """Open a parcel with `received` units already in it and `more` to come; return a scan,
    sent by htmx from a desk page showing the parcel if `from_desk`."""
    client, station, clerk = at_new_station(client, n)
    product = ProductFactory()
    rma = make_rma((product, received + more), *((ProductFactory(), 1) for _ in range(lines - 1)))
    parcel = open_parcel(rma, station, clerk)
    for _ in range(received):
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    if from_desk:
        return lambda: client.post(
            SCAN,
            {"code": product.sku, "token": str(uuid.uuid4()), "parcel_shown": parcel.pk},
            HTTP_HX_REQUEST="true",
        )
    return lambda: client.post(SCAN, {"code": product.sku, "token": str(uuid.uuid4())})


def ready_for_parcel_scan(client, n: int, field: str) -> Callable:
    client, _, _ = at_new_station(client, n)
    rma = make_rma((ProductFactory(), 1), tracking=f"TRACK-Q{n}")
    code = {"number": rma.number, "tracking": f"TRACK-Q{n}", "order": rma.order_reference}[field]
    return lambda: client.post(SCAN, {"code": code, "token": str(uuid.uuid4())})


def test_a_unit_scan_costs_the_same_with_500_rmas_as_with_one(client, django_assert_num_queries):
    scan = ready_for_unit_scan(client, 1)
    with CaptureQueriesContext(connection) as with_one:
        assert "Received LPN-" in scan().content.decode()
    add_rmas(499)
    assert ReturnAuthorization.objects.count() == 500

    scan = ready_for_unit_scan(client, 2)
    with django_assert_num_queries(len(with_one)):
        response = scan()

    assert "Received LPN-" in response.content.decode()


@pytest.mark.parametrize("field", ["number", "tracking", "order"])
def test_a_parcel_scan_costs_the_same_with_500_rmas_as_with_one(
    client, django_assert_num_queries, field
):
    scan = ready_for_parcel_scan(client, 1, field)
    with CaptureQueriesContext(connection) as with_one:
        assert "open. Scan each unit." in scan().content.decode()
    add_rmas(499)

    scan = ready_for_parcel_scan(client, 2, field)
    with django_assert_num_queries(len(with_one)):
        response = scan()

    assert "open. Scan each unit." in response.content.decode()


def test_a_unit_scan_costs_the_same_however_full_the_screen_is(client, django_assert_num_queries):
    # One unit already in, so both scans leave the RMA partially received (no status write).
    scan = ready_for_unit_scan(client, 1, lines=2, received=1)
    with CaptureQueriesContext(connection) as bare:
        assert scan().status_code == 200

    # Twelve lines, fifteen units labelled and more recent scans than the desk lists.
    scan = ready_for_unit_scan(client, 2, lines=12, received=15, more=2)
    with django_assert_num_queries(len(bare)):
        response = scan()
    assert "Labelled in this parcel (16)" in response.content.decode()

    # The user, roles and station are cached now: the session, the configuration token, the
    # open parcel; in one transaction its lock, the scan token, the lines locked with their
    # RMA, the line, the LPN, the unit, its history and outbox event; then the desk's units
    # and recent scans (the lines are shown as the service locked them).
    with django_assert_num_queries(15):
        assert scan().status_code == 200


def test_a_unit_scan_from_the_desk_costs_the_same_however_full_the_screen_is(
    client, django_assert_num_queries
):
    scan = ready_for_unit_scan(client, 1, lines=2, received=1, from_desk=True)
    with CaptureQueriesContext(connection) as bare:
        assert scan().status_code == 200

    scan = ready_for_unit_scan(client, 2, lines=12, received=15, more=2, from_desk=True)
    with django_assert_num_queries(len(bare)):
        response = scan()
    assert "Labelled in this parcel (16)" in response.content.decode()

    # As the whole desk less its recent list: the page keeps its own, and the answer puts the
    # unit's receipt on top of it from the service's hands.
    with django_assert_num_queries(14):
        assert "Labelled in this parcel (17)" in scan().content.decode()


def test_the_desk_lists_this_stations_newest_scans_first(client, settings):
    settings.RECENT_SCANS_SHOWN = 3
    scan = ready_for_unit_scan(client, 1, received=4)
    _, other_station, other_clerk = at_new_station(client.__class__(), 2)
    other_rma = make_rma((ProductFactory(), 1))
    open_parcel(other_rma, other_station, other_clerk)

    page = scan().content.decode()
    recent = page[page.index('id="recent-scans"') :]

    lpns = list(ReturnItem.objects.order_by("-received_at", "-pk").values_list("lpn", flat=True))
    shown = [lpn for lpn in lpns if lpn in recent]
    # The unit just scanned and the two before it, newest first; not the older two, and
    # nothing from the other station's parcel.
    assert shown == lpns[:3]
    assert recent.index(lpns[0]) < recent.index(lpns[1]) < recent.index(lpns[2])
    assert other_rma.number not in recent


@pytest.mark.parametrize(
    ("table", "indexed_once"),
    [
        (
            "returns_desk_itemevent",
            {
                "station_id": ["station_id", "created_at", "id"],
                "item_id": ["item_id", "created_at"],
                "parcel_id": ["parcel_id", "created_at"],
            },
        ),
        ("disposition_disposition", {"station_id": ["station_id", "decided_at"]}),
    ],
)
def test_history_keys_are_indexed_once_by_the_indexes_that_order_them(table, indexed_once):
    # Every scan writes an event and every decision a row: each redundant index is one more
    # write, and a one-column station index let the planner sort a station's whole history for
    # a desk's recent list whenever its statistics were stale.
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, table)
    leading = {}
    for index in indexes.values():
        if index["index"] and not index["primary_key"]:
            leading.setdefault(index["columns"][0], []).append(index["columns"])
    for column, columns in indexed_once.items():
        assert leading[column] == [columns]


@pytest.mark.postgres
def test_postgresql_reuses_the_plan_of_a_statement_a_connection_runs_again():
    # Planning the desk's joins cost PostgreSQL as much as running them; a prepared statement
    # is planned once per connection (DB_PREPARED_STATEMENTS, on by default).
    station = StationFactory()
    for _ in range(6):
        list(ReturnItem.objects.filter(station=station).select_related("product", "parcel"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any('"returns_desk_returnitem"."station_id" = $1' in query for query in prepared)


@pytest.mark.postgres
def test_the_recent_list_reads_the_stations_ten_newest_events_off_its_index_without_sorting():
    # Ordered by time and then id, the list once matched its index only on time: PostgreSQL
    # sorted the station's history to find ten rows whenever its statistics were out of date.
    station, clerk = StationFactory(), UserFactory()
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    at = timezone.now()
    ItemEvent.objects.bulk_create(
        ItemEvent(parcel=parcel, action="noted", user=clerk, station=station, created_at=at)
        for _ in range(40)
    )
    with connection.cursor() as cursor:
        # As on a table too large to read whole: the test's few rows would be read whole.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    picked = ItemEvent.objects.filter(station=station).order_by("-created_at", "-pk")
    plan = picked.values("pk")[: settings.RECENT_SCANS_SHOWN].explain()
    assert "event_station_recent" in plan
    assert "Sort" not in plan
