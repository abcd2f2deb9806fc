"""The outbox is written with the change that causes it; deliveries are signed, retried, ordered."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from inspection.services import start_inspection
from returns_desk import outbox, services, webhooks
from returns_desk.integrity import outbox_events_have_a_cause
from returns_desk.models import (
    ItemEvent,
    OutboxEvent,
    ReturnItem,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.disposition.helpers import make_checklist
from tests.factories import ProductFactory, make_rma, make_unit_at, open_parcel

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


class Receiver:
    """A webhook receiver on 127.0.0.1: records each request, answers the statuses queued."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[tuple[str, str]]:
        return [
            (json.loads(r["body"])["type"], json.loads(r["body"])["data"]["rma"]["number"])
            for r in self.requests
        ]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(autouse=True)
def _prompt_delivery(settings):
    settings.WEBHOOK_SETTLE_SECONDS = 0
    settings.WEBHOOK_BACKOFF_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT_SECONDS = 5


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(name="Shop", url=receiver.url, secret="s3cret")


def receive(station, clerk, *lines, **rma_fields):
    """An RMA with `lines`, its parcel opened and its first line's first unit received."""
    rma = make_rma(*lines, **rma_fields)
    parcel = open_parcel(rma, station, clerk)
    item, _ = services.receive_unit(
        parcel=parcel, code=lines[0][0].sku, station=station, user=clerk
    )
    return rma, parcel, item


def make_due_now():
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())


# --- the outbox ---------------------------------------------------------------------------------


def test_receiving_a_unit_writes_its_event_to_the_outbox(station, clerk):
    rma, _, item = receive(station, clerk, (ProductFactory(), 2))

    event = OutboxEvent.objects.get()
    assert event.event_type == "unit.received"
    assert event.aggregate_key == rma.number
    assert event.payload["unit"]["lpn"] == item.lpn
    assert event.payload["rma"]["number"] == rma.number
    assert event.payload["rma"]["status"] == "partially_received"  # as this unit left it
    assert "user" not in event.payload and "station" not in event.payload


def test_a_change_that_rolls_back_leaves_no_outbox_event(station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
        raise RuntimeError("the database went away before the commit")

    assert not ItemEvent.objects.filter(action="received").exists()
    assert not OutboxEvent.objects.exists()


def test_the_last_unit_of_an_rma_also_tells_that_the_rma_is_complete(station, clerk):
    rma, _, _ = receive(station, clerk, (ProductFactory(), 1))

    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "unit.received",
        "rma.completed",
    ]
    assert {event.payload["rma"]["status"] for event in OutboxEvent.objects.all()} == {"received"}


def test_actions_nobody_outside_needs_write_no_outbox_event(station, clerk):
    open_parcel(make_rma((ProductFactory(), 1)), station, clerk)

    assert ItemEvent.objects.filter(action="parcel_received").exists()
    assert not OutboxEvent.objects.exists()


def test_a_grading_recorded_on_a_unit_is_told_as_graded(station, clerk):
    _, _, item = receive(station, clerk, (ProductFactory(), 2))

    with transaction.atomic():
        services.record_event(
            item=item, action="inspected", user=clerk, station=station, details={"grade": "B"}
        )

    event = OutboxEvent.objects.filter(event_type="unit.graded").get()
    assert event.payload["details"] == {"grade": "B"}


@pytest.fixture
def held_unit(station, clerk) -> ReturnItem:
    """A wrong item labelled and held: integrations have heard it was received."""
    item = make_unit_at(ReturnItem.Status.HELD, station=station, user=clerk)
    assert OutboxEvent.objects.get().event_type == "unit.received"
    return item


@pytest.mark.parametrize(
    ("resolve", "event_type", "to_status"),
    [
        (services.release_exception, "unit.released", "received"),
        (services.refuse_exception, "unit.returned_to_sender", "closed"),
        (services.write_off_exception, "unit.written_off", "closed"),
    ],
)
def test_a_supervisors_resolution_of_a_held_unit_is_told_to_integrations(
    held_unit, supervisor, resolve, event_type, to_status
):
    resolve(exception=held_unit.exceptions.get(), reason="checked the box", user=supervisor)

    event = OutboxEvent.objects.get(event_type=event_type)
    assert event.aggregate_key == held_unit.parcel.rma.number
    assert event.payload["unit"]["lpn"] == held_unit.lpn
    assert event.payload["unit"]["status"] == to_status
    assert (event.payload["from_status"], event.payload["to_status"]) == ("held", to_status)
    assert event.payload["details"]["reason"] == "checked the box"
    assert "user" not in event.payload and "station" not in event.payload
    assert list(outbox_events_have_a_cause()) == []


@pytest.mark.parametrize(
    ("resolve", "event_type"),
    [
        (services.refuse_exception, "unit.returned_to_sender"),
        (services.write_off_exception, "unit.written_off"),
    ],
)
def test_each_unit_closed_with_a_refused_parcel_is_told_to_integrations(
    station, clerk, supervisor, inspection_station, resolve, event_type
):
    product = ProductFactory()
    make_checklist(product.category)
    rma = make_rma((product, 2))
    parcel = open_parcel(rma, station, clerk)
    waiting, inspecting = (
        services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)[0]
        for _ in range(2)
    )
    held, _ = services.receive_exception_unit(
        parcel=parcel, code="ALIEN-1", kind="wrong_item", station=station, user=clerk
    )
    start_inspection(lpn=inspecting.lpn, station=inspection_station, user=clerk)
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="odd box")

    resolve(exception=parcel.exceptions.get(kind="parked"), reason="not ours", user=supervisor)

    told = OutboxEvent.objects.filter(event_type=event_type)
    assert sorted(event.payload["unit"]["lpn"] for event in told) == [waiting.lpn, held.lpn]
    assert {event.aggregate_key for event in told} == {rma.number}
    assert list(outbox_events_have_a_cause()) == []


def test_events_that_are_not_a_units_are_enqueued_by_their_service():
    with transaction.atomic():
        outbox.enqueue(
            event_type=outbox.LOT_CLOSED, aggregate_key="lot:L-1", payload={"lot": "L-1"}
        )

    assert OutboxEvent.objects.get().aggregate_key == "lot:L-1"


# --- delivery -----------------------------------------------------------------------------------


def test_an_event_is_delivered_signed_with_the_endpoint_secret(station, clerk, endpoint, receiver):
    rma, _, item = receive(station, clerk, (ProductFactory(), 2))

    run = webhooks.deliver_due()

    assert run.delivered == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    signed = f"{headers['X-ReturnsDesk-Timestamp']}.".encode() + body
    expected = hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
    assert headers["X-ReturnsDesk-Signature"] == f"sha256={expected}"
    assert headers["X-ReturnsDesk-Event"] == "unit.received"
    document = json.loads(body)
    assert document["id"] == headers["X-ReturnsDesk-Event-Id"]
    assert document["data"]["unit"]["lpn"] == item.lpn
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1


def test_a_failed_delivery_is_retried_after_a_growing_wait(station, clerk, endpoint, receiver):
    receive(station, clerk, (ProductFactory(), 2))
    receiver.statuses = [500, 503]

    before = timezone.now()
    assert webhooks.deliver_due().retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 500
    assert timedelta(seconds=29) < delivery.next_attempt_at - before < timedelta(seconds=35)
    assert webhooks.deliver_due().retrying == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    make_due_now()
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert timedelta(seconds=55) < delivery.next_attempt_at - timezone.now() < timedelta(seconds=65)

    make_due_now()
    assert webhooks.deliver_due().delivered == 1
    assert len(receiver.requests) == 3


def test_a_delivery_failing_every_attempt_is_dead_lettered(station, clerk, endpoint, receiver):
    receive(station, clerk, (ProductFactory(), 2))
    receiver.statuses = [500] * 10

    for _ in range(3):
        make_due_now()
        webhooks.deliver_due()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.DEAD
    assert delivery.attempts == 3
    make_due_now()
    webhooks.deliver_due()
    assert len(receiver.requests) == 3


def test_an_unreachable_endpoint_is_a_failed_attempt(station, clerk, endpoint):
    endpoint.url = "http://127.0.0.1:9/nothing-listens-here"
    endpoint.save()
    receive(station, clerk, (ProductFactory(), 2))

    assert webhooks.deliver_due().retrying == 1
    assert WebhookDelivery.objects.get().last_error


def test_a_redirect_is_not_followed_but_counted_as_a_failure(station, clerk, endpoint, receiver):
    receive(station, clerk, (ProductFactory(), 2))
    receiver.statuses = [302]

    webhooks.deliver_due()

    assert WebhookDelivery.objects.get().last_status_code == 302
    assert len(receiver.requests) == 1


def test_an_rmas_events_are_delivered_in_order_even_across_failures(
    station, clerk, endpoint, receiver
):
    product = ProductFactory()
    rma = make_rma((product, 2))
    parcel = open_parcel(rma, station, clerk)
    services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    other, _, _ = receive(station, clerk, (ProductFactory(), 2))
    receiver.statuses = [500]  # the first event of the first RMA fails once

    webhooks.deliver_due()

    # The first RMA's later events wait behind its failed one; the other RMA goes ahead.
    assert receiver.events() == [("unit.received", rma.number), ("unit.received", other.number)]
    make_due_now()
    webhooks.deliver_due()
    assert receiver.events()[2:] == [
        ("unit.received", rma.number),
        ("unit.received", rma.number),
        ("rma.completed", rma.number),
    ]


def test_a_dead_letter_holds_back_its_rma_until_it_is_replayed(
    station, clerk, endpoint, receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    product = ProductFactory()
    rma, parcel, _ = receive(station, clerk, (product, 2))
    services.receive_unit(parcel=parcel, code=product.sku, station=station, user=clerk)
    receiver.statuses = [500]

    webhooks.deliver_due()
    assert WebhookDelivery.objects.filter(status=Status.DEAD).count() == 1
    assert WebhookDelivery.objects.filter(status=Status.PENDING).count() == 2

    webhooks.replay(WebhookDelivery.objects.filter(status=Status.DEAD))
    assert webhooks.deliver_due().delivered == 3
    assert [event for event, _ in receiver.events()] == [
        "unit.received",
        "unit.received",
        "unit.received",
        "rma.completed",
    ]


def test_an_endpoint_gets_only_the_event_types_it_asked_for(station, clerk, endpoint, receiver):
    endpoint.event_types = ["rma.completed"]
    endpoint.save()
    receive(station, clerk, (ProductFactory(), 1))

    webhooks.deliver_due()

    assert [event for event, _ in receiver.events()] == ["rma.completed"]


def test_new_events_wait_a_moment_so_a_slower_commit_keeps_its_place(
    station, clerk, endpoint, settings
):
    settings.WEBHOOK_SETTLE_SECONDS = 60
    receive(station, clerk, (ProductFactory(), 2))

    assert webhooks.fan_out() == 0
    assert webhooks.fan_out(now=timezone.now() + timedelta(seconds=61)) == 1


def test_a_claimed_delivery_cannot_be_claimed_by_a_second_worker(station, clerk, endpoint):
    receive(station, clerk, (ProductFactory(), 2))
    webhooks.fan_out()

    first = webhooks.claim_next(timezone.now())

    assert first is not None
    assert webhooks.claim_next(timezone.now()) is None
    # A worker that died lets its lease lapse; then another may take the delivery over.
    assert webhooks.claim_next(timezone.now() + timedelta(minutes=5)) == first


def test_the_deliver_webhooks_command_delivers_once(station, clerk, endpoint, receiver, capsys):
    receive(station, clerk, (ProductFactory(), 1))

    call_command("deliver_webhooks")

    assert "2 delivered" in capsys.readouterr().out
    assert len(receiver.requests) == 2


def test_the_admin_lists_deliveries_and_replays_one(admin_client, station, clerk, endpoint):
    receive(station, clerk, (ProductFactory(), 2))
    webhooks.fan_out()
    WebhookDelivery.objects.update(status=Status.DEAD, attempts=3)
    delivery = WebhookDelivery.objects.get()

    listing = admin_client.get("/admin/returns_desk/webhookdelivery/?status=dead")
    response = admin_client.post(
        "/admin/returns_desk/webhookdelivery/",
        {"action": "replay", "_selected_action": [delivery.pk]},
    )

    assert listing.status_code == 200 and "unit.received" in listing.text
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 0
