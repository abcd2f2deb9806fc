"""Invariants of disposition that its services keep; `manage.py check_integrity` runs them."""

from collections.abc import Iterator

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.fields.json import KT

from returns_desk import outbox
from returns_desk.integrity import Check, differs
from returns_desk.models import OutboxEvent, ReturnItem

from . import refunds
from .models import Disposition, Lot, RefundInstruction, RepairOrder
from .selectors import ITEM_RELATED, refund_for
from .services import DECIDED_STATUSES

Status = ReturnItem.Status
# A supervisor may reopen a unit in an open lot; its decision stands until it is decided anew
# (which retires it) or the lot closes without it.
IN_OPEN_LOT = {Status.DISPOSED, Status.PUT_AWAY, Status.INSPECTED, Status.INSPECTING}
NOT_YET_DECIDABLE = {Status.HELD, Status.RECEIVED}


def one_disposition_per_decided_unit() -> Iterator[str]:
    """A decided unit has exactly one active decision, in the matching state; no unit has two."""
    active = Q(dispositions__status__in=Disposition.ACTIVE)
    awaiting = Q(dispositions__status=Disposition.Status.AWAITING_APPROVAL)
    units = (
        ReturnItem.objects.annotate(
            active=Count("dispositions", filter=active),
            awaiting=Count("dispositions", filter=awaiting),
        )
        .filter(
            Q(status__in=DECIDED_STATUSES, active__lt=1)
            | Q(active__gt=1)
            | Q(status=Status.AWAITING_APPROVAL, awaiting=0)
            | Q(status__in=DECIDED_STATUSES - {Status.AWAITING_APPROVAL}, awaiting__gt=0)
            | Q(status__in=NOT_YET_DECIDABLE, active__gt=0)
        )
        .values_list("lpn", "status", "active", "awaiting")
        .order_by("pk")
    )
    for lpn, status, count, waiting in units.iterator():
        if count != 1:
            yield f"{lpn} is {status} with {count} active dispositions."
        elif status == Status.AWAITING_APPROVAL:
            yield f"{lpn} awaits approval but its disposition does not."
        elif waiting:
            yield f"{lpn} is {status} but its disposition still awaits approval."
        else:
            yield f"{lpn} is {status} yet already has an active disposition."


def refunds_agree_with_policy() -> Iterator[str]:
    """Every decided unit has a refund, computed from its decision as the service computes it.

    A pending refund is recomputed from today's policy, as releasing it will. A released one
    is never recomputed (an admin may edit the policy later), so its figures are checked
    against the percentages it recorded, the price paid on its line and its decision.
    """
    missing = (
        ReturnItem.objects.filter(status__in=DECIDED_STATUSES)
        .filter(~Exists(RefundInstruction.objects.filter(item=OuterRef("pk"))))
        .values_list("lpn", "status")
        .order_by("pk")
    )
    for lpn, status in missing.iterator():
        yield f"{lpn} is {status} but has no refund instruction."
    instructions = RefundInstruction.objects.select_related(
        "disposition", "rma_line", *(f"item__{path}" for path in ITEM_RELATED)
    ).order_by("pk")
    for refund in instructions.iterator(chunk_size=500):
        yield from _refund_problems(refund)


def _refund_problems(refund: RefundInstruction) -> Iterator[str]:
    lpn, disposition = refund.item.lpn, refund.disposition
    if disposition.item_id != refund.item_id:
        yield f"{lpn}'s refund points at the disposition of another unit."
    if refund.treatment != disposition.refund_treatment:
        yield (
            f"{lpn}'s refund is '{refund.treatment}' but its decision says "
            f"'{disposition.refund_treatment}'."
        )
    price = refund.rma_line.price_paid if refund.rma_line else refunds.ZERO
    if refund.price_paid != price:
        yield f"{lpn}'s refund starts from {refund.price_paid} but the customer paid {price}."
    if refund.status == RefundInstruction.Status.PENDING:
        expected = refund_for(refund.item, refund.treatment, disposition.grade_code)
    else:
        expected = refunds.compute_refund(
            price_paid=refund.price_paid,
            treatment=refund.treatment,
            fee_percent=refund.fee_percent,
            fee_waived=refund.fee_waived,
            deduction_percent=refund.deduction_percent,
        )
    for figure in ("amount", "fee_amount", "deduction_amount"):
        if getattr(refund, figure) != getattr(expected, figure):
            yield (
                f"{lpn}'s refund {figure.replace('_', ' ')} is {getattr(refund, figure)}; "
                f"policy gives {getattr(expected, figure)}."
            )


def lots_hold_only_decided_units() -> Iterator[str]:
    """A lot holds decided units of its partner and outcome; a closed lot only shipped ones."""
    members = (
        Disposition.objects.filter(lot__isnull=False)
        .filter(
            ~Q(status=Disposition.Status.DECIDED)
            | ~Q(partner=F("lot__partner"))
            | ~Q(chosen_outcome=F("lot__outcome"))
            | Q(lot__status=Lot.Status.OPEN) & ~Q(item__status__in=IN_OPEN_LOT)
            | Q(lot__status=Lot.Status.CLOSED) & ~Q(item__status=Status.CLOSED)
        )
        .values_list("lot__code", "item__lpn", "item__status", "status")
        .order_by("pk")
    )
    for code, lpn, unit_status, status in members.iterator():
        yield (
            f"Lot {code} holds {lpn} ({unit_status}, disposition {status}) which does not "
            "belong in it."
        )
    orphans = (
        OutboxEvent.objects.filter(event_type=outbox.LOT_CLOSED)
        .annotate(code=KT("payload__lot"))
        .filter(~Exists(Lot.objects.filter(code=OuterRef("code"), status=Lot.Status.CLOSED)))
        .values_list("uuid", "code")
        .order_by("pk")
    )
    for uuid, code in orphans.iterator():
        yield f"Outbox event {uuid} ({outbox.LOT_CLOSED}) names lot {code}, which is not closed."


def lots_count_their_units() -> Iterator[str]:
    """A lot's count of its units (kept by the services) is the number of decisions in it."""
    lots = (
        Lot.objects.annotate(held=Count("dispositions"))
        .exclude(units=F("held"))
        .values_list("code", "units", "held")
        .order_by("pk")
    )
    for code, units, held in lots.iterator():
        yield f"Lot {code} counts {units} units but holds {held}."


def copies_agree_with_their_unit() -> Iterator[str]:
    """The unit's keys a decision and a work order copy so their queues sort and filter alone."""
    unit_keys = ~Q(lpn=F("item__lpn"))
    unit_keys |= differs("program", "item__program") | differs("reason", "item__reason")
    unit_keys |= differs("unit_station", "item__station")
    stale_rows = (
        (Disposition, "decision", unit_keys),
        (RepairOrder, "work order", unit_keys | ~Q(grade_code=F("disposition__grade_code"))),
    )
    for model, kind, stale in stale_rows:
        lpns = model.objects.filter(stale).values_list("item__lpn", flat=True).order_by("pk")
        for lpn in lpns.iterator():
            yield f"{lpn}'s {kind} copies an LPN, station, program, reason or grade not the unit's."


CHECKS: list[Check] = [
    one_disposition_per_decided_unit,
    refunds_agree_with_policy,
    lots_hold_only_decided_units,
    lots_count_their_units,
    copies_agree_with_their_unit,
]
