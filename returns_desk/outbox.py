"""The outbox: events worth telling integrations, written in the transaction of the change.

Everything that changes a unit appends an ItemEvent through `services.record_event`, so that
is the one hook: `record_for_event` turns the actions in ACTIONS into outbox events in the same
transaction. A rolled-back change therefore never leaves an event behind, and a committed one
always does. Events that are not a unit's (an RMA fully received, a lot closed) are written
with `enqueue` by the service that makes them, inside its own transaction.

`manage.py deliver_webhooks` (returns_desk/webhooks.py) sends them to the endpoints.
"""

import uuid

from .models import ItemEvent, OutboxEvent, ReturnAuthorization, ReturnItem

# History action -> webhook event type. Later apps add nothing here: they record these actions
# on the unit's history ("inspected" from inspection; "disposition_decided", "override_approved"
# and "refund_released" from disposition) and the hook does the rest.
ACTIONS = {
    "received": "unit.received",
    # A held unit (wrong item, over-receipt) a supervisor accepted, or closed with its parcel or
    # on its own: integrations heard it arrive, so they hear where it went.
    "released": "unit.released",
    "returned_to_sender": "unit.returned_to_sender",
    "written_off": "unit.written_off",
    "inspected": "unit.graded",
    "disposition_decided": "unit.disposition_decided",
    "override_approved": "unit.disposition_decided",
    "refund_released": "refund.released",
}
RMA_COMPLETED = "rma.completed"  # written by receiving when the last expected unit arrives
RMA_CANCELLED = "rma.cancelled"  # written by services.cancel_rma
RMA_EXPIRED = "rma.expired"  # services.expire_rmas: the window passed and nothing arrived
RMA_CLOSED = "rma.closed"  # services.close_finished_rmas: nothing is left to do for it
LOT_CLOSED = "lot.closed"  # for disposition's close_lot: enqueue(event_type=LOT_CLOSED, ...)
RMA_EVENT_TYPES = (RMA_COMPLETED, RMA_CANCELLED, RMA_EXPIRED, RMA_CLOSED)
EVENT_TYPES = sorted({*ACTIONS.values(), *RMA_EVENT_TYPES, LOT_CLOSED})


def enqueue(*, event_type: str, aggregate_key: str, payload: dict) -> OutboxEvent:
    """Write one event; call it inside the transaction of the change it tells about.

    `aggregate_key` orders delivery (each endpoint gets one key's events in this order): the
    RMA number for anything about an RMA or its units, `lot:<code>` for a lot.
    """
    return OutboxEvent.objects.create(
        uuid=uuid.uuid4(), event_type=event_type, aggregate_key=aggregate_key, payload=payload
    )


def rma_summary(rma: ReturnAuthorization) -> dict:
    return {
        "number": rma.number,
        "status": rma.status,
        "order_reference": rma.order_reference,
    }


def unit_summary(item: ReturnItem) -> dict:
    return {
        "lpn": item.lpn,
        "status": item.status,
        "sku": item.product.sku if item.product else item.scanned_code,
        "serial_number": item.serial_number,
        "rma_line": item.rma_line.line_no if item.rma_line else None,
    }


PAYLOAD_RELATED = ("product", "rma_line__rma", "parcel__rma")


def _loaded(instance, *names: str) -> bool:
    """Whether reading these foreign keys of `instance` needs no query."""
    for name in names:
        field = instance._meta.get_field(name)
        if getattr(instance, field.attname) is not None and not field.is_cached(instance):
            return False
    return True


def record_for_event(event: ItemEvent) -> OutboxEvent | None:
    """Write the outbox event a history event calls for, if any.

    The unit the service passed (it holds the row lock) is used as it is when it carries what
    the payload names (PAYLOAD_RELATED); otherwise it is read again with them.
    """
    event_type = ACTIONS.get(event.action)
    if event_type is None or event.item_id is None:
        return None
    item = event.item
    if not (
        _loaded(item, "product", "rma_line", "parcel")
        and _loaded(item.parcel, "rma")
        and (item.rma_line is None or _loaded(item.rma_line, "rma"))
    ):
        item = ReturnItem.objects.select_related(*PAYLOAD_RELATED).get(pk=event.item_id)
    rma = item.rma
    return enqueue(
        event_type=event_type,
        aggregate_key=rma.number if rma else f"unit:{item.lpn}",
        payload={
            "rma": rma_summary(rma) if rma else None,
            "unit": unit_summary(item),
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "occurred_at": event.created_at.isoformat(),
            # Details are the domain's own facts (grade, outcome, amount); who and where stay in.
            "details": event.details,
        },
    )


def record_rma_reached(rma: ReturnAuthorization, event_type: str) -> OutboxEvent:
    """The RMA reached the status `event_type` tells of: completed, expired or closed."""
    return enqueue(
        event_type=event_type, aggregate_key=rma.number, payload={"rma": rma_summary(rma)}
    )


def record_rma_completed(rma: ReturnAuthorization) -> OutboxEvent:
    return record_rma_reached(rma, RMA_COMPLETED)


def record_rma_cancelled(rma: ReturnAuthorization) -> OutboxEvent:
    return enqueue(
        event_type=RMA_CANCELLED,
        aggregate_key=rma.number,
        payload={
            "rma": rma_summary(rma),
            "cancelled_at": rma.cancelled_at.isoformat(),
            "reason": rma.cancel_reason,
        },
    )
