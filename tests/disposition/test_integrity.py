"""`manage.py check_integrity`: a flow run through the services passes; each corruption is caught.

Corruptions go through `queryset.update()`, which skips the services, as a bad migration, a
hand-edited row or a half-applied restore would.
"""

import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from disposition import services
from disposition.models import Disposition, Lot, RefundInstruction, RepairOrder
from inspection import services as inspection
from inspection.models import Inspection
from returns_desk.models import (
    OutboxEvent,
    ReceivingException,
    ReturnItem,
    ReturnPolicy,
    RMALine,
)
from tests.factories import make_unit_at

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


def _violations() -> list[str]:
    """The violations the command lists; [] when it passes (and exits 0)."""
    out = StringIO()
    try:
        call_command("check_integrity", stdout=out)
    except CommandError:
        return [line.split(": ", 1)[1] for line in out.getvalue().splitlines()]
    assert "integrity checks passed" in out.getvalue()
    return []


def test_without_a_replica_it_reads_the_primary_and_says_so():
    out = StringIO()
    call_command("check_integrity", stdout=out)

    assert "(read from the database 'default')" in out.getvalue()


@pytest.fixture
def flow(make_inspected, rules, config, station, clerk, supervisor):
    """Units in every state a decision leaves them in, all reached through the services."""
    restocked = make_inspected("A")
    services.decide_disposition(item=restocked, station=station, user=clerk)
    services.put_away(item=restocked, code="RESTOCK-A", station=station, user=clerk)
    scrapped = make_inspected("X")
    scrap, _ = services.decide_disposition(item=scrapped, station=station, user=clerk)
    shipped = make_inspected("X")
    services.decide_disposition(item=shipped, station=station, user=clerk)
    services.close_lot(lot=scrap.lot, user=supervisor, weight_kg=Decimal("1.5"))
    on_bench = make_inspected("C")
    services.decide_disposition(item=on_bench, station=station, user=clerk)
    services.put_away(item=on_bench, code="REPAIR-BENCH", station=station, user=clerk)
    waiting = make_inspected("B", value="500.00")
    services.decide_disposition(
        item=waiting,
        station=station,
        user=clerk,
        outcome="donate",
        override_reason=Disposition.OverrideReason.CUSTOMER_GOODWILL,
    )
    in_open_lot = make_inspected("X")
    decided, _ = services.decide_disposition(item=in_open_lot, station=station, user=clerk)
    return {
        "restocked": restocked,
        "shipped": shipped,
        "on_bench": on_bench,
        "waiting": waiting,
        "in_open_lot": in_open_lot,
        "open_lot": decided.lot,
        "closed_lot": scrap.lot,
    }


def test_a_flow_run_through_the_services_passes(flow):
    assert _violations() == []


def test_a_unit_whose_status_disagrees_with_its_history_is_caught(flow):
    ReturnItem.objects.filter(pk=flow["restocked"].pk).update(status=Status.INSPECTED)

    item = flow["restocked"]
    assert f"{item.lpn} is inspected but its history last moved it to put_away." in _violations()


def test_a_unit_without_history_is_caught(flow, station, clerk):
    item = flow["restocked"]
    ReturnItem.objects.create(
        lpn="LPN-GHOST", parcel=item.parcel, scanned_code="X", station=station, received_by=clerk
    )

    assert "LPN-GHOST is received but its history records no move." in _violations()


def test_a_received_count_that_disagrees_with_the_units_is_caught(flow):
    item = flow["restocked"]
    RMALine.objects.filter(pk=item.rma_line_id).update(quantity_received=0)

    assert (
        f"RMA {item.rma_line.rma.number} line 1 counts 0 received but holds 1 unit(s)."
    ) in _violations()


def test_a_unit_being_inspected_without_an_open_inspection_is_caught(
    flow, station, clerk, supervisor
):
    item = flow["restocked"]
    inspection.reopen_unit(item=item, reason="Recount the parts", user=supervisor)
    opened = inspection.start_inspection(lpn=item.lpn, station=station, user=clerk)
    Inspection.objects.filter(pk=opened.pk).update(superseded=True)

    assert f"{item.lpn} is inspecting but has no open inspection in force." in _violations()


def test_a_graded_unit_without_its_inspection_is_caught(flow):
    item = flow["restocked"]
    Inspection.objects.filter(item=item).update(superseded=True)

    assert f"{item.lpn} is put_away but has no finished inspection in force." in _violations()


def test_a_decided_unit_without_a_disposition_is_caught(flow):
    item = flow["restocked"]
    Disposition.objects.filter(item=item).update(status=Disposition.Status.SUPERSEDED)

    assert f"{item.lpn} is put_away with 0 active dispositions." in _violations()


def test_an_approval_the_unit_no_longer_waits_for_is_caught(flow):
    item = flow["waiting"]
    Disposition.objects.filter(item=item).update(
        status=Disposition.Status.DECIDED, approval=Disposition.Approval.APPROVED
    )

    assert f"{item.lpn} awaits approval but its disposition does not." in _violations()


def test_a_refund_amount_changed_by_hand_is_caught(flow):
    item = flow["restocked"]
    RefundInstruction.objects.filter(item=item).update(amount=Decimal("1.00"))

    assert f"{item.lpn}'s refund amount is 1.00; policy gives 40.00." in _violations()


def test_a_pending_refund_that_no_longer_matches_its_policy_is_caught(flow):
    item = flow["waiting"]
    refund = RefundInstruction.objects.get(item=item)
    ReturnPolicy.objects.filter(rmas__lines__items=item).update(restocking_fee_percent=50)

    assert f"{item.lpn}'s refund amount is {refund.amount}; policy gives 20.00." in _violations()


def test_a_policy_edited_after_a_refund_was_released_leaves_that_refund_alone(flow):
    ReturnPolicy.objects.update(restocking_fee_percent=50)
    RefundInstruction.objects.filter(status=RefundInstruction.Status.PENDING).delete()
    ReturnItem.objects.filter(status=Status.AWAITING_APPROVAL).update(status=Status.INSPECTED)

    assert not [line for line in _violations() if "refund" in line]


def test_a_decided_unit_without_a_refund_is_caught(flow):
    item = flow["restocked"]
    RefundInstruction.objects.filter(item=item).delete()

    assert f"{item.lpn} is put_away but has no refund instruction." in _violations()


def test_an_outbox_event_without_its_history_event_is_caught(flow):
    forged = OutboxEvent.objects.create(
        uuid=uuid.uuid4(),
        event_type="unit.graded",
        aggregate_key="RMA-X",
        payload={"unit": {"lpn": flow["restocked"].lpn}, "action": "sold_on_ebay"},
    )

    assert (
        f"Outbox event {forged.uuid} (unit.graded) has no 'sold_on_ebay' event in "
        f"{flow['restocked'].lpn}'s history."
    ) in _violations()


def test_outbox_events_naming_a_missing_rma_or_an_open_lot_are_caught(flow):
    rma = OutboxEvent.objects.create(
        uuid=uuid.uuid4(), event_type="rma.completed", aggregate_key="RMA-GONE", payload={}
    )
    lot = OutboxEvent.objects.create(
        uuid=uuid.uuid4(),
        event_type="lot.closed",
        aggregate_key=f"lot:{flow['open_lot'].code}",
        payload={"lot": flow["open_lot"].code},
    )

    violations = _violations()

    assert (
        f"Outbox event {rma.uuid} (rma.completed) names RMA RMA-GONE, which is gone." in violations
    )
    assert (
        f"Outbox event {lot.uuid} (lot.closed) names lot {flow['open_lot'].code}, which is not "
        "closed."
    ) in violations


def test_a_lot_holding_a_unit_that_was_never_sent_there_is_caught(flow):
    item, lot = flow["on_bench"], flow["closed_lot"]
    Disposition.objects.filter(item=item).update(lot=lot)

    assert (
        f"Lot {lot.code} holds {item.lpn} (in_repair, disposition decided) which does not "
        "belong in it."
    ) in _violations()


def test_a_lot_count_that_disagrees_with_its_units_is_caught(flow):
    lot = flow["open_lot"]
    Lot.objects.filter(pk=lot.pk).update(units=7)

    assert f"Lot {lot.code} counts 7 units but holds 1." in _violations()


def test_closing_a_lot_leaves_out_a_unit_reopened_since(
    flow, make_inspected, station, clerk, supervisor
):
    item, lot = flow["in_open_lot"], flow["open_lot"]
    services.decide_disposition(item=make_inspected("X"), station=station, user=clerk)
    inspection.reopen_unit(item=item, reason="Customer says it works", user=supervisor)
    assert _violations() == []

    services.close_lot(lot=lot, user=supervisor, weight_kg=None)

    item.refresh_from_db()
    assert item.status == Status.INSPECTED
    assert Disposition.objects.filter(lot=lot).count() == 1
    assert not Disposition.objects.filter(item=item, status__in=Disposition.ACTIVE).exists()
    assert _violations() == []


def test_a_unit_whose_program_copy_went_stale_is_caught(flow):
    item = flow["restocked"]
    ReturnItem.objects.filter(pk=item.pk).update(program=None)

    assert (
        f"{item.lpn}'s program or reason is not its RMA line's, so queue filters miss it."
        in _violations()
    )


@pytest.mark.parametrize("field", ["lpn", "unit_station", "program", "reason"])
def test_a_decision_whose_copy_of_its_unit_went_stale_is_caught(flow, field):
    item = flow["waiting"]
    stale = {"lpn": "LPN-OTHER", "unit_station": None, "program": None, "reason": None}
    Disposition.objects.filter(item=item).update(**{field: stale[field]})

    assert (
        f"{item.lpn}'s decision copies an LPN, station, program, reason or grade not the unit's."
        in _violations()
    )


def test_a_work_order_whose_grade_copy_went_stale_is_caught(flow):
    item = flow["on_bench"]
    RepairOrder.objects.filter(item=item).update(grade_code="A")

    assert (
        f"{item.lpn}'s work order copies an LPN, station, program, reason or grade not the unit's."
        in _violations()
    )


def test_a_unit_whose_grade_copy_went_stale_is_caught(flow):
    item = flow["restocked"]
    ReturnItem.objects.filter(pk=item.pk).update(grade_code="B")

    assert f"{item.lpn} carries grade 'B' but its current inspection says 'A'." in _violations()


@pytest.mark.parametrize("field", ["lpn", "rma_number", "program"])
def test_an_exception_whose_copy_of_its_unit_or_rma_went_stale_is_caught(
    flow, station, clerk, field
):
    held = make_unit_at(Status.HELD, station=station, user=clerk).exceptions.get()
    assert _violations() == []
    stale = {"lpn": "LPN-OTHER", "rma_number": "RMA-OTHER", "program": None}
    ReceivingException.objects.filter(pk=held.pk).update(**{field: stale[field]})

    assert (
        f"Exception {held.pk} copies an LPN, RMA or program its unit and parcel do not have."
        in _violations()
    )
