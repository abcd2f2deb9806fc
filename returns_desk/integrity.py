"""Invariants of receiving that the services keep; `manage.py check_integrity` runs them.

Each check yields one sentence per violation. They run as aggregate queries or stream rows
with `.iterator()`, so a check costs a few queries and constant memory at any size.
"""

from collections.abc import Callable, Iterator

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.fields.json import KT

from . import outbox
from .models import (
    ItemEvent,
    OutboxEvent,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    RMALine,
)

Check = Callable[[], Iterator[str]]


def unit_status_matches_history() -> Iterator[str]:
    """Each unit's status is the to_status of its latest history event that moved it."""
    # Events of one unit are written under its row lock, so pk order is the order they happened.
    last_move = (
        ItemEvent.objects.filter(item=OuterRef("pk"))
        .exclude(to_status="")
        .order_by("-pk")
        .values("to_status")[:1]
    )
    disagreeing = (
        ReturnItem.objects.annotate(recorded=Subquery(last_move))
        .filter(Q(recorded__isnull=True) | ~Q(recorded=F("status")))
        .values_list("lpn", "status", "recorded")
        .order_by("pk")
    )
    for lpn, status, recorded in disagreeing.iterator():
        if recorded is None:
            yield f"{lpn} is {status} but its history records no move."
        else:
            yield f"{lpn} is {status} but its history last moved it to {recorded}."


def received_counts_match_units() -> Iterator[str]:
    """Each RMA line's quantity_received is the number of units received against it."""
    lines = (
        RMALine.objects.annotate(units=Count("items"))
        .exclude(quantity_received=F("units"))
        .values_list("rma__number", "line_no", "quantity_received", "units")
        .order_by("pk")
    )
    for number, line_no, counted, units in lines.iterator():
        yield f"RMA {number} line {line_no} counts {counted} received but holds {units} unit(s)."


def outbox_events_have_a_cause() -> Iterator[str]:
    """Each unit's outbox event has the history event it tells of; each RMA event its RMA.

    Lot events are the lot's, so disposition checks those.
    """
    unit_types = set(outbox.ACTIONS.values())
    cause = ItemEvent.objects.filter(
        item__lpn=OuterRef("lpn"), action=OuterRef("action"), item__isnull=False
    )
    orphans = (
        OutboxEvent.objects.filter(event_type__in=unit_types)
        .annotate(lpn=KT("payload__unit__lpn"), action=KT("payload__action"))
        .filter(~Exists(cause))
        .values_list("uuid", "event_type", "lpn", "action")
        .order_by("pk")
    )
    for uuid, event_type, lpn, action in orphans.iterator():
        yield f"Outbox event {uuid} ({event_type}) has no '{action}' event in {lpn}'s history."
    rma_orphans = (
        OutboxEvent.objects.filter(event_type__in=outbox.RMA_EVENT_TYPES)
        .filter(
            ~Exists(ReturnAuthorization.objects.filter(number=OuterRef("aggregate_key"))),
        )
        .values_list("uuid", "event_type", "aggregate_key")
        .order_by("pk")
    )
    for uuid, event_type, number in rma_orphans.iterator():
        yield f"Outbox event {uuid} ({event_type}) names RMA {number}, which is gone."
    unknown = (
        OutboxEvent.objects.exclude(event_type__in=outbox.EVENT_TYPES)
        .values_list("uuid", "event_type")
        .order_by("pk")
    )
    for uuid, event_type in unknown.iterator():
        yield f"Outbox event {uuid} has an unknown type '{event_type}'."


def differs(field: str, source: str) -> Q:
    """Rows whose `field` is not what `source` holds, NULL included (SQL's IS DISTINCT FROM)."""
    return (
        Q(**{f"{field}__isnull": True, f"{source}__isnull": False})
        | Q(**{f"{field}__isnull": False, f"{source}__isnull": True})
        | Q(**{f"{field}__isnull": False, f"{source}__isnull": False}) & ~Q(**{field: F(source)})
    )


def units_carry_their_lines_program_and_reason() -> Iterator[str]:
    """A unit's copy of its RMA's program and its line's reason (the queues filter by it)."""
    stale = (
        ReturnItem.objects.filter(rma_line__isnull=False)
        .filter(
            differs("program", "rma_line__rma__program") | differs("reason", "rma_line__reason")
        )
        .values_list("lpn", flat=True)
        .order_by("pk")
    )
    for lpn in stale.iterator():
        yield f"{lpn}'s program or reason is not its RMA line's, so queue filters miss it."


def exceptions_carry_their_unit_and_rma() -> Iterator[str]:
    """An exception's copy of its unit's LPN and its parcel's RMA (the queue sorts by it)."""
    stale = (
        (Q(item__isnull=True) & ~Q(lpn=""))
        | (Q(item__isnull=False) & ~Q(lpn=F("item__lpn")))
        | (Q(parcel__rma__isnull=True) & ~Q(rma_number=""))
        | (Q(parcel__rma__isnull=False) & ~Q(rma_number=F("parcel__rma__number")))
        | differs("program", "parcel__rma__program")
    )
    for pk in ReceivingException.objects.filter(stale).values_list("pk", flat=True).order_by("pk"):
        yield f"Exception {pk} copies an LPN, RMA or program its unit and parcel do not have."


CHECKS: list[Check] = [
    unit_status_matches_history,
    received_counts_match_units,
    outbox_events_have_a_cause,
    units_carry_their_lines_program_and_reason,
    exceptions_carry_their_unit_and_rma,
]
