"""Every change disposition makes, one function per action.

Each runs in one transaction and locks the unit first, then the rows of its decision (always in
that order, so two stations never deadlock), and moves the unit through returns_desk's
transition table with `move_item`. On SQLite, where row locks are ignored, the IMMEDIATE
transaction mode serialises writers; the one-active-disposition constraint holds the
exactly-once promise on both databases.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from returns_desk import outbox
from returns_desk.models import Counter, ItemEvent, ReturnItem, Station
from returns_desk.scanning import canonical
from returns_desk.services import move_item, move_items, record_event, record_events
from returns_desk.wording import in_sentence

from . import dashboard
from .exceptions import (
    ApprovalRefused,
    LotNotOpen,
    NoRuleMatched,
    NotAwaitingApproval,
    NotDecidable,
    OverrideInvalid,
    RefundNotAllowed,
    RepairNotOpen,
    StaleRecommendation,
    UnknownUnit,
    WrongLocation,
)
from .models import (
    WORKSHOP_OUTCOMES,
    Disposition,
    Lot,
    Outcome,
    Partner,
    RefundInstruction,
    RepairOrder,
    UnitKeys,
)
from .rules import explain
from .selectors import (
    ITEM_RELATED,
    ITEM_ROWS,
    default_destination,
    disposition_settings,
    recommend,
    refund_for,
    repairs_done,
    with_configuration,
)

Status = ReturnItem.Status
SUPERVISE = "returns_desk.supervise_returns"
# Unit statuses in which a decision stands; deciding again there repeats the first answer.
DECIDED_STATUSES = {Status.AWAITING_APPROVAL, Status.DISPOSED, Status.PUT_AWAY, Status.IN_REPAIR}
# Unit statuses in which a unit in a lot leaves with it when the lot closes.
SHIPPABLE = {Status.DISPOSED, Status.PUT_AWAY}


def _lock_item(item: ReturnItem) -> ReturnItem:
    # Joins are nullable (a unit held at receiving has no RMA line): lock only the unit's row.
    # The parcel's RMA is for its history event's webhook payload, so that is not read again;
    # the refund is for _write_refund, which the unit's lock covers. Its configuration rows come
    # from the cache: joined here, they cost more to plan than the read took.
    return with_configuration(
        ReturnItem.objects.select_for_update(of=("self",))
        .select_related(*ITEM_ROWS, "parcel__rma", "refund")
        .get(pk=item.pk)
    )


def _lock_active(item: ReturnItem, *related: str) -> Disposition | None:
    # At most one row (one_active_disposition_per_unit), so get() and no ORDER BY: Django builds
    # an ordering by comparing it with every selected column. Joined only to what the caller
    # reads: with its partner and lot, building this read cost a decision (which finds none, or
    # retires the one it finds) nearly as much as locking the unit with its five joins.
    rows = Disposition.objects.select_for_update(of=("self",)).filter(
        item=item, status__in=Disposition.ACTIVE
    )
    try:
        return (rows.select_related(*related) if related else rows).get()
    except Disposition.DoesNotExist:
        return None


def find_unit(lpn: str, *, related: bool = True) -> ReturnItem:
    """The unit labelled `lpn`, with what the rules and screens need; raises UnknownUnit.

    Without `related`, the unit's row alone: enough to hand it to a service, which reads it
    again under its lock with what it needs.
    """
    units = ReturnItem.objects.select_related(*ITEM_RELATED) if related else ReturnItem.objects
    # get(), not first(): the LPN is unique, and first() orders by received_at, which Django
    # builds by comparing it with every selected column.
    try:
        return units.get(lpn=canonical(lpn))
    except ReturnItem.DoesNotExist:
        raise UnknownUnit(
            _("No unit is labelled '%(lpn)s'. Scan the LPN label on the unit.")
            % {"lpn": canonical(lpn)}
        ) from None


def _next_lot_code() -> str:
    # The UPDATE holds the counter row's lock until commit, so two lots never share a number.
    if not Counter.objects.filter(name="lot").update(value=F("value") + 1):
        Counter.objects.get_or_create(name="lot")
        Counter.objects.filter(name="lot").update(value=F("value") + 1)
    return f"LOT-{Counter.objects.get(name='lot').value:06d}"


def _lot_for(partner: Partner | None, outcome: str, *, leaving: int | None = None) -> Lot | None:
    """The open lot a unit decided for this partner and outcome joins, opened now if there is
    none, locked and counting the unit; None for a unit that goes to a bin. The caller writes
    it with the decision's row.

    `leaving` is the lot the unit's earlier decision is in, which _retire then counts it out
    of: both are locked in one statement, in id order, so two units re-decided between the
    same two lots the other way round never each hold the lot the other waits for.
    """
    if partner is None:
        return None
    # At most one open lot per partner and outcome (a unique constraint), so at most two rows.
    locked = Lot.objects.select_for_update().filter(
        Q(partner=partner, outcome=outcome, status=Lot.Status.OPEN) | Q(pk=leaving)
    )
    lot = next(
        (
            lot
            for lot in locked.order_by("pk")
            if (lot.partner_id, lot.outcome, lot.status) == (partner.pk, outcome, Lot.Status.OPEN)
        ),
        None,
    )
    if lot is None:
        try:
            with transaction.atomic():
                lot = Lot.objects.create(code=_next_lot_code(), partner=partner, outcome=outcome)
        except IntegrityError:
            # Another station opened it in the meantime; its row is committed and visible now.
            lot = Lot.objects.get(partner=partner, outcome=outcome, status=Lot.Status.OPEN)
    Lot.objects.filter(pk=lot.pk).update(units=F("units") + 1)
    return lot


def _queue_repair(disposition: Disposition) -> None:
    """Put a unit decided for our workshop onto the repair bench's queue."""
    if not disposition.goes_to_bench:
        return
    RepairOrder.objects.create(
        item=disposition.item,
        **UnitKeys.of(disposition.item),
        grade_code=disposition.grade_code,
        disposition=disposition,
        kind=disposition.chosen_outcome,
        cycle=RepairOrder.objects.filter(item=disposition.item)
        .exclude(status=RepairOrder.Status.CANCELLED)
        .count()
        + 1,
    )


def _retire(disposition: Disposition, status: str, *, also_update: tuple[str, ...] = ()) -> None:
    """Take a decision out of force: out of its lot, and its unstarted work order cancelled."""
    if disposition.lot_id:
        Lot.objects.filter(pk=disposition.lot_id).update(units=F("units") - 1)
    disposition.status = status
    disposition.lot = None
    disposition.save(update_fields=["status", "lot", *also_update])
    RepairOrder.objects.filter(disposition=disposition, status=RepairOrder.Status.OPEN).update(
        status=RepairOrder.Status.CANCELLED
    )


def _write_refund(
    disposition: Disposition, *, release: bool, user: AbstractBaseUser, station: Station | None
) -> RefundInstruction:
    """Write the unit's refund from its decision; once released, it is never recomputed.

    Releasing is recorded in the unit's history, which tells the commerce system (webhook) and
    the customer (e-mail, tracking page) through the core's outbox.
    """
    item = disposition.item
    # Read with the unit's lock (_lock_item). A pending refund leaves 'pending' only here, under
    # that lock, and export_refunds touches released ones only: no lock of its own is needed.
    refund = getattr(item, "refund", None)
    if refund is not None and refund.status != RefundInstruction.Status.PENDING:
        return refund
    amount = refund_for(item, disposition.refund_treatment, disposition.grade_code)
    values = {
        "disposition": disposition,
        "rma_line": item.rma_line,
        "treatment": disposition.refund_treatment,
        "price_paid": item.rma_line.price_paid if item.rma_line else Decimal(0),
        "fee_percent": amount.fee_percent,
        "fee_amount": amount.fee_amount,
        "fee_waived": amount.fee_waived,
        "deduction_percent": amount.deduction_percent,
        "deduction_amount": amount.deduction_amount,
        "amount": amount.amount,
    }
    if release:
        values |= {"status": RefundInstruction.Status.RELEASED, "released_at": timezone.now()}
    # Every caller holds the unit's row lock, so the refund read above is still the only one.
    if refund is None:
        refund = RefundInstruction.objects.create(item=item, **values)
    else:
        for name, value in values.items():
            setattr(refund, name, value)
        refund.save(update_fields=list(values))
    if release:
        record_event(
            item=item,
            action="refund_released",
            user=user,
            station=station,
            details={
                "refund": refund.pk,
                "amount": str(refund.amount),
                "treatment": refund.treatment,
            },
        )
    return refund


@transaction.atomic
def decide_disposition(
    *,
    item: ReturnItem,
    station: Station | None,
    user: AbstractBaseUser,
    outcome: str = "",
    override_reason: str = "",
    override_note: str = "",
    inspection_id: int | None = None,
) -> tuple[Disposition, bool]:
    """Decide where an inspected unit goes: the rules' recommendation, or an override.

    An override needs a reason; one of a unit worth more than the configured threshold, or to
    an outcome configured as needing approval, waits for a supervisor (unit 'awaiting
    approval', refund pending). Otherwise the unit is 'disposed', its refund released, and it
    joins its lot or the repair queue. `inspection_id` is the grade the clerk saw: a unit
    re-graded since is refused. Deciding a unit already decided returns that decision:
    (disposition, created). Raises NotDecidable, StaleRecommendation, NoRuleMatched,
    OverrideInvalid.
    """
    item = _lock_item(item)
    active = _lock_active(item)
    if item.status in DECIDED_STATUSES and active is not None:
        return active, False
    if item.status != Status.INSPECTED:
        raise NotDecidable(
            _("%(lpn)s is %(status)s: only an inspected unit can be given a disposition.")
            % {"lpn": item.lpn, "status": in_sentence(item.get_status_display())}
        )
    config = disposition_settings()
    recommendation = recommend(item, config)
    if recommendation.rule is None:
        raise NoRuleMatched(
            _(
                "No disposition rule matches this unit: an admin must end the rules with a"
                " catch-all."
            )
        )
    graded = recommendation.inspection
    if inspection_id is not None and (graded is None or graded.pk != inspection_id):
        raise StaleRecommendation(
            _("%(lpn)s was re-graded since this screen was shown. Check the new recommendation.")
            % {"lpn": item.lpn}
        )
    chosen = outcome or recommendation.outcome
    if chosen not in Outcome.values:
        raise OverrideInvalid(_("Pick one of the listed outcomes."))
    is_override = chosen != recommendation.outcome
    needs_approval = False
    destination = recommendation.destination
    if is_override:
        _check_override(item, chosen, override_reason, override_note, config)
        destination = default_destination(chosen)
        needs_approval = config.needs_approval(
            outcome=chosen, unit_value=recommendation.facts.unit_value
        )
    else:
        override_reason = override_note = ""
    # Into its lot in the same INSERT; one waiting for approval joins it once approved.
    leaving = active.lot_id if active is not None else None
    lot = None if needs_approval else _lot_for(destination.partner, chosen, leaving=leaving)
    if active is not None:
        # The unit was reopened or re-inspected after its last decision: that one is history.
        _retire(active, Disposition.Status.SUPERSEDED)
    # No savepoint: the error leaves this function's transaction, which rolls back whole.
    try:
        disposition = Disposition.objects.create(
            item=item,
            **UnitKeys.of(item),
            inspection=graded,
            grade_code=graded.grade_code if graded else "",
            rule=recommendation.rule,
            rule_name=recommendation.rule.name,
            explanation=explain(recommendation.checks),
            recommended_outcome=recommendation.outcome,
            chosen_outcome=chosen,
            override_reason=override_reason,
            override_note=override_note.strip()[:300],
            status=Disposition.Status.AWAITING_APPROVAL
            if needs_approval
            else Disposition.Status.DECIDED,
            approval=Disposition.Approval.PENDING if needs_approval else "",
            destination_bin=destination.bin,
            partner=destination.partner,
            lot=lot,
            refund_treatment=recommendation.refund_treatment,
            station=station,
            decided_by=user,
        )
    except IntegrityError:
        # Only reachable where row locks are ignored and another station won the race.
        raise NotDecidable(
            _("%(lpn)s was just decided at another station. Scan it again to see where it goes.")
            % {"lpn": item.lpn}
        ) from None
    move_item(
        item,
        to_status=Status.AWAITING_APPROVAL if needs_approval else Status.DISPOSED,
        action="override_requested" if needs_approval else "disposition_decided",
        user=user,
        station=station,
        details={
            "disposition": disposition.pk,
            "rule": disposition.rule_name,
            "recommended": recommendation.outcome,
            "chosen": chosen,
            "override_reason": override_reason,
            "destination": str(destination),
        },
    )
    if not needs_approval:
        _queue_repair(disposition)
    _write_refund(disposition, release=not needs_approval, user=user, station=station)
    return disposition, True


def _check_override(item, chosen, reason, note, config) -> None:
    if reason not in Disposition.OverrideReason.values:
        raise OverrideInvalid(_("Say why the recommendation is overridden: pick a reason."))
    if reason == Disposition.OverrideReason.OTHER and not note.strip():
        raise OverrideInvalid(_("With reason 'other', write a note saying why."))
    # Counted here, not taken from the recommendation: that counts only when its rule repairs,
    # so a unit the rules send elsewhere could be overridden onto the bench without end.
    if chosen in WORKSHOP_OUTCOMES and (done := repairs_done(item)) >= config.max_repair_cycles:
        raise OverrideInvalid(
            ngettext(
                "This unit was already repaired %(times)s time, the most allowed: it cannot go to"
                " the bench again. Pick another outcome.",
                "This unit was already repaired %(times)s times, the most allowed: it cannot go to"
                " the bench again. Pick another outcome.",
                done,
            )
            % {"times": done}
        )


def _lock_awaiting(disposition: Disposition, user: AbstractBaseUser):
    if not user.has_perm(SUPERVISE):
        raise ApprovalRefused(_("Only a supervisor can approve or reject an override."))
    item = _lock_item(disposition.item)
    disposition = (
        Disposition.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=disposition.pk)
    )
    disposition.item = item
    return item, disposition


def _require_unit_still_waiting(item: ReturnItem) -> None:
    # A supervisor may reopen a unit while its override waits; graded again, it gets a new
    # decision, and approving the old one would dispose of it on the grade it no longer has.
    if item.status != Status.AWAITING_APPROVAL:
        raise NotAwaitingApproval(
            _(
                "%(lpn)s was reopened since this override was asked for: it is graded and decided"
                " again, and this override no longer stands."
            )
            % {"lpn": item.lpn}
        )


@transaction.atomic
def approve_override(
    *,
    disposition: Disposition,
    user: AbstractBaseUser,
    station: Station | None = None,
    note: str = "",
) -> Disposition:
    """Approve an override waiting for a supervisor: the unit is 'disposed', its refund released.

    Approving an approved override again changes nothing. Raises ApprovalRefused (not a
    supervisor), NotAwaitingApproval.
    """
    item, disposition = _lock_awaiting(disposition, user)
    if disposition.approval == Disposition.Approval.APPROVED:
        return disposition
    if disposition.status != Disposition.Status.AWAITING_APPROVAL:
        raise NotAwaitingApproval(
            _("This override of %(lpn)s is %(status)s: there is nothing to approve.")
            % {"lpn": item.lpn, "status": in_sentence(disposition.get_status_display())}
        )
    _require_unit_still_waiting(item)
    disposition.status = Disposition.Status.DECIDED
    disposition.approval = Disposition.Approval.APPROVED
    disposition.approved_by = user
    disposition.approved_at = timezone.now()
    disposition.approval_note = note.strip()[:300]
    disposition.lot = _lot_for(disposition.partner, disposition.chosen_outcome)
    disposition.save(
        update_fields=["status", "approval", "approved_by", "approved_at", "approval_note", "lot"]
    )
    move_item(
        item,
        to_status=Status.DISPOSED,
        action="override_approved",
        user=user,
        station=station,
        details={"disposition": disposition.pk, "chosen": disposition.chosen_outcome},
    )
    _queue_repair(disposition)
    _write_refund(disposition, release=True, user=user, station=station)
    return disposition


@transaction.atomic
def reject_override(
    *,
    disposition: Disposition,
    user: AbstractBaseUser,
    note: str,
    station: Station | None = None,
) -> Disposition:
    """Reject an override waiting for a supervisor: the unit goes back to 'inspected'.

    The clerk then decides again, usually taking the recommendation; the refund stays pending
    until then. Raises ApprovalRefused, OverrideInvalid (no note), NotAwaitingApproval.
    """
    if not note.strip():
        raise OverrideInvalid(_("Say why the override is rejected (the 'Why rejected' box)."))
    item, disposition = _lock_awaiting(disposition, user)
    if disposition.status != Disposition.Status.AWAITING_APPROVAL:
        raise NotAwaitingApproval(
            _("This override of %(lpn)s is %(status)s: there is nothing to reject.")
            % {"lpn": item.lpn, "status": in_sentence(disposition.get_status_display())}
        )
    _require_unit_still_waiting(item)
    disposition.approval = Disposition.Approval.REJECTED
    disposition.approved_by = user
    disposition.approved_at = timezone.now()
    disposition.approval_note = note.strip()[:300]
    _retire(
        disposition,
        Disposition.Status.REJECTED,
        also_update=("approval", "approved_by", "approved_at", "approval_note"),
    )
    move_item(
        item,
        to_status=Status.INSPECTED,
        action="override_rejected",
        user=user,
        station=station,
        details={"disposition": disposition.pk, "note": disposition.approval_note},
    )
    return disposition


@transaction.atomic
def put_away(
    *, item: ReturnItem, code: str, station: Station | None, user: AbstractBaseUser
) -> Disposition:
    """Confirm a decided unit is where its decision sends it, by the code scanned there.

    The unit becomes 'put away', or 'in repair' when it went to the bench. Confirming again
    changes nothing. Raises NotDecidable, WrongLocation.
    """
    item = _lock_item(item)
    disposition = _lock_active(item, "lot")
    if disposition is None or disposition.status != Disposition.Status.DECIDED:
        raise NotDecidable(_("%(lpn)s has no decided disposition to put away.") % {"lpn": item.lpn})
    expected = disposition.put_away_code
    if canonical(code) != expected:
        raise WrongLocation(
            _("%(code)s is not where %(lpn)s goes: put it in %(expected)s and scan that label.")
            % {"code": canonical(code), "lpn": item.lpn, "expected": expected}
        )
    if item.status in {Status.PUT_AWAY, Status.IN_REPAIR}:
        return disposition
    to_bench = disposition.goes_to_bench
    move_item(
        item,
        to_status=Status.IN_REPAIR if to_bench else Status.PUT_AWAY,
        action="sent_to_repair" if to_bench else "put_away",
        user=user,
        station=station,
        details={"disposition": disposition.pk, "location": expected},
    )
    return disposition


def _lock_units(pks) -> dict[int, ReturnItem]:
    """The units, each read once and locked, in id order; by id."""
    # At tens of thousands of units a second read of each was seconds.
    units = ReturnItem.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    return {unit.pk: unit for unit in units}


@transaction.atomic
def close_lot(
    *,
    lot: Lot,
    user: AbstractBaseUser,
    weight_kg: Decimal | None,
    notes: str = "",
    station: Station | None = None,
) -> Lot:
    """Close an open lot as it leaves: record its weight, and close every unit in it.

    A unit a supervisor reopened since it joined the lot stays behind, out of the lot.
    Raises LotNotOpen (already closed, or empty).
    """
    # Its units first and the lot after, the order a decision locks them in (its unit, then
    # the lot it joins or leaves): with the lot first, closing it while a reopened unit of it
    # was being re-decided deadlocked.
    in_force = Disposition.objects.filter(lot=lot, status=Disposition.Status.DECIDED)
    locked = _lock_units(in_force.filter(lot__status=Lot.Status.OPEN).values("item_id"))
    lot = Lot.objects.select_for_update(of=("self",)).select_related("partner").get(pk=lot.pk)
    if lot.status != Lot.Status.OPEN:
        raise LotNotOpen(_("Lot %(code)s is already closed.") % {"code": lot.code})
    # Read again under the lot's lock: a decision may have joined or left it in the meantime.
    members = list(in_force.order_by("pk"))
    # A unit that joined is free again: its decision held the lot until it committed.
    locked |= _lock_units({disposition.item_id for disposition in members} - locked.keys())
    dispositions = []
    for disposition in members:
        disposition.item = locked[disposition.item_id]
        if disposition.item.status in SHIPPABLE:
            dispositions.append(disposition)
        else:
            # Reopened by a supervisor since it joined the lot: the unit stays behind, and the
            # decision that put it here is no longer in force.
            _retire(disposition, Disposition.Status.SUPERSEDED)
    if not dispositions:
        raise LotNotOpen(_("Lot %(code)s is empty: there is nothing to ship.") % {"code": lot.code})
    move_items(
        [disposition.item for disposition in dispositions],
        to_status=Status.CLOSED,
        action="shipped_in_lot",
        user=user,
        station=station,
        details={"lot": lot.code, "partner": lot.partner.code},
    )
    lot.status = Lot.Status.CLOSED
    lot.closed_at = timezone.now()
    lot.closed_by = user
    lot.weight_kg = weight_kg
    lot.notes = notes.strip()
    lot.save(update_fields=["status", "closed_at", "closed_by", "weight_kg", "notes"])
    outbox.enqueue(
        event_type=outbox.LOT_CLOSED,
        aggregate_key=f"lot:{lot.code}",
        payload={
            "lot": lot.code,
            "partner": lot.partner.code,
            "outcome": lot.outcome,
            "units": [disposition.item.lpn for disposition in dispositions],
            "weight_kg": str(weight_kg) if weight_kg is not None else None,
            "closed_at": lot.closed_at.isoformat(),
        },
    )
    return lot


@transaction.atomic
def complete_repair(
    *,
    order: RepairOrder,
    user: AbstractBaseUser,
    notes: str = "",
    cost: Decimal = Decimal(0),
    station: Station | None = None,
) -> RepairOrder:
    """Finish a work order: record notes and cost, and send the unit back to inspection.

    The unit becomes 'received' again, to be graded and decided anew; completing a finished
    order again changes nothing. Raises RepairNotOpen (the unit is not on the bench).
    """
    item = _lock_item(order.item)
    order = RepairOrder.objects.select_for_update().select_related("disposition").get(pk=order.pk)
    if order.status == RepairOrder.Status.DONE:
        return order
    if order.status != RepairOrder.Status.OPEN or item.status != Status.IN_REPAIR:
        raise RepairNotOpen(
            _(
                "%(lpn)s is %(status)s: only a unit on the bench can be finished. Put it away to"
                " the bench first."
            )
            % {"lpn": item.lpn, "status": in_sentence(item.get_status_display())}
        )
    order.status = RepairOrder.Status.DONE
    order.notes = notes.strip()
    order.cost = cost
    order.completed_at = timezone.now()
    order.completed_by = user
    order.save(update_fields=["status", "notes", "cost", "completed_at", "completed_by"])
    disposition = order.disposition
    disposition.status = Disposition.Status.COMPLETED
    disposition.save(update_fields=["status"])
    move_item(
        item,
        to_status=Status.RECEIVED,
        action="repair_completed",
        user=user,
        station=station,
        details={"repair_order": order.pk, "cycle": order.cycle, "cost": str(order.cost)},
    )
    return order


@transaction.atomic
def export_refunds(
    *, refunds: list[RefundInstruction], user: AbstractBaseUser
) -> list[RefundInstruction]:
    """Mark released refunds as exported to the commerce system; return those marked now.

    The compare-and-set update means a refund is exported once even if two exports overlap.
    Raises RefundNotAllowed if any of them is still pending.
    """
    pks = [refund.pk for refund in refunds]
    pending = RefundInstruction.objects.filter(
        pk__in=pks, status=RefundInstruction.Status.PENDING
    ).select_related("item")
    if pending_lpns := [refund.item.lpn for refund in pending]:
        raise RefundNotAllowed(
            _("Refunds of %(lpns)s are pending approval: they cannot be exported.")
            % {"lpns": ", ".join(pending_lpns)}
        )
    now = timezone.now()
    exported = list(
        RefundInstruction.objects.select_for_update()
        .filter(pk__in=pks, status=RefundInstruction.Status.RELEASED)
        .select_related("item")
    )
    RefundInstruction.objects.filter(
        pk__in=[refund.pk for refund in exported], status=RefundInstruction.Status.RELEASED
    ).update(status=RefundInstruction.Status.EXPORTED, exported_at=now)
    # update() sends no post_save: the dashboard's refunds by status change on their own days.
    dashboard.forget_days(*(refund.created_at for refund in exported))
    for refund in exported:
        refund.status, refund.exported_at = RefundInstruction.Status.EXPORTED, now
    record_events(
        [
            ItemEvent(
                item=refund.item,
                action="refund_exported",
                user=user,
                details={"refund": refund.pk, "amount": str(refund.amount)},
            )
            for refund in exported
        ]
    )
    return exported
