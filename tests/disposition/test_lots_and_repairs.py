import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disposition import services
from disposition.exceptions import LotNotOpen, OverrideInvalid, RepairNotOpen
from disposition.integrity import lots_count_their_units
from disposition.models import (
    DefaultDestination,
    Disposition,
    DispositionRule,
    Lot,
    Partner,
    RepairOrder,
)
from returns_desk.models import ItemEvent, ReturnItem
from tests.conftest import client_at_station
from tests.factories import make_unit_at

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


@pytest.fixture
def scrap_lot(make_inspected, rules, station, clerk, config):
    """A recycling lot holding two scrap units, one of them serialised."""
    first = make_inspected("X", value="499.00", serial="SN-1")
    second = make_inspected("X", value="20.00")
    for item in (first, second):
        services.decide_disposition(item=item, station=station, user=clerk)
    return Lot.objects.get()


def test_closing_a_lot_records_its_weight_and_closes_every_unit_in_it(scrap_lot, supervisor):
    lot = services.close_lot(lot=scrap_lot, user=supervisor, weight_kg=Decimal("3.25"))

    assert lot.status == Lot.Status.CLOSED
    assert lot.weight_kg == Decimal("3.25")
    assert lot.closed_by == supervisor
    statuses = ReturnItem.objects.filter(dispositions__lot=lot).values_list("status", flat=True)
    assert list(statuses) == [Status.CLOSED, Status.CLOSED]


def test_closing_a_lot_records_each_unit_leaving_and_costs_the_same_however_full_it_is(
    scrap_lot, supervisor, make_inspected, station, clerk, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as two_units:
        services.close_lot(lot=scrap_lot, user=supervisor, weight_kg=None)
    for _ in range(12):
        services.decide_disposition(item=make_inspected("X"), station=station, user=clerk)
    full = Lot.objects.get(status=Lot.Status.OPEN)

    with django_assert_max_num_queries(len(two_units)):
        services.close_lot(lot=full, user=supervisor, weight_kg=None)

    shipped = ItemEvent.objects.filter(action="shipped_in_lot", details__lot=full.code)
    assert shipped.count() == 12
    assert {(e.from_status, e.to_status) for e in shipped} == {(Status.DISPOSED, Status.CLOSED)}
    assert not ReturnItem.objects.filter(dispositions__lot=full).exclude(status=Status.CLOSED)


def test_a_closed_lot_cannot_be_closed_again_and_the_next_unit_opens_a_new_lot(
    scrap_lot, supervisor, make_inspected, station, clerk
):
    services.close_lot(lot=scrap_lot, user=supervisor, weight_kg=None)

    with pytest.raises(LotNotOpen):
        services.close_lot(lot=scrap_lot, user=supervisor, weight_kg=None)
    disposition, _ = services.decide_disposition(
        item=make_inspected("X"), station=station, user=clerk
    )
    assert disposition.lot != scrap_lot
    assert disposition.lot.status == Lot.Status.OPEN


def test_the_manifest_lists_units_skus_serials_grades_values_and_certifies_destruction(
    client, scrap_lot, supervisor, station
):
    services.close_lot(lot=scrap_lot, user=supervisor, weight_kg=Decimal("3.25"))
    client_at_station(client, supervisor, station)

    page = client.get(f"/disposition/lots/{scrap_lot.pk}/manifest/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Certificate of destruction" in html
    assert "P-42" in html  # the recycler's permit
    assert "SN-1" in html
    assert "3.25 kg" in html
    assert "519.00" in html  # total value


def test_the_manifest_csv_has_one_row_per_unit(client, scrap_lot, supervisor, station):
    client_at_station(client, supervisor, station)

    response = client.get(f"/disposition/lots/{scrap_lot.pk}/manifest.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert len(rows) == 2
    assert {row["serial"] for row in rows} == {"SN-1", ""}
    assert {row["grade"] for row in rows} == {"X"}
    assert {row["unit_value"] for row in rows} == {"499.00", "20.00"}
    assert {row["weight_g"] for row in rows} == {"300"}


def test_a_large_lots_manifest_prints_its_first_units_and_totals_them_all(
    client, scrap_lot, supervisor, station, make_inspected, clerk, monkeypatch
):
    from disposition import views

    monkeypatch.setattr(views, "MANIFEST_PRINTED", 1)
    client_at_station(client, supervisor, station)

    html = client.get(f"/disposition/lots/{scrap_lot.pk}/manifest/").content.decode()
    lines = b"".join(client.get(f"/disposition/lots/{scrap_lot.pk}/manifest.csv").streaming_content)

    assert "The first 1 of the lot’s 2 units are listed here." in html
    assert "519.00" in html  # the total of both
    assert html.count("<td>LPN-") == 1
    assert len(lines.decode().splitlines()) == 3  # the header and both units


def test_a_manifest_costs_the_same_however_many_units_the_lot_holds(
    client, scrap_lot, supervisor, station, make_inspected, clerk, django_assert_max_num_queries
):
    client_at_station(client, supervisor, station)
    pages = (
        f"/disposition/lots/{scrap_lot.pk}/manifest/",
        f"/disposition/lots/{scrap_lot.pk}/manifest.csv",
    )
    with CaptureQueriesContext(connection) as two_units:
        for page in pages:
            response = client.get(page)
            b"".join(response.streaming_content) if response.streaming else response.content
    for _ in range(8):
        services.decide_disposition(item=make_inspected("X"), station=station, user=clerk)

    with django_assert_max_num_queries(len(two_units)):
        for page in pages:
            response = client.get(page)
            b"".join(response.streaming_content) if response.streaming else response.content


def test_a_clerk_cannot_close_a_lot_or_read_its_manifest(clerk_client, scrap_lot):
    assert clerk_client.post(f"/disposition/lots/{scrap_lot.pk}/close/").status_code == 403
    assert clerk_client.get(f"/disposition/lots/{scrap_lot.pk}/manifest/").status_code == 403
    scrap_lot.refresh_from_db()
    assert scrap_lot.status == Lot.Status.OPEN


def test_a_supervisor_closes_a_lot_from_the_lots_page(client, scrap_lot, supervisor, station):
    client_at_station(client, supervisor, station)

    response = client.post(
        f"/disposition/lots/{scrap_lot.pk}/close/",
        {"weight_kg": "12.5", "notes": "collected"},
        HTTP_HX_REQUEST="true",
    )

    scrap_lot.refresh_from_db()
    assert response.status_code == 200
    assert "closed" in response.content.decode()
    assert scrap_lot.status == Lot.Status.CLOSED
    assert scrap_lot.weight_kg == Decimal("12.50")


def test_a_negative_weight_is_refused_and_the_lot_stays_open(
    client, scrap_lot, supervisor, station
):
    client_at_station(client, supervisor, station)

    response = client.post(f"/disposition/lots/{scrap_lot.pk}/close/", {"weight_kg": "-1"})

    scrap_lot.refresh_from_db()
    assert response.status_code == 422
    assert scrap_lot.status == Lot.Status.OPEN


def send_to_bench(item, station, clerk) -> RepairOrder:
    disposition, _ = services.decide_disposition(item=item, station=station, user=clerk)
    services.put_away(item=item, code=disposition.put_away_code, station=station, user=clerk)
    return RepairOrder.objects.get(disposition=disposition)


def test_completing_a_repair_sends_the_unit_back_to_inspection(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("C")
    order = send_to_bench(item, station, clerk)
    item.refresh_from_db()
    assert item.status == Status.IN_REPAIR

    services.complete_repair(order=order, user=clerk, notes="new screen", cost=Decimal("35"))

    item.refresh_from_db()
    order.refresh_from_db()
    assert item.status == Status.RECEIVED
    assert order.status == RepairOrder.Status.DONE
    assert order.cost == Decimal("35.00")
    assert order.disposition.status == Disposition.Status.COMPLETED


def test_a_repair_cannot_be_completed_before_the_unit_reaches_the_bench(
    make_inspected, rules, station, clerk, config
):
    item = make_inspected("C")
    disposition, _ = services.decide_disposition(item=item, station=station, user=clerk)

    with pytest.raises(RepairNotOpen):
        services.complete_repair(order=disposition.repair_order, user=clerk)
    item.refresh_from_db()
    assert item.status == Status.DISPOSED


def reinspect(item, grade: str, checklist, station, clerk):
    from inspection import services as inspection

    started = inspection.start_inspection(lpn=item.lpn, station=station, user=clerk)
    answers = {checklist["condition"].pk: {"A": "4", "C": "2"}[grade]}
    inspection.record_answers(inspection=started, answers=answers, station=station, user=clerk)
    inspection.complete_inspection(inspection=started, station=station, user=clerk)
    return ReturnItem.objects.get(pk=item.pk)


def test_a_repaired_unit_is_graded_and_decided_anew(
    make_inspected, rules, checklist, station, clerk, config
):
    item = make_inspected("C")
    services.complete_repair(order=send_to_bench(item, station, clerk), user=clerk)

    item = reinspect(item, "A", checklist, station, clerk)
    disposition, created = services.decide_disposition(item=item, station=station, user=clerk)

    assert created
    assert disposition.chosen_outcome == "restock"
    assert item.dispositions.count() == 2


def repaired_to_the_limit(item, config, checklist, station, clerk) -> ReturnItem:
    """The unit sent to the bench and graded C again as often as the settings allow."""
    for _ in range(config.max_repair_cycles):
        services.complete_repair(order=send_to_bench(item, station, clerk), user=clerk)
        item = reinspect(item, "C", checklist, station, clerk)
    return item


def test_after_the_most_repairs_allowed_the_unit_goes_to_end_of_life(
    make_inspected, rules, checklist, station, clerk, config
):
    item = repaired_to_the_limit(make_inspected("C"), config, checklist, station, clerk)

    with pytest.raises(OverrideInvalid):
        services.decide_disposition(
            item=item,
            station=station,
            user=clerk,
            outcome="refurbish",
            override_reason="other",
            override_note="one more go",
        )
    disposition, _ = services.decide_disposition(item=item, station=station, user=clerk)

    assert disposition.recommended_outcome == config.end_of_life_outcome == "recycle"
    assert RepairOrder.objects.filter(item=item).count() == config.max_repair_cycles


def test_the_most_repairs_allowed_hold_when_the_rules_send_the_unit_elsewhere(
    make_inspected, rules, checklist, station, clerk, config
):
    item = repaired_to_the_limit(make_inspected("C"), config, checklist, station, clerk)
    item = reinspect(item, "A", checklist, station, clerk)  # the rules now say restock

    with pytest.raises(OverrideInvalid, match="already repaired 2 times"):
        services.decide_disposition(
            item=item,
            station=station,
            user=clerk,
            outcome="repair",
            override_reason="other",
            override_note="one more go",
        )
    assert RepairOrder.objects.filter(item=item).count() == config.max_repair_cycles


def test_units_for_an_outside_repairer_ship_in_its_lot_and_never_wait_for_our_bench(
    clerk_client, make_inspected, rules, station, clerk, supervisor, config
):
    fixit = Partner.objects.create(code="fixit", name="FixIt", kind=Partner.Kind.REPAIRER)
    DispositionRule.objects.filter(pk=rules["repair"].pk).update(partner=fixit, destination_bin="")
    units = [make_inspected("C"), make_inspected("C")]
    for item in units:
        disposition, _ = services.decide_disposition(item=item, station=station, user=clerk)
        services.put_away(item=item, code=disposition.put_away_code, station=station, user=clerk)
    lot = Lot.objects.get(partner=fixit)

    assert "The bench is clear" in clerk_client.get("/disposition/repairs/").content.decode()
    assert not RepairOrder.objects.exists()
    assert lot.units == 2
    services.close_lot(lot=lot, user=supervisor, weight_kg=None)

    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.CLOSED
    assert {unit.status for unit in ReturnItem.objects.filter(pk__in=[u.pk for u in units])} == {
        Status.CLOSED
    }
    assert Disposition.objects.filter(lot=lot, status=Disposition.Status.DECIDED).count() == 2


def test_a_supervisor_takes_a_unit_off_the_bench_without_counting_a_repair(
    make_inspected, rules, checklist, station, clerk, supervisor, config
):
    from inspection import services as inspection

    item = make_inspected("C")
    order = send_to_bench(item, station, clerk)

    inspection.reopen_unit(item=item, reason="Not worth repairing", user=supervisor)
    item = reinspect(item, "A", checklist, station, clerk)
    decided, _ = services.decide_disposition(item=item, station=station, user=clerk)

    order.refresh_from_db()
    assert decided.chosen_outcome == "restock"
    assert order.status == RepairOrder.Status.CANCELLED
    assert order.disposition.status == Disposition.Status.SUPERSEDED
    assert not RepairOrder.objects.filter(item=item, status=RepairOrder.Status.DONE).exists()


def test_a_reopened_unit_waits_for_its_disposition_not_for_the_bench(
    client, make_inspected, rules, station, clerk, supervisor, config
):
    from inspection import services as inspection
    from returns_desk import queues

    on_bench = make_inspected("C")
    send_to_bench(on_bench, station, clerk)
    waiting = make_inspected("A", value="250.00")
    services.decide_disposition(
        item=waiting,
        station=station,
        user=clerk,
        outcome="liquidate",
        override_reason="other",
        override_note="scuffed",
    )
    for item in (on_bench, waiting):
        inspection.reopen_unit(item=item, reason="Looked again", user=supervisor)
    client_at_station(client, supervisor, station)

    pages = {
        key: client.get(f"/supervisor/queues/{key}/").content.decode()
        for key in ("repairs", "awaiting_approval", "awaiting_disposition")
    }
    counts = {row["queue"].key: row["count"] for row in queues.navigation()}

    assert on_bench.lpn not in pages["repairs"]
    assert on_bench.lpn in pages["awaiting_disposition"]
    assert waiting.lpn in pages["awaiting_disposition"]
    # Still listed for approval until decided again; approving it is refused, saying why.
    assert waiting.lpn in pages["awaiting_approval"]
    assert (counts["repairs"], counts["awaiting_disposition"]) == ("0", "2")


def test_a_technician_finishes_a_repair_from_the_queue(
    clerk_client, make_inspected, rules, station, clerk, config
):
    item = make_inspected("C")
    order = send_to_bench(item, station, clerk)

    queue = clerk_client.get("/disposition/repairs/")
    response = clerk_client.post(
        f"/disposition/repairs/{order.pk}/complete/", {"notes": "reseated", "cost": "12.40"}
    )

    item.refresh_from_db()
    assert item.lpn in queue.content.decode()
    assert response.status_code == 200
    assert item.status == Status.RECEIVED
    assert clerk_client.get(f"/disposition/repairs/{order.pk}/complete/").status_code == 405


def test_the_bench_lists_its_oldest_work_and_finds_any_order_by_the_units_lpn(
    clerk_client, make_inspected, rules, station, clerk, config, monkeypatch
):
    from disposition import views

    monkeypatch.setattr(views, "BENCH_SHOWN", 2)
    units = [make_inspected("C") for _ in range(3)]
    for item in units:
        services.decide_disposition(item=item, station=station, user=clerk)

    bench = clerk_client.get("/disposition/repairs/").content.decode()
    found = clerk_client.get("/disposition/repairs/", {"lpn": units[2].lpn.lower()})

    assert [item.lpn in bench for item in units] == [True, True, False]
    assert "The oldest 2 orders are shown. Scan a unit" in bench
    page = found.content.decode()
    assert found.status_code == 200
    assert [item.lpn in page for item in units] == [False, False, True]
    assert 'name="notes" maxlength="4000" data-focus-next' in page


def test_a_scanned_lpn_without_work_on_the_bench_says_so(
    clerk_client, make_inspected, rules, station, clerk, supervisor, config
):
    from inspection import services as inspection

    reopened = make_inspected("C")
    services.decide_disposition(item=reopened, station=station, user=clerk)
    inspection.reopen_unit(item=reopened, reason="Grade looked wrong", user=supervisor)

    for lpn in ("LPN-99999999", reopened.lpn):
        answer = clerk_client.get("/disposition/repairs/", {"lpn": lpn}, HTTP_HX_REQUEST="true")
        assert answer.status_code == 404
        assert f"{lpn} has no repair order waiting for the bench" in answer.content.decode()
    # Not coming to the bench until it is decided again: not listed either.
    assert reopened.lpn not in clerk_client.get("/disposition/repairs/").content.decode()


def test_the_bench_costs_the_same_however_much_work_waits(
    clerk_client, make_inspected, rules, station, clerk, config, django_assert_max_num_queries
):
    services.decide_disposition(item=make_inspected("C"), station=station, user=clerk)
    with CaptureQueriesContext(connection) as one_order:
        clerk_client.get("/disposition/repairs/")
    for _ in range(6):
        services.decide_disposition(item=make_inspected("C"), station=station, user=clerk)

    with django_assert_max_num_queries(len(one_order)):
        clerk_client.get("/disposition/repairs/")


def test_a_received_unit_never_shows_in_the_repair_queue(clerk_client, station, clerk):
    make_unit_at(Status.RECEIVED, station=station, user=clerk)

    assert "The bench is clear" in clerk_client.get("/disposition/repairs/").content.decode()


def test_the_lots_and_repairs_pages_write_dates_as_the_rest_of_the_desk_does(
    client, scrap_lot, make_inspected, station, clerk, supervisor
):
    """Day, month name and year, 24-hour clock: "28/11/2026" reads as a different day to a
    colleague used to month-first dates."""
    opened = datetime(2026, 11, 28, 10, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))
    order = send_to_bench(make_inspected("C"), station, clerk)
    RepairOrder.objects.filter(pk=order.pk).update(opened_at=opened)
    Lot.objects.filter(pk=scrap_lot.pk).update(opened_at=opened)
    client_at_station(client, supervisor, station)

    for page in ("/disposition/lots/", "/disposition/repairs/"):
        html = client.get(page).content.decode()
        assert "28 Nov 2026 10:01" in html, page
        assert "28/11/2026" not in html, page


def units_in_lots() -> dict[str, int]:
    return dict(Lot.objects.values_list("outcome", "units"))


def test_a_lot_counts_the_units_decided_into_it_until_they_leave(
    make_inspected, rules, checklist, partner, station, clerk, supervisor, config
):
    from inspection import services as inspection

    charity = Partner.objects.create(code="shelter", name="Shelter", kind=Partner.Kind.CHARITY)
    DefaultDestination.objects.create(outcome="donate", partner=charity)
    scrap = [make_inspected("X") for _ in range(3)]
    for item in scrap:
        services.decide_disposition(item=item, station=station, user=clerk)
    waiting, _ = services.decide_disposition(
        item=make_inspected("B", value="250.00"),
        station=station,
        user=clerk,
        outcome="donate",
        override_reason=Disposition.OverrideReason.CUSTOMER_GOODWILL,
    )
    assert units_in_lots() == {"recycle": 3}

    services.approve_override(disposition=waiting, user=supervisor)
    assert units_in_lots() == {"recycle": 3, "donate": 1}

    # Re-graded A after a reopening: out of the lot, onto the restock shelf.
    inspection.reopen_unit(item=scrap[0], reason="Works after all", user=supervisor)
    restocked = reinspect(scrap[0], "A", checklist, station, clerk)
    services.decide_disposition(item=restocked, station=station, user=clerk)
    # Decided again to another partner: out of one lot, into the other.
    inspection.reopen_unit(item=scrap[1], reason="A school asked for it", user=supervisor)
    services.decide_disposition(
        item=ReturnItem.objects.get(pk=scrap[1].pk),
        station=station,
        user=clerk,
        outcome="donate",
        override_reason=Disposition.OverrideReason.CUSTOMER_GOODWILL,
    )
    assert units_in_lots() == {"recycle": 1, "donate": 2}

    # Closing leaves a unit reopened since behind, and out of the count.
    inspection.reopen_unit(item=scrap[2], reason="Check the serial", user=supervisor)
    services.decide_disposition(item=make_inspected("X"), station=station, user=clerk)
    services.close_lot(lot=Lot.objects.get(outcome="recycle"), user=supervisor, weight_kg=None)
    assert units_in_lots() == {"recycle": 1, "donate": 2}
    assert list(lots_count_their_units()) == []


def test_the_open_lots_queue_shows_each_lots_count_without_counting_its_units(
    client, scrap_lot, supervisor, station
):
    client = client_at_station(client, supervisor, station)
    client.get("/supervisor/queues/open_lots/")

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/supervisor/queues/open_lots/").content.decode()

    assert (
        f'{scrap_lot.code}</a></td><td >GreenCycle</td><td >Recycle</td><td class="num">2</td>'
        in page
    )
    # The decisions are read for the navigation's counts, but none by the lot they are in.
    assert not [q for q in queries if '"disposition_disposition"."lot_id"' in q["sql"]]
