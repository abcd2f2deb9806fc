"""Disposition tells the outside world through the core: history, outbox, e-mail, API facts."""

from decimal import Decimal

import pytest
from django.core import mail

from disposition import services
from disposition.models import Lot
from returns_desk import apikeys, notifications, outbox
from returns_desk.models import ApiKey, ItemEvent, OutboxEvent

pytestmark = pytest.mark.django_db


def test_releasing_a_refund_is_in_the_history_the_outbox_and_the_customers_inbox(
    make_inspected, rules, station, clerk, config
):
    unit = make_inspected("A")

    services.decide_disposition(item=unit, station=station, user=clerk)
    notifications.send_due()

    event = ItemEvent.objects.get(item=unit, action="refund_released")
    assert Decimal(event.details["amount"]) == unit.refund.amount
    released = OutboxEvent.objects.get(event_type="refund.released")
    assert released.payload["unit"]["lpn"] == unit.lpn
    assert [message.to for message in mail.outbox if "refund" in message.subject.lower()] == [
        [unit.rma_line.rma.customer_email]
    ]


def _tracked(client, unit) -> str:
    rma = unit.rma_line.rma
    return client.post("/track/", {"number": rma.number, "email": rma.customer_email}).text


def test_a_unit_with_no_refund_tells_the_shop_but_not_the_customer(
    client, make_inspected, rules, station, clerk, config
):
    unit = make_inspected("X")  # recycled, with no refund

    services.decide_disposition(item=unit, station=station, user=clerk)
    notifications.send_due()

    assert unit.refund.amount == 0
    assert OutboxEvent.objects.filter(event_type="refund.released").count() == 1
    assert [message.subject for message in mail.outbox if "refund" in message.subject] == []
    assert "refund" not in _tracked(client, unit).lower()


def test_store_credit_is_told_as_store_credit(
    client, make_inspected, rules, station, clerk, config
):
    rules["restock"].refund = "store_credit"
    rules["restock"].save()
    unit = make_inspected("A", price="40.00")
    unit.product.name = "Electric kettle"
    unit.product.save()

    services.decide_disposition(item=unit, station=station, user=clerk)
    notifications.send_due()

    [message] = [message for message in mail.outbox if "released" in message.subject]
    rma = unit.rma_line.rma
    assert message.subject == f"Return {rma.number}: your store credit has been released"
    assert (
        f"The store credit of {unit.refund.amount} for Electric kettle on your return {rma.number}"
        " has been released." in message.body
    )
    assert "the way you paid" not in message.body
    assert "Store credit for Electric kettle has been released." in _tracked(client, unit)


def test_an_override_waiting_for_approval_releases_its_refund_only_when_approved(
    make_inspected, rules, station, clerk, supervisor, config
):
    unit = make_inspected("A", value="900.00")
    disposition, _ = services.decide_disposition(
        item=unit,
        station=station,
        user=clerk,
        outcome="donate",
        override_reason="other",
        override_note="Charity drive",
    )
    assert not ItemEvent.objects.filter(item=unit, action="refund_released").exists()

    services.approve_override(disposition=disposition, user=supervisor, station=station)

    assert ItemEvent.objects.filter(item=unit, action="refund_released").count() == 1


def test_closing_a_lot_writes_one_lot_closed_event_naming_its_units(
    make_inspected, rules, station, clerk, supervisor, config
):
    units = [make_inspected("X") for _ in range(2)]
    for unit in units:
        services.decide_disposition(item=unit, station=station, user=clerk)

    services.close_lot(lot=Lot.objects.get(), user=supervisor, weight_kg=Decimal("1.5"))

    closed = OutboxEvent.objects.get(event_type=outbox.LOT_CLOSED)
    assert sorted(closed.payload["units"]) == sorted(unit.lpn for unit in units)
    assert closed.payload["weight_kg"] == "1.5"


def test_the_api_unit_read_carries_grade_disposition_and_refund(
    client, make_inspected, rules, station, clerk, config
):
    unit = make_inspected("A")
    services.decide_disposition(item=unit, station=station, user=clerk)
    key = apikeys.issue_key(name="BI", scope=ApiKey.Scope.READ)[1]

    body = client.get(f"/api/v1/units/{unit.lpn}", HTTP_AUTHORIZATION=f"Bearer {key}").json()

    assert body["grade"]["code"] == "A"
    assert body["disposition"]["outcome"] == "restock"
    assert body["refund"] == {
        "status": "released",
        "treatment": unit.refund.treatment,
        "amount": str(unit.refund.amount),
    }
