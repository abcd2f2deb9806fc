"""A unit's timeline, an RMA's page and the global search box."""

import re

import pytest

from disposition import services as disposition
from returns_desk.models import ReturnItem
from tests.factories import ProductFactory, make_rma, make_unit_at

pytestmark = pytest.mark.django_db


def test_a_units_timeline_shows_its_events_grade_answers_disposition_refund_and_lot(
    supervisor_client, make_inspected, rules, config, station, clerk, django_assert_max_num_queries
):
    unit = make_inspected("X")
    decided, _ = disposition.decide_disposition(item=unit, station=station, user=clerk)

    with django_assert_max_num_queries(24):
        response = supervisor_client.get(f"/supervisor/units/{unit.lpn.lower()}/")

    html = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Received",
        "Inspection started",
        "Disposition decided",
        'grade <span class="grade">X</span>',
        "Condition",
        "Disposition: Recycle",
        f"lot {decided.lot.code}",
        "Refund: 0.00",
        "clara at RCV-01",
    ]:
        assert text in html


def test_an_rma_page_shows_lines_expected_against_received_and_its_units(
    supervisor_client, station, clerk
):
    unit = make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)
    rma = unit.rma_line.rma

    html = supervisor_client.get(f"/supervisor/rmas/{rma.number}/").content.decode()

    assert f"RMA {rma.number}" in html
    assert '<td class="num">1</td><td class="num">1</td><td class="num">0</td>' in html
    assert unit.lpn in html and "Received, awaiting inspection" in html


def test_search_goes_to_the_unit_of_an_lpn_or_serial(supervisor_client, station, clerk):
    unit = make_unit_at(
        ReturnItem.Status.RECEIVED,
        station=station,
        user=clerk,
        serial="SN-77",
        product=ProductFactory(serialised=True),
    )

    assert supervisor_client.get("/supervisor/search/", {"q": unit.lpn}).url == (
        f"/supervisor/units/{unit.lpn}/"
    )
    assert supervisor_client.get("/supervisor/search/", {"q": " sn-77 "}).url == (
        f"/supervisor/units/{unit.lpn}/"
    )


def test_search_goes_to_the_rma_of_a_number_order_or_tracking(supervisor_client):
    rma = make_rma((ProductFactory(), 1), tracking="1Z-TRACK")

    for code in [rma.number, rma.order_reference.lower(), "1z-track"]:
        response = supervisor_client.get("/supervisor/search/", {"q": code})
        assert response.url == f"/supervisor/rmas/{rma.number}/"


def test_search_lists_several_rmas_of_one_order(supervisor_client):
    first = make_rma((ProductFactory(), 1), order_reference="ORD-2")
    second = make_rma((ProductFactory(), 1), order_reference="ORD-2")

    html = supervisor_client.get("/supervisor/search/", {"q": "ord-2"}).content.decode()

    assert first.number in html and second.number in html


@pytest.mark.parametrize(("code", "status"), [("NOTHING-9", 404), ("", 400), ("\x00", 400)])
def test_search_for_nothing_known_or_no_code_says_so(supervisor_client, code, status):
    response = supervisor_client.get("/supervisor/search/", {"q": code})

    assert response.status_code == status
    assert 'role="alert"' in response.content.decode()


def test_the_search_box_is_in_every_supervisor_header(supervisor_client):
    assert 'role="search"' in supervisor_client.get("/supervisor/").content.decode()


def test_a_clerk_has_no_search_box_and_no_unit_pages(clerk_client, station, clerk):
    unit = make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)

    assert "global-search" not in clerk_client.get("/receiving/").content.decode()
    assert clerk_client.get(f"/supervisor/units/{unit.lpn}/").status_code == 403
    assert clerk_client.get(f"/supervisor/rmas/{unit.rma_line.rma.number}/").status_code == 403
    assert clerk_client.get("/supervisor/search/", {"q": unit.lpn}).status_code == 403


def test_the_dashboards_default_dates_show_in_the_date_pickers(client, supervisor):
    # A date input only accepts ISO dates: a localised "16/11/2026" would show an empty picker.
    client.force_login(supervisor)

    html = client.get("/supervisor/").content.decode()

    pickers = re.findall(r'<input type="date" name="(since|until)" value="([^"]*)"', html)
    assert [name for name, _ in pickers] == ["since", "until"]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) for _, value in pickers)


def test_unit_queues_name_their_columns_for_what_they_hold(client, supervisor):
    client.force_login(supervisor)

    html = client.get("/supervisor/queues/awaiting_inspection/").content.decode()

    headers = re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?\s*([^<]+?)\s*<", html)
    assert {"LPN", "SKU", "RMA", "Program", "Reason", "Station"} <= set(headers)
