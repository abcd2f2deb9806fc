"""The units register: every unit received, filtered, paged without a count, and its CSV."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime

from returns_desk.models import ReturnItem
from tests.factories import ProgramFactory, SiteFactory, StationFactory, make_unit_at
from tests.supervisor.test_queues import MAX_QUERIES, csv_rows, page

pytestmark = pytest.mark.django_db

Status = ReturnItem.Status
URL = "/supervisor/units/"
CSV_URL = "/supervisor/units/export.csv"
MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def unit_at(moment: datetime, status: str, station, clerk, **fields) -> ReturnItem:
    with time_machine.travel(moment, tick=False):
        return make_unit_at(status, station=station, user=clerk, **fields)


@pytest.fixture
def week(make_inspected, station, clerk):
    """Three units of one week at London, Monday's graded B, and one at Leeds on Wednesday."""
    leeds = StationFactory(code="LDS-01", site=SiteFactory(code="lds", name="Leeds"))
    with time_machine.travel(MONDAY, tick=False):
        monday = make_inspected("B")
    return {
        "monday": monday,
        "tuesday": unit_at(MONDAY + timedelta(days=1), Status.RECEIVED, station, clerk),
        "wednesday": unit_at(
            MONDAY + timedelta(days=2),
            Status.RECEIVED,
            station,
            clerk,
            program=ProgramFactory(code="trade-up", name="Trade-up scheme"),
        ),
        "leeds": unit_at(MONDAY + timedelta(days=2, hours=1), Status.RECEIVED, leeds, clerk),
    }


def lpns(response) -> list[str]:
    return [row.record.lpn for row in response.context["table"].page.object_list]


def test_the_register_lists_every_unit_newest_first_whatever_its_status(supervisor_client, week):
    response = supervisor_client.get(URL)

    assert response.status_code == 200
    assert lpns(response) == [week[day].lpn for day in ("leeds", "wednesday", "tuesday", "monday")]
    html = page(response)
    assert "Inspected, awaiting disposition" in html and "Received, awaiting inspection" in html
    assert '<a href="/supervisor/units/" aria-current="page">Units</a>' in html


def test_every_supervisor_page_links_to_the_register(supervisor_client):
    assert 'href="/supervisor/units/"' in page(supervisor_client.get("/supervisor/"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"since": "2026-11-03", "until": "2026-11-03"}, ["tuesday"]),
        ({"since": "2026-11-03"}, ["leeds", "wednesday", "tuesday"]),
        ({"status": Status.INSPECTED}, ["monday"]),
        ({"program": "trade-up"}, ["wednesday"]),
        ({"site": "lds"}, ["leeds"]),
    ],
)
def test_the_register_filters_by_date_status_program_and_site(
    supervisor_client, week, query, expected
):
    if "program" in query:
        query = {"program": week["wednesday"].program_id}
    if "site" in query:
        query = {"site": week["leeds"].station.site_id}

    response = supervisor_client.get(URL, query)

    assert lpns(response) == [week[day].lpn for day in expected]


def test_the_register_finds_a_unit_by_its_rma(supervisor_client, week):
    response = supervisor_client.get(URL, {"q": week["tuesday"].rma_line.rma.number})

    assert lpns(response) == [week["tuesday"].lpn]


def test_a_bad_filter_gets_a_400_with_a_message_on_the_page_and_for_the_csv(supervisor_client):
    response = supervisor_client.get(URL, {"status": "lost-in-space", "since": "yesterday"})

    assert response.status_code == 400
    assert "Enter a valid date." in page(response)
    csv_response = supervisor_client.get(CSV_URL, {"since": "yesterday"})
    assert csv_response.status_code == 400
    assert "Enter a valid date." in csv_response.content.decode()


def test_htmx_filtering_swaps_only_the_table(supervisor_client, week):
    response = supervisor_client.get(URL, {"status": Status.INSPECTED}, HTTP_HX_REQUEST="true")

    html = page(response)
    assert html.lstrip().startswith('<div id="queue-table">')
    assert week["monday"].lpn in html and week["tuesday"].lpn not in html
    assert 'href="/supervisor/units/export.csv?status=inspected"' in html


def test_the_csv_holds_every_filtered_unit_with_its_local_receipt_time(supervisor_client, week):
    rows = csv_rows(supervisor_client.get(CSV_URL, {"site": week["monday"].station.site_id}))

    assert rows[0] == [
        "Received",
        "LPN",
        "SKU",
        "Serial",
        "Status",
        "Grade",
        "RMA",
        "Program",
        "Reason",
        "Station",
    ]
    monday = week["monday"]
    assert rows[-1] == [
        localtime(MONDAY).isoformat(timespec="seconds"),
        monday.lpn,
        monday.product.sku,
        "",
        "Inspected, awaiting disposition",
        "B",
        monday.rma_line.rma.number,
        "Customer return",
        "Changed mind",
        "RCV-01",
    ]
    assert [row[1] for row in rows[1:]] == [
        week[day].lpn for day in ("wednesday", "tuesday", "monday")
    ]


def test_the_csv_follows_the_chosen_sort(supervisor_client, week):
    rows = csv_rows(supervisor_client.get(CSV_URL, {"sort": "received_at"}))

    assert [row[1] for row in rows[1:]] == [
        week[day].lpn for day in ("monday", "tuesday", "wednesday", "leeds")
    ]


def test_a_register_page_costs_the_same_few_queries_for_one_unit_as_for_many(
    supervisor_client, make_inspected, station, clerk
):
    def queries() -> int:
        supervisor_client.get(URL)  # configuration cached once
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_client.get(URL).status_code == 200
        return len(captured)

    make_unit_at(Status.RECEIVED, station=station, user=clerk)
    with_one = queries()
    for grade in "ABC" * 4:
        make_unit_at(Status.RECEIVED, station=station, user=clerk)
        make_inspected(grade)

    assert queries() == with_one <= MAX_QUERIES
