"""Every change of a parcel's or unit's state at receiving, one function per action.

Each runs in one transaction, locks the rows it changes (parcel -> RMA -> lines, always in that
order so two stations never deadlock), checks the move, writes, and appends to the history.
On SQLite the IMMEDIATE transaction mode serialises writers instead of the row locks; the unique
constraints on LPN, scan token and serial per line hold the exactly-once promise on both.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import notifications, outbox
from .custody import back_in_stock
from .exceptions import (
    AmbiguousCode,
    CannotResolve,
    ExceptionNotOpen,
    InvalidTransition,
    NoPolicy,
    OverReceipt,
    ParcelNotOpen,
    ReasonRequired,
    RmaConflict,
    RmaNotCancellable,
    RmaNotReceivable,
    SerialAlreadyReceived,
    SerialRequired,
    StationCannotReceive,
    UnknownCode,
    WrongItem,
)
from .models import (
    Counter,
    CustomerEmail,
    ItemEvent,
    Parcel,
    Product,
    ProductCategory,
    Program,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
    RMALine,
    Station,
    TrackingNumber,
)
from .scanning import canonical
from .wording import in_sentence

RMA = ReturnAuthorization


def record_event(
    *,
    action: str,
    user: AbstractBaseUser,
    station: Station | None,
    item: ReturnItem | None = None,
    parcel: Parcel | None = None,
    from_status: str = "",
    to_status: str = "",
    details: dict | None = None,
) -> ItemEvent:
    """Append one entry to the chain of custody of a unit or a parcel.

    This is also the one place integrations and customers hear from: in the same transaction
    it writes the outbox event the action calls for (see outbox.ACTIONS) and queues the
    customer's e-mail where the action is one they are told about (see notifications.EMAILS).
    """
    event = ItemEvent.objects.create(
        item=item,
        parcel=parcel,
        action=action,
        from_status=from_status,
        to_status=to_status,
        user=user,
        station=station,
        details=details or {},
    )
    _tell_others_of(event)
    return event


def _tell_others_of(event: ItemEvent) -> None:
    outbox.record_for_event(event)
    notifications.queue_customer_email(event)


@transaction.atomic
def resend_customer_emails(*, emails: QuerySet[CustomerEmail], user: AbstractBaseUser) -> int:
    """Queue the failed ones among `emails` again, from a fresh first attempt; return how many.

    Pending and sent mails are left as they are: sending a mail twice is what the outbox is
    there to prevent. Each one queued again is recorded on its parcel's or unit's history.
    """
    # After an SMTP outage, hundreds at once: one UPDATE and one INSERT for all of them.
    failed = list(
        emails.select_for_update(of=("self",))
        .select_related("event")
        .filter(status=CustomerEmail.Status.FAILED)
        .order_by("pk")
    )
    CustomerEmail.objects.filter(pk__in=[email.pk for email in failed]).update(
        status=CustomerEmail.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        leased_until=None,
    )
    record_events(
        [
            ItemEvent(
                action="customer_email_resent",
                item_id=email.event.item_id,
                parcel_id=email.event.parcel_id,
                user=user,
                details={"kind": email.kind, "recipient": email.recipient},
            )
            for email in failed
        ]
    )
    return len(failed)


def move_item(
    item: ReturnItem,
    *,
    to_status: str,
    action: str,
    user: AbstractBaseUser,
    station: Station | None,
    details: dict | None = None,
    also_update: tuple[str, ...] = (),
) -> ItemEvent:
    """Move a locked unit to `to_status` and record it; raise InvalidTransition if not allowed.

    Callers (here and in inspection and disposition) hold the row lock from select_for_update
    in their own transaction; `also_update` names other fields they changed on the unit.
    """
    if not item.can_move_to(to_status):
        raise InvalidTransition(item, in_sentence(ReturnItem.Status(to_status).label))
    from_status = item.status
    item.status = to_status
    item.status_changed_at = timezone.now()
    item.save(update_fields=["status", "status_changed_at", *also_update])
    return record_event(
        item=item,
        action=action,
        from_status=from_status,
        to_status=to_status,
        user=user,
        station=station,
        details=details,
    )


def move_items(
    items: list[ReturnItem],
    *,
    to_status: str,
    action: str,
    user: AbstractBaseUser,
    station: Station | None,
    details: dict | None = None,
) -> list[ItemEvent]:
    """move_item for many locked units at once (a lot leaving with hundreds of them): the same
    check and one history event each, in a few statements however many there are.

    Raises InvalidTransition, before anything is changed, if any one of them may not move.
    """
    for item in items:
        if not item.can_move_to(to_status):
            raise InvalidTransition(item, in_sentence(ReturnItem.Status(to_status).label))
    now = timezone.now()
    events = [
        ItemEvent(
            item=item,
            action=action,
            from_status=item.status,
            to_status=to_status,
            user=user,
            station=station,
            details=dict(details or {}),
            created_at=now,
        )
        for item in items
    ]
    ReturnItem.objects.filter(pk__in=[item.pk for item in items]).update(
        status=to_status, status_changed_at=now
    )
    moved = frozenset({"status", "status_changed_at"})
    for item in items:
        item.status, item.status_changed_at = to_status, now
        _announce_saved(item, created=False, update_fields=moved)
    return record_events(events)


def record_events(events: list[ItemEvent]) -> list[ItemEvent]:
    """record_event for many unsaved events at once (hundreds of refunds exported, a lot
    leaving): one INSERT for all, with the outbox events and customer e-mails each calls for."""
    ItemEvent.objects.bulk_create(events)
    for event in events:
        _announce_saved(event, created=True)
        _tell_others_of(event)
    return events


def _announce_saved(row, *, created: bool, update_fields: frozenset[str] | None = None) -> None:
    """post_save for a row written by update() or bulk_create(), which send none, as save()
    would have sent it: whoever watches units and history (the dashboard's roll-ups) hears."""
    post_save.send(
        type(row),
        instance=row,
        created=created,
        update_fields=update_fields,
        raw=False,
        using=row._state.db,
    )


def _move_parcel(
    parcel: Parcel, *, to_status: str, action: str, user, station, details=None, also_update=()
):
    if to_status not in Parcel.ALLOWED[Parcel.Status(parcel.status)]:
        raise ParcelNotOpen(
            _("This parcel is %(status)s and cannot become %(to_status)s.")
            % {
                "status": in_sentence(parcel.get_status_display()),
                "to_status": in_sentence(Parcel.Status(to_status).label),
            }
        )
    from_status = parcel.status
    parcel.status = to_status
    parcel.save(update_fields=["status", *also_update])
    return record_event(
        parcel=parcel,
        action=action,
        from_status=from_status,
        to_status=to_status,
        user=user,
        station=station,
        details=details,
    )


def next_lpn() -> str:
    """Take the next LPN number; the UPDATE holds the counter row's lock until commit."""
    # One round trip: the UPDATE returns the number it took (PostgreSQL, SQLite >= 3.35).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Counter._meta.db_table} SET value = value + 1 WHERE name = %s "
            "RETURNING value",
            ["lpn"],
        )
        taken = cursor.fetchone()
    if taken is None:
        Counter.objects.get_or_create(name="lpn")
        return next_lpn()
    return f"LPN-{taken[0]:08d}"


def site_today(station: Station):
    return timezone.localdate(timezone=ZoneInfo(station.site.time_zone))


def find_rma(code: str) -> ReturnAuthorization:
    """Match a parcel's code to its RMA: the RMA number, a carrier tracking number or the order.

    Each is one indexed lookup on a canonical column, so a scan costs the same at any size.
    """
    code = canonical(code)
    rma = RMA.objects.select_related("policy", "program").filter(number=code).first()
    if rma:
        return rma
    rma = RMA.objects.select_related("policy", "program").filter(tracking__number=code).first()
    if rma:
        return rma
    by_order = list(
        RMA.objects.select_related("policy", "program")
        .filter(order_reference=code)
        .order_by("-issued_on")[:10]
    )
    receivable = [rma for rma in by_order if rma.status in RMA.RECEIVABLE]
    if len(receivable) > 1:
        numbers = ", ".join(rma.number for rma in receivable)
        raise AmbiguousCode(
            _(
                "Order %(code)s has several open returns (%(numbers)s). Scan the RMA number on"
                " the label."
            )
            % {"code": code, "numbers": numbers}
        )
    if receivable or by_order:
        return (receivable or by_order)[0]
    raise UnknownCode(
        _(
            "No return authorisation matches '%(code)s' (not an RMA, tracking or order number)."
            " Check the label, or park the parcel as an exception (F4)."
        )
        % {"code": code}
    )


def _require_receiving(station: Station) -> None:
    if not station.can_receive:
        raise StationCannotReceive(
            _("%(code)s is not a receiving station. Click the station badge to choose another.")
            % {"code": station.code}
        )


@transaction.atomic
def receive_parcel(
    *,
    code: str,
    station: Station,
    user: AbstractBaseUser,
    packaging: str = Parcel.Packaging.INTACT,
) -> Parcel:
    """Open a parcel for the RMA its code matches and check the return window.

    A late arrival is flagged, or parked for a supervisor when the policy says hold. Scanning
    the same code again while the parcel is open or parked returns that parcel, never a second.
    Raises UnknownCode, AmbiguousCode, RmaNotReceivable, ParcelNotOpen.
    """
    _require_receiving(station)
    rma = RMA.objects.select_for_update().get(pk=find_rma(code).pk)
    if rma.status not in RMA.RECEIVABLE:
        raise RmaNotReceivable(
            _(
                "RMA %(number)s is %(status)s: nothing can be received against it. Park the parcel"
                " for a supervisor (F4)."
            )
            % {"number": rma.number, "status": in_sentence(rma.get_status_display())}
        )
    code = canonical(code)
    # The same box scanned again (a double fire, or a second look) is the parcel already here.
    already_here = (
        Parcel.objects.select_related("station")
        .filter(rma=rma, scanned_code=code, status__in=[Parcel.Status.OPEN, Parcel.Status.PARKED])
        .order_by("-received_at")
        .first()
    )
    if already_here:
        if already_here.status == Parcel.Status.OPEN and already_here.station_id != station.pk:
            if not already_here.station.active:
                return _move_to(already_here, station, user)
            raise ParcelNotOpen(
                _(
                    "This parcel (%(code)s) is already being received at %(station)s. Finish it"
                    " there, or ask a supervisor."
                )
                % {"code": code, "station": already_here.station.code}
            )
        return already_here

    is_late = rma.is_late_on(site_today(station))
    hold = is_late and rma.policy.late_arrival == rma.policy.LateArrival.HOLD
    parcel = Parcel.objects.create(
        scanned_code=code,
        rma=rma,
        station=station,
        received_by=user,
        packaging=packaging,
        is_late=is_late,
        status=Parcel.Status.PARKED if hold else Parcel.Status.OPEN,
    )
    record_event(
        parcel=parcel,
        action="parcel_received",
        to_status=parcel.status,
        user=user,
        station=station,
        details={"code": code, "rma": rma.number, "packaging": packaging, "late": is_late},
    )
    if is_late:
        _raise_exception(
            parcel=parcel,
            kind=ReceivingException.Kind.LATE,
            code=code,
            sentence="late_held" if hold else "late_accepted",
            values={"number": rma.number, "date": rma.expires_on.isoformat()},
            user=user,
            station=station,
        )
    return parcel


def unannounced_programs() -> QuerySet[Program]:
    """Programs a parcel may come in without an RMA: an active policy of theirs requires none."""
    return Program.objects.filter(
        active=True, policies__active=True, policies__rma_required=False
    ).distinct()


@transaction.atomic
def receive_without_rma(
    *,
    code: str,
    program: Program,
    reason: ReasonCode,
    station: Station,
    user: AbstractBaseUser,
    packaging: str = Parcel.Packaging.INTACT,
) -> Parcel:
    """Open a parcel that came without an authorisation, under a program whose policy needs none
    (a parcel the carrier could not deliver comes back with no RMA, say).

    The desk authorises it there and then: RMA UNANNOUNCED-<parcel>, with the scanned code as
    its tracking number, so scanning the box again (a double submit, a second clerk) finds it
    and never makes a second. Each unit scanned into it adds to its lines, with `reason`.
    A code that matches an RMA is received as a scan of it would be. Raises NoPolicy (the
    program's policies all require an RMA), and what receive_parcel raises.
    """
    _require_receiving(station)
    code = canonical(code)
    try:
        return receive_parcel(code=code, station=station, user=user, packaging=packaging)
    except UnknownCode:
        pass
    policy = (
        ReturnPolicy.objects.filter(programs=program, active=True, rma_required=False)
        .order_by("name")
        .first()
    )
    if policy is None or not program.active:
        raise NoPolicy(
            _("%(program)s returns need an RMA: park the parcel as an exception (F4).")
            % {"program": program.name}
        )
    if not reason.active:
        raise NoPolicy(_("Reason %(reason)s is no longer used.") % {"reason": reason.name})
    parcel = Parcel.objects.create(
        scanned_code=code, station=station, received_by=user, packaging=packaging
    )
    try:
        with transaction.atomic():
            rma = RMA.objects.create(
                number=f"UNANNOUNCED-{parcel.pk:06d}",
                program=program,
                policy=policy,
                site=station.site,
                issued_on=site_today(station),
                unannounced_reason=reason,
            )
            TrackingNumber.objects.create(rma=rma, number=code)
    except IntegrityError:
        # Another clerk authorised this code a moment ago: the box is theirs, or here already.
        raise ParcelNotOpen(
            _("Parcel %(code)s was just opened by another scan. Scan it again.") % {"code": code}
        ) from None
    parcel.rma = rma
    parcel.save(update_fields=["rma"])
    record_event(
        parcel=parcel,
        action="parcel_received",
        to_status=parcel.status,
        user=user,
        station=station,
        details={
            "code": code,
            "rma": rma.number,
            "packaging": packaging,
            "late": False,
            "without_rma": True,
            "program": program.code,
            "reason": reason.code,
        },
    )
    return parcel


def _move_to(parcel: Parcel, station: Station, user: AbstractBaseUser) -> Parcel:
    # Left open at a station since taken out of service: nobody can choose that station any
    # more, so the parcel would wait there for ever. It carries on here.
    parcel = Parcel.objects.select_for_update().select_related("station").get(pk=parcel.pk)
    moved_from = parcel.station.code
    parcel.station = station
    parcel.save(update_fields=["station"])
    record_event(
        parcel=parcel,
        action="parcel_moved",
        from_status=parcel.status,
        to_status=parcel.status,
        user=user,
        station=station,
        details={"from_station": moved_from},
    )
    return parcel


def _raise_exception(
    *, parcel, kind, code, user, station, item=None, sentence="", values=None, note=""
):
    """Raise an exception worded by one of ReceivingException.SENTENCES, or by the clerk's note
    alone; stored as sentence and values, so each reader reads it in their language."""
    rma = parcel.rma if parcel.rma_id else None
    wording = {"sentence": sentence, "values": values, "note": note} if sentence else {"note": note}
    message = ReceivingException.worded(wording)
    exception = ReceivingException.objects.create(
        parcel=parcel,
        item=item,
        lpn=item.lpn if item else "",
        rma_number=rma.number if rma else "",
        program_id=rma.program_id if rma else None,
        kind=kind,
        scanned_code=code,
        message=message[:300],
        wording=wording,
        raised_by=user,
        station=station,
    )
    record_event(
        parcel=parcel,
        item=item,
        action="exception_raised",
        user=user,
        station=station,
        details={"kind": kind, "message": exception.message, "code": code},
    )
    return exception


def _lock_open_parcel(parcel: Parcel, station: Station) -> Parcel:
    # The parcel's row alone: receive_unit (nearly every scan) locks the RMA with its lines and
    # uses that copy, so joining it here read the RMA twice; the rarer actions that name the
    # RMA read it when they do.
    parcel = Parcel.objects.select_for_update().get(pk=parcel.pk)
    if parcel.status != Parcel.Status.OPEN:
        raise ParcelNotOpen(
            _("This parcel is %(status)s. Scan the next parcel.")
            % {"status": in_sentence(parcel.get_status_display())}
        )
    if parcel.station_id != station.pk:
        raise ParcelNotOpen(_("This parcel is open at another station. Receive its units there."))
    return parcel


def _unit_of_scan(scan_token: uuid.UUID | None) -> ReturnItem | None:
    """The unit an earlier send of this scan created (a double-fired scanner, a retried post)."""
    # Nearly every scan is new: probing the unique index costs less than reading a unit's row.
    if scan_token and ReturnItem.objects.filter(scan_token=scan_token).exists():
        return ReturnItem.objects.get(scan_token=scan_token)
    return None


def _serial_required(product: Product, line: RMALine | None) -> SerialRequired:
    return SerialRequired(
        _("Scan the serial number of %(sku)s %(name)s.")
        % {"sku": product.sku, "name": product.name},
        line,
    )


def _expect_one_more(lines: list[RMALine], rma: ReturnAuthorization, code: str, serial: str):
    """An RMA the desk made for a parcel that came without one expects what is in the box: one
    more of the product scanned, on its line (a new line for a product not seen yet).

    A code that is no product is left to _match_line, which says so.
    """
    product = (
        next(
            (line.product for line in lines if code in {line.product.sku, line.product.gtin}), None
        )
        or Product.objects.filter(Q(sku=code) | Q(gtin=code)).first()
    )
    if product is None:
        return
    line = next((line for line in lines if line.product_id == product.pk), None)
    if product.serialised and not serial:
        raise _serial_required(product, line)
    if line is None:
        line = RMALine.objects.create(
            rma=rma,
            line_no=max((line.line_no for line in lines), default=0) + 1,
            product=product,
            quantity_expected=1,
            reason_id=rma.unannounced_reason_id,
        )
        lines.append(line)
    else:
        line.quantity_expected += 1
        line.save(update_fields=["quantity_expected"])


def _match_line(lines: list[RMALine], rma: ReturnAuthorization, code: str, serial: str) -> RMALine:
    by_serial = [line for line in lines if line.serial_number and line.serial_number == code]
    if by_serial:
        return by_serial[0]
    for_product = [line for line in lines if code in {line.product.sku, line.product.gtin}]
    if not for_product:
        product = Product.objects.filter(Q(sku=code) | Q(gtin=code)).first()
        if product:
            raise WrongItem(
                _(
                    "%(sku)s %(name)s is not on RMA %(number)s. Label it as a wrong item (F4), or"
                    " set it aside."
                )
                % {"sku": product.sku, "name": product.name, "number": rma.number}
            )
        raise UnknownCode(
            _(
                "'%(code)s' is neither a SKU nor a serial number on RMA %(number)s. Check the"
                " barcode, or label it as a wrong item (F4)."
            )
            % {"code": code, "number": rma.number}
        )
    product = for_product[0].product
    if product.serialised and not serial:
        raise _serial_required(product, for_product[0])
    if serial and any(line.serial_number for line in for_product):
        named = [line for line in for_product if line.serial_number == serial]
        unnamed = [line for line in for_product if not line.serial_number]
        for_product = named or unnamed
        if not for_product:
            raise WrongItem(
                _(
                    "Serial %(serial)s is not the one authorised for %(sku)s on RMA %(number)s."
                    " Check the serial, or label it as a wrong item (F4)."
                )
                % {"serial": serial, "sku": product.sku, "number": rma.number}
            )
    open_lines = [line for line in for_product if line.quantity_outstanding > 0]
    if not open_lines:
        expected = sum(line.quantity_expected for line in for_product)
        raise OverReceipt(
            ngettext(
                "The one unit of %(sku)s on RMA %(number)s is already received. Label this one"
                " as an over-receipt (F4), or set it aside.",
                "All %(expected)s units of %(sku)s on RMA %(number)s are already received. Label"
                " this one as an over-receipt (F4), or set it aside.",
                expected,
            )
            % {"expected": expected, "sku": product.sku, "number": rma.number}
        )
    return open_lines[0]


@transaction.atomic
def receive_unit(
    *,
    parcel: Parcel,
    code: str,
    station: Station,
    user: AbstractBaseUser,
    serial: str = "",
    scan_token: uuid.UUID | None = None,
) -> tuple[ReturnItem, bool]:
    """Receive one unit against the parcel's RMA: give it the next LPN and record it.

    `code` is a SKU, GTIN or an authorised serial; `serial` is the serial scanned after a SKU
    of a serialised product. Returns (unit, created): a repeated scan token returns the unit it
    created the first time. A new unit's parcel holds the RMA as locked and updated, and the
    RMA its lines in `lines_as_locked`, and the unit its history entry in `receipt`. Raises
    ParcelNotOpen, UnknownCode, WrongItem, OverReceipt, SerialRequired, SerialAlreadyReceived.
    """
    parcel = _lock_open_parcel(parcel, station)
    if repeat := _unit_of_scan(scan_token):
        return repeat, False
    # The RMA is locked with its lines in one statement (the only one that locks both, so the
    # order cannot deadlock). An RMA without lines matches no scan: _match_line refuses it.
    locked_lines = (
        RMALine.objects.select_for_update(of=("self", "rma"))
        .select_related("product", "rma")
        .filter(rma_id=parcel.rma_id)
        .order_by("line_no")
    )
    lines = list(locked_lines)
    # The RMA as locked, not as read with the parcel: its status goes into the webhook. One the
    # desk made for a parcel without an RMA has no lines before its first unit: locked alone.
    rma = lines[0].rma if lines else RMA.objects.select_for_update().get(pk=parcel.rma_id)
    if rma.unannounced_reason_id:
        # Its lines are added under the RMA's lock, so lines another station added while this
        # scan waited for that lock are missing from the read above: read again, under it.
        lines = list(locked_lines.all())
    parcel.rma = rma
    for line in lines:
        line.rma = rma
    # The receiving desk shows every line after the scan: these rows, as this scan leaves them.
    rma.lines_as_locked = lines
    code, serial = canonical(code), canonical(serial)
    if rma.unannounced_reason_id:
        _expect_one_more(lines, rma, code, serial)
    line = _match_line(lines, rma, code, serial)
    serial = serial or line.serial_number
    returned_before = None
    if serial:
        # One product's serials are received one at a time: two stations scanning one serial on
        # two RMAs at once would each find it free (the lines they lock are not the same).
        Product.objects.select_for_update().only("pk").get(pk=line.product_id)
        earlier = (
            ReturnItem.objects.select_for_update()
            .filter(product=line.product, serial_number=serial)
            .exclude(status=ReturnItem.Status.CLOSED)
            .first()
        )
        if earlier and back_in_stock(earlier):
            # Restocked, sold again and sent back: the earlier unit's story ends here.
            returned_before = earlier
        elif earlier:
            raise SerialAlreadyReceived(
                _(
                    "Serial %(serial)s was already received as %(lpn)s. Check the serial on the"
                    " unit, or set it aside for a supervisor."
                )
                % {"serial": serial, "lpn": earlier.lpn}
            )

    line.quantity_received += 1
    line.save(update_fields=["quantity_received"])
    now = timezone.now()
    # No savepoint: the error leaves this function's transaction, which rolls back whole.
    try:
        item = ReturnItem.objects.create(
            lpn=next_lpn(),
            parcel=parcel,
            rma_line=line,
            program_id=rma.program_id,
            reason_id=line.reason_id,
            product=line.product,
            scanned_code=code,
            serial_number=serial,
            is_late=parcel.is_late,
            station=station,
            received_by=user,
            received_at=now,
            status_changed_at=now,
            scan_token=scan_token,
        )
    except IntegrityError as error:
        raise SerialAlreadyReceived(
            _("Serial %(serial)s was already received on this line. Check the serial on the unit.")
            % {"serial": serial}
        ) from error
    # Before the receipt is recorded: its webhook carries the RMA's status as this unit leaves it.
    completed = _update_rma_receipt_status(rma, lines)
    item.receipt = record_event(
        item=item,
        parcel=parcel,
        action="received",
        to_status=item.status,
        user=user,
        station=station,
        details={
            "rma": rma.number,
            "line": line.line_no,
            "sku": line.product.sku,
            "serial": serial,
            **({"returned_before": returned_before.lpn} if returned_before else {}),
        },
    )
    if returned_before is not None:
        move_item(
            returned_before,
            to_status=ReturnItem.Status.CLOSED,
            action="returned_again",
            user=user,
            station=station,
            details={"returned_as": item.lpn, "rma": rma.number},
        )
    if completed:
        outbox.record_rma_completed(rma)
    return item, True


def _update_rma_receipt_status(rma: ReturnAuthorization, lines: list[RMALine]) -> bool:
    """Set the RMA's status from its lines, either way between partially received and received
    (an edit of a line can take it back); True when this receipt or edit completed it."""
    if all(line.quantity_outstanding == 0 for line in lines):
        status = RMA.Status.RECEIVED
    elif any(line.quantity_received for line in lines):
        status = RMA.Status.PARTIALLY_RECEIVED
    else:
        return False
    if rma.status == status or rma.status not in RMA.RECEIVABLE:
        return False
    rma.status = status
    rma.save(update_fields=["status", "updated_at"])
    return status == RMA.Status.RECEIVED


@transaction.atomic
def lock_rma_for_edit(pk: int) -> ReturnAuthorization | None:
    """Lock an RMA and its lines for an edit outside the services (the admin's change form).

    Read under the lock, so the rows the edit saves whole carry what receiving last wrote (a
    line's received count, the RMA's status), not what they held when the edit began; and in
    receive_unit's order (lines with their RMA in one statement), so the two never deadlock.
    """
    list(
        RMALine.objects.select_for_update(of=("self", "rma"))
        .select_related("rma")
        .filter(rma_id=pk)
    )
    return RMA.objects.select_for_update().filter(pk=pk).first()


def recount_rma_receipt(*, rma: ReturnAuthorization) -> ReturnAuthorization:
    """Set an RMA's status again after an edit of its lines or dates (the admin's).

    A line expecting more makes a received RMA partially received again; a line expecting fewer,
    or one removed, can complete it, which is told as rma.completed, as when a receipt completes
    it. An expired RMA whose window was extended is authorised again. Otherwise an RMA nothing
    was received against, or one no longer receivable, keeps its status. Returns the RMA as
    locked and counted.
    """
    # The lines with their RMA in one statement, as receive_unit locks them, so a scan at a
    # station meanwhile waits for this count or is counted in it.
    lines = list(
        RMALine.objects.select_for_update(of=("self", "rma"))
        .select_related("rma")
        .filter(rma_id=rma.pk)
        .order_by("line_no")
    )
    rma = lines[0].rma if lines else RMA.objects.select_for_update().get(pk=rma.pk)
    if rma.status == RMA.Status.EXPIRED and not rma.is_late_on(timezone.localdate()):
        # Customer service gave the customer more time: the tracking page must not say it passed.
        rma.status = RMA.Status.AUTHORISED
        rma.save(update_fields=["status", "updated_at"])
    if lines and _update_rma_receipt_status(rma, lines):
        outbox.record_rma_completed(rma)
    return rma


@transaction.atomic
def receive_exception_unit(
    *,
    parcel: Parcel,
    code: str,
    kind: str,
    station: Station,
    user: AbstractBaseUser,
    scan_token: uuid.UUID | None = None,
) -> tuple[ReturnItem, bool]:
    """Label a unit that cannot be received against a line (wrong item, over-receipt) and hold it.

    The unit gets an LPN so it is never lost in the building, waits in the exception queue, and
    does not count against the RMA. Returns (unit, created) like receive_unit.
    """
    if kind not in {ReceivingException.Kind.WRONG_ITEM, ReceivingException.Kind.OVER_RECEIPT}:
        raise ValueError(f"{kind} is not an exception a unit can be received under")
    parcel = _lock_open_parcel(parcel, station)
    if repeat := _unit_of_scan(scan_token):
        return repeat, False
    code = canonical(code)
    product = Product.objects.filter(Q(sku=code) | Q(gtin=code)).first()
    now = timezone.now()
    item = ReturnItem.objects.create(
        lpn=next_lpn(),
        parcel=parcel,
        product=product,
        scanned_code=code,
        status=ReturnItem.Status.HELD,
        is_late=parcel.is_late,
        station=station,
        received_by=user,
        received_at=now,
        status_changed_at=now,
        scan_token=scan_token,
    )
    record_event(
        item=item,
        parcel=parcel,
        action="received",
        to_status=item.status,
        user=user,
        station=station,
        details={"rma": parcel.rma.number, "code": code, "exception": kind},
    )
    _raise_exception(
        parcel=parcel,
        item=item,
        kind=kind,
        code=code,
        sentence="labelled",
        values={"lpn": item.lpn, "code": code, "kind": kind, "number": parcel.rma.number},
        user=user,
        station=station,
    )
    return item, True


@transaction.atomic
def close_parcel(*, parcel: Parcel, station: Station, user: AbstractBaseUser) -> Parcel:
    """Close an open parcel, recording every RMA line still short at that moment."""
    parcel = _lock_open_parcel(parcel, station)
    shortages = [
        {"line": line.line_no, "sku": line.product.sku, "missing": line.quantity_outstanding}
        for line in RMALine.objects.filter(rma_id=parcel.rma_id)
        .select_related("product")
        .order_by("line_no")
        if line.quantity_outstanding > 0
    ]
    parcel.shortages = shortages
    parcel.closed_at = timezone.now()
    _move_parcel(
        parcel,
        to_status=Parcel.Status.CLOSED,
        action="parcel_closed",
        user=user,
        station=station,
        details={"shortages": shortages, "units": parcel.items.count()},
        also_update=("shortages", "closed_at"),
    )
    return parcel


@transaction.atomic
def park_parcel(*, parcel: Parcel, station: Station, user: AbstractBaseUser, reason: str) -> Parcel:
    """Send an open parcel to the exception queue with the clerk's reason."""
    parcel = _lock_open_parcel(parcel, station)
    _move_parcel(
        parcel,
        to_status=Parcel.Status.PARKED,
        action="parcel_parked",
        user=user,
        station=station,
        details={"reason": reason},
    )
    _raise_exception(
        parcel=parcel,
        kind=ReceivingException.Kind.PARKED,
        code=parcel.scanned_code,
        note=reason,
        user=user,
        station=station,
    )
    return parcel


@transaction.atomic
def park_unmatched_parcel(
    *, code: str, station: Station, user: AbstractBaseUser, reason: str = ""
) -> Parcel:
    """Put a parcel that cannot be received (no RMA, or its RMA is not open) in the exception queue.

    Parking the same code again while its exception is open returns the same parcel.
    """
    _require_receiving(station)
    code = canonical(code)
    try:
        rma = find_rma(code)
    except (UnknownCode, AmbiguousCode):
        rma = None
    if rma is not None and rma.status in RMA.RECEIVABLE:
        raise RmaNotReceivable(
            _("'%(code)s' matches RMA %(number)s, which can be received.")
            % {"code": code, "number": rma.number}
        )
    existing = (
        Parcel.objects.filter(
            scanned_code=code,
            status=Parcel.Status.PARKED,
            exceptions__status=ReceivingException.Status.OPEN,
        )
        .distinct()
        .first()
    )
    if existing:
        return existing
    parcel = Parcel.objects.create(
        scanned_code=code,
        rma=rma,
        station=station,
        received_by=user,
        status=Parcel.Status.PARKED,
    )
    record_event(
        parcel=parcel,
        action="parcel_parked",
        to_status=parcel.status,
        user=user,
        station=station,
        details={"code": code, "reason": reason},
    )
    if rma is None:
        kind, sentence, values = ReceivingException.Kind.UNMATCHED, "unmatched", {"code": code}
    else:
        kind, sentence = ReceivingException.Kind.RMA_NOT_OPEN, "rma_not_open"
        values = {"number": rma.number, "status": rma.status}
    _raise_exception(
        parcel=parcel,
        kind=kind,
        code=code,
        sentence=sentence,
        values=values,
        note=reason,
        user=user,
        station=station,
    )
    return parcel


# Authorising returns (the API and the CSV import) ------------------------------------------------


@dataclass(frozen=True)
class NewLine:
    product: Product
    quantity: int
    reason: ReasonCode
    price_paid: Decimal = Decimal(0)
    serial_number: str = ""
    customer_comment: str = ""


def choose_policy(
    *, program: Program, channel: str, categories: Iterable[int] = ()
) -> ReturnPolicy:
    """The active policy for a program sold through `channel`, for products of `categories`.

    A policy naming channels or categories covers only those (every line's category must be
    among its categories). The most specific one that covers the return wins, so an admin can
    give, say, electronics bought on a marketplace a shorter window than the program's
    catch-all; among equally specific ones, the first by name. Raises NoPolicy.
    """
    categories = set(categories)
    policies = (
        ReturnPolicy.objects.filter(programs=program, active=True)
        .prefetch_related("categories")
        .order_by("name")
    )
    covering = []
    for policy in policies:
        named = {category.pk for category in policy.categories.all()}
        if policy.channels and channel not in policy.channels or named and not categories <= named:
            continue
        covering.append((-(bool(policy.channels) + bool(named)), policy))
    if covering:
        return min(covering, key=lambda ranked: ranked[0])[1]
    if not categories:
        raise NoPolicy(
            _("No active return policy covers %(program)s sold through %(channel)s.")
            % {"program": program.name, "channel": channel}
        )
    names = ProductCategory.objects.filter(pk__in=categories).order_by("name")
    raise NoPolicy(
        _("No active return policy covers %(program)s sold through %(channel)s for %(categories)s.")
        % {
            "program": program.name,
            "channel": channel,
            "categories": ", ".join(category.name for category in names),
        }
    )


@transaction.atomic
def create_rma(
    *,
    number: str,
    program: Program,
    channel: str,
    lines: list[NewLine],
    policy: ReturnPolicy | None = None,
    order_reference: str = "",
    customer_name: str = "",
    customer_email: str = "",
    issued_on: date | None = None,
    purchased_on: date | None = None,
    tracking: Iterable[str] = (),
) -> ReturnAuthorization:
    """Authorise a return: the RMA, its numbered lines and its carrier tracking numbers.

    The policy defaults to the one covering the program, channel and the lines' categories.
    Raises RmaConflict (the
    number or a tracking number is taken), NoPolicy.
    """
    number = canonical(number)
    if RMA.objects.filter(number=number).exists():
        raise RmaConflict(_("RMA %(number)s already exists.") % {"number": number})
    tracking = list(dict.fromkeys(canonical(code) for code in tracking if code.strip()))
    if taken := list(TrackingNumber.objects.filter(number__in=tracking).values_list("number")):
        raise RmaConflict(
            _("Tracking number %(numbers)s belongs to another RMA.")
            % {"numbers": ", ".join(code for (code,) in taken)}
        )
    policy = policy or choose_policy(
        program=program,
        channel=channel,
        categories={line.product.category_id for line in lines},
    )
    try:
        with transaction.atomic():
            rma = RMA.objects.create(
                number=number,
                program=program,
                policy=policy,
                channel=channel,
                order_reference=order_reference,
                customer_name=customer_name,
                customer_email=customer_email,
                issued_on=issued_on or timezone.localdate(),
                purchased_on=purchased_on,
            )
            # bulk_create skips save(), so identifiers are made canonical here.
            RMALine.objects.bulk_create(
                RMALine(
                    rma=rma,
                    line_no=line_no,
                    product=line.product,
                    quantity_expected=line.quantity,
                    reason=line.reason,
                    price_paid=line.price_paid,
                    serial_number=canonical(line.serial_number),
                    customer_comment=line.customer_comment,
                )
                for line_no, line in enumerate(lines, start=1)
            )
            TrackingNumber.objects.bulk_create(
                TrackingNumber(rma=rma, number=code) for code in tracking
            )
    except IntegrityError as error:
        # Only a concurrent create of the same number or tracking number gets here.
        raise RmaConflict(
            _("RMA %(number)s or one of its tracking numbers was just taken.") % {"number": number}
        ) from error
    return rma


@transaction.atomic
def cancel_rma(*, rma: ReturnAuthorization, reason: str, cancelled_by: str) -> ReturnAuthorization:
    """Cancel a return nothing has arrived for: from then on a parcel scanned for it is refused
    (and can be parked for a supervisor), and the customer's tracking page says it was cancelled.

    `cancelled_by` names who asked (a user, an API key). Cancelling a cancelled RMA changes
    nothing, so a retried call answers as the first did. Raises ReasonRequired, and
    RmaNotCancellable once a parcel arrived for it (what came is received or refused).
    """
    if not reason.strip():
        raise ReasonRequired(_("Say why: the reason goes into the history."))
    # The RMA's lock is the one receive_parcel takes first: a parcel is opened for it before
    # or after this, never meanwhile.
    rma = RMA.objects.select_for_update().get(pk=rma.pk)
    if rma.status == RMA.Status.CANCELLED:
        return rma
    arrived = rma.parcels.order_by("received_at").select_related("station").first()
    if arrived is not None:
        raise RmaNotCancellable(
            _(
                "RMA %(number)s cannot be cancelled: a parcel for it arrived at %(station)s."
                " Receive what came, or refuse it from the exception queue."
            )
            % {"number": rma.number, "station": arrived.station.code}
        )
    if rma.status not in RMA.CANCELLABLE:
        raise RmaNotCancellable(
            _("RMA %(number)s is %(status)s: only a return still awaited can be cancelled.")
            % {"number": rma.number, "status": in_sentence(rma.get_status_display())}
        )
    rma.status = RMA.Status.CANCELLED
    rma.cancelled_at = timezone.now()
    rma.cancelled_by = cancelled_by[:150]
    rma.cancel_reason = reason.strip()[:300]
    rma.save(
        update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"]
    )
    outbox.record_rma_cancelled(rma)
    return rma


# Expiring and closing RMAs (manage.py close_rmas, daily) -----------------------------------------

RMA_BATCH = 500
FINISHED_UNIT = {ReturnItem.Status.PUT_AWAY, ReturnItem.Status.CLOSED}


def _settle_in_batches(
    candidates: QuerySet[ReturnAuthorization], status: str, event_type: str, *, tell: bool
) -> int:
    """Move `candidates` to `status` a batch per transaction, telling integrations of each.

    The filter is read again under the row locks, and RMAs a station has locked this moment (a
    unit being received) are skipped: the next run takes them if they still qualify. Each batch
    goes on after the last RMA of the one before, so the RMAs that do not qualify are read once
    per run, not once per batch (from the start each time, ten minutes at a million RMAs settled
    under half of them).
    """
    moved = after = 0
    while True:
        with transaction.atomic():
            batch = list(
                candidates.filter(pk__gt=after)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:RMA_BATCH]
            )
            if not batch:
                return moved
            RMA.objects.filter(pk__in=[rma.pk for rma in batch]).update(
                status=status, updated_at=timezone.now()
            )
            for rma in batch if tell else ():
                rma.status = status
                outbox.record_rma_reached(rma, event_type)
        moved += len(batch)
        after = batch[-1].pk


def expire_rmas(*, today: date, tell: bool = True) -> int:
    """Mark authorised returns whose window ended before `today` as expired, unless a parcel of
    theirs is open or parked (a closed or refused one received nothing: still awaited).

    The customer's tracking page and the web shop (webhook `rma.expired`) then say so. A parcel
    may still come: an expired RMA is receivable, its policy decides about late arrivals, and
    a supervisor may cancel it. `tell=False` leaves integrations out (a first run settling years
    of history). Returns how many expired.
    """
    # A parcel closed or refused with nothing received leaves the RMA awaited: it may expire.
    at_the_desk = Parcel.objects.filter(
        rma=OuterRef("pk"), status__in=[Parcel.Status.OPEN, Parcel.Status.PARKED]
    )
    candidates = RMA.objects.filter(status=RMA.Status.AUTHORISED, expires_on__lt=today).exclude(
        Exists(at_the_desk)
    )
    return _settle_in_batches(candidates, RMA.Status.EXPIRED, outbox.RMA_EXPIRED, tell=tell)


def close_finished_rmas(*, today: date, late_parcel_days: int, tell: bool = True) -> int:
    """Close returns with nothing left to do, so receiving refuses further parcels for them.

    Nothing is left when every unit expected arrived, or the window ended `late_parcel_days`
    before `today` and what did arrive is all there will be; every unit received is put away
    or closed (so its refund, if any, is released); and no parcel of it is open or parked.
    `tell` as expire_rmas. Returns how many closed.
    """
    # A unit is the RMA's by its line (a parcel linked to another RMA after some units were
    # received keeps those on theirs), or, held without a line, by the parcel it came in.
    unfinished = ReturnItem.objects.exclude(status__in=FINISHED_UNIT)
    unfinished_parcels = Parcel.objects.filter(
        rma=OuterRef("pk"), status__in=[Parcel.Status.OPEN, Parcel.Status.PARKED]
    )
    waited = today - timedelta(days=late_parcel_days)
    candidates = (
        RMA.objects.filter(
            Q(status=RMA.Status.RECEIVED)
            | Q(status=RMA.Status.PARTIALLY_RECEIVED, expires_on__lt=waited)
        )
        .exclude(Exists(unfinished.filter(rma_line__rma=OuterRef("pk"))))
        .exclude(Exists(unfinished.filter(rma_line__isnull=True, parcel__rma=OuterRef("pk"))))
        .exclude(Exists(unfinished_parcels))
    )
    return _settle_in_batches(candidates, RMA.Status.CLOSED, outbox.RMA_CLOSED, tell=tell)


def reopen_finished_rma(item: ReturnItem) -> None:
    """A supervisor sent a unit of a closed return back to work (the locked `item`): the return
    is not finished any more. It is received (or partly) again until close_rmas finds it done,
    and the customer's tracking page no longer says it is complete."""
    rma = item.rma
    if rma is None or rma.status != RMA.Status.CLOSED:
        return
    rma = RMA.objects.select_for_update().get(pk=rma.pk)
    if rma.status != RMA.Status.CLOSED:
        return
    outstanding = rma.lines.filter(quantity_received__lt=F("quantity_expected")).exists()
    rma.status = RMA.Status.PARTIALLY_RECEIVED if outstanding else RMA.Status.RECEIVED
    rma.save(update_fields=["status", "updated_at"])


# Resolving the exception queue (supervisors) ------------------------------------------------------

Resolution = ReceivingException.Resolution


def _lock_exception(
    exception: ReceivingException, reason: str
) -> tuple[Parcel, ReceivingException]:
    """Lock the exception's parcel, then the exception (receiving locks parcels first, too)."""
    if not reason.strip():
        raise ReasonRequired(_("Say why: the reason goes into the history."))
    parcel = (
        Parcel.objects.select_for_update(of=("self",))
        .select_related("rma", "station__site")
        .get(pk=exception.parcel_id)
    )
    exception = (
        ReceivingException.objects.select_for_update(of=("self",))
        .select_related("item")
        .get(pk=exception.pk)
    )
    if exception.status != ReceivingException.Status.OPEN:
        raise ExceptionNotOpen(
            _("This exception was already resolved: %(resolution)s.")
            % {"resolution": in_sentence(exception.get_resolution_display())}
        )
    exception.parcel = parcel
    return parcel, exception


def _lock_parcel_exception(exception: ReceivingException, reason: str) -> Parcel:
    """Lock an exception about a whole parcel (linking it to an RMA, or creating one for it)."""
    parcel, exception = _lock_exception(exception, reason)
    # The screen offers these only for a parcel's own exceptions; a forged post on a unit's
    # would reopen its parcel and leave the unit's exception open.
    if exception.item_id:
        raise CannotResolve(
            _(
                "This exception is about unit %(lpn)s, not its parcel: release it, refuse it or"
                " write it off."
            )
            % {"lpn": exception.item.lpn}
        )
    return parcel


def _open_exceptions(parcel: Parcel, *, parcel_level_only: bool) -> list[ReceivingException]:
    exceptions = ReceivingException.objects.select_for_update(of=("self",)).filter(
        parcel=parcel, status=ReceivingException.Status.OPEN
    )
    if parcel_level_only:
        exceptions = exceptions.filter(item__isnull=True)
    return list(exceptions.select_related("item").order_by("pk"))


def _resolve(
    exceptions: list[ReceivingException],
    *,
    resolution: str,
    reason: str,
    user: AbstractBaseUser,
    station: Station | None,
    details: dict | None = None,
) -> None:
    now = timezone.now()
    for exception in exceptions:
        exception.status = ReceivingException.Status.RESOLVED
        exception.resolution = resolution
        exception.resolution_note = reason.strip()[:300]
        exception.resolved_by = user
        exception.resolved_at = now
        exception.save(
            update_fields=["status", "resolution", "resolution_note", "resolved_by", "resolved_at"]
        )
        record_event(
            parcel=exception.parcel,
            item=exception.item,
            action="exception_resolved",
            user=user,
            station=station,
            details={
                "exception": exception.pk,
                "kind": exception.kind,
                "resolution": resolution,
                "reason": exception.resolution_note,
                **(details or {}),
            },
        )


def _require_parked(parcel: Parcel) -> None:
    if parcel.status != Parcel.Status.PARKED:
        raise CannotResolve(
            _("This parcel is %(status)s: only a parked parcel can be resolved.")
            % {"status": in_sentence(parcel.get_status_display())}
        )


def _remember_code(rma: ReturnAuthorization, code: str) -> None:
    """Keep the parcel's unknown code as a tracking number, so scanning the box finds its RMA."""
    taken = RMA.objects.filter(Q(number=code) | Q(order_reference=code)).exists()
    if not taken and not TrackingNumber.objects.filter(number=code).exists():
        TrackingNumber.objects.create(rma=rma, number=code)


def _link(parcel, rma, *, resolution, reason, user, station) -> Parcel:
    """Give a parked parcel its RMA and send it back, open, to the station that parked it.

    The clerk there sees it on the receiving desk with the RMA's lines and scans its units,
    which then flow on to inspection like any others.
    """
    _require_parked(parcel)
    rma = RMA.objects.select_for_update().get(pk=rma.pk)
    if rma.status not in RMA.RECEIVABLE:
        raise RmaNotReceivable(
            _("RMA %(number)s is %(status)s: nothing can be received against it.")
            % {"number": rma.number, "status": in_sentence(rma.get_status_display())}
        )
    _remember_code(rma, parcel.scanned_code)
    parcel.rma = rma
    parcel.is_late = rma.is_late_on(site_today(parcel.station))
    # The parcel's exceptions copy its RMA (the queue sorts and filters by the copy): those
    # resolved here keep the RMA they were linked to, any left open are listed under it.
    ReceivingException.objects.filter(parcel=parcel, status=ReceivingException.Status.OPEN).update(
        rma_number=rma.number, program=rma.program_id
    )
    exceptions = _open_exceptions(parcel, parcel_level_only=True)
    _move_parcel(
        parcel,
        to_status=Parcel.Status.OPEN,
        action="parcel_linked",
        user=user,
        station=station,
        details={"rma": rma.number, "reason": reason.strip()[:300]},
        also_update=("rma", "is_late"),
    )
    _resolve(
        exceptions,
        resolution=resolution,
        reason=reason,
        user=user,
        station=station,
        details={"rma": rma.number},
    )
    return parcel


@transaction.atomic
def link_parcel_to_rma(
    *,
    exception: ReceivingException,
    rma: ReturnAuthorization,
    reason: str,
    user: AbstractBaseUser,
    station: Station | None = None,
) -> Parcel:
    """Match a parked parcel to an existing RMA and reopen it at its station for receiving.

    Every open parcel-level exception of the parcel is resolved. Raises ReasonRequired,
    ExceptionNotOpen, CannotResolve (the parcel is not parked), RmaNotReceivable.
    """
    parcel = _lock_parcel_exception(exception, reason)
    return _link(
        parcel,
        rma,
        resolution=Resolution.LINKED,
        reason=reason,
        user=user,
        station=station,
    )


@transaction.atomic
def create_rma_for_parcel(
    *,
    exception: ReceivingException,
    program: Program,
    channel: str,
    lines: list[NewLine],
    reason: str,
    user: AbstractBaseUser,
    customer_name: str = "",
    customer_email: str = "",
    order_reference: str = "",
    station: Station | None = None,
) -> ReturnAuthorization:
    """Authorise the return a parked parcel turned out to be, and reopen it for receiving.

    The RMA is numbered after the parcel: EXC-<parcel>, then EXC-<parcel>-2 and so on when the
    parcel is parked again and turns out to hold another return. Raises ReasonRequired,
    ExceptionNotOpen, CannotResolve, NoPolicy, RmaConflict.
    """
    parcel = _lock_parcel_exception(exception, reason)
    _require_parked(parcel)
    if not lines:
        raise CannotResolve(_("Name at least one product the parcel holds."))
    number = f"EXC-{parcel.pk:06d}"
    # The parcel's lock serialises this count, so two supervisors never pick the same number.
    earlier = ReturnAuthorization.objects.filter(
        Q(number=number) | Q(number__startswith=f"{number}-")
    ).count()
    rma = create_rma(
        number=f"{number}-{earlier + 1}" if earlier else number,
        program=program,
        channel=channel,
        lines=lines,
        order_reference=order_reference,
        customer_name=customer_name,
        customer_email=customer_email,
    )
    _link(
        parcel,
        rma,
        resolution=Resolution.RMA_CREATED,
        reason=reason,
        user=user,
        station=station,
    )
    return rma


@transaction.atomic
def release_exception(
    *,
    exception: ReceivingException,
    reason: str,
    user: AbstractBaseUser,
    station: Station | None = None,
    product: Product | None = None,
) -> ReceivingException:
    """Accept what the exception held back, so it flows on.

    A held unit goes to 'received' (awaiting inspection); a parked parcel with a receivable RMA
    reopens at its station; a flagged late arrival is acknowledged. A held unit whose barcode
    matched no product needs `product`, what the supervisor found it to be: its category gives
    it a checklist. Raises ReasonRequired, ExceptionNotOpen, CannotResolve (a parcel without a
    receivable RMA: link one first; an unidentified unit without `product`).
    """
    parcel, exception = _lock_exception(exception, reason)
    details = {"reason": reason.strip()[:300]}
    if exception.item_id:
        item = (
            ReturnItem.objects.select_for_update(of=("self",))
            .select_related(*outbox.PAYLOAD_RELATED)
            .get(pk=exception.item_id)
        )
        exceptions = [
            e for e in _open_exceptions(parcel, parcel_level_only=False) if e.item_id == item.pk
        ]
        if item.status == ReturnItem.Status.HELD:
            also_update = ()
            if item.product_id is None:
                if product is None:
                    raise CannotResolve(
                        _(
                            "%(lpn)s matched no product, so it has no checklist: name its SKU to"
                            " release it, or refuse it or write it off."
                        )
                        % {"lpn": item.lpn}
                    )
                item.product = product
                also_update = ("product",)
                details["identified_as"] = product.sku
            move_item(
                item,
                to_status=ReturnItem.Status.RECEIVED,
                action="released",
                user=user,
                station=station,
                details=details,
                also_update=also_update,
            )
    elif parcel.status == Parcel.Status.PARKED:
        if parcel.rma is None or parcel.rma.status not in RMA.RECEIVABLE:
            raise CannotResolve(
                _(
                    "This parcel has no RMA it can be received against: link it to one, create"
                    " one, refuse it or write it off."
                )
            )
        exceptions = _open_exceptions(parcel, parcel_level_only=True)
        _move_parcel(
            parcel,
            to_status=Parcel.Status.OPEN,
            action="parcel_released",
            user=user,
            station=station,
            details=details,
        )
    else:
        exceptions = [exception]
    _resolve(exceptions, resolution=Resolution.RELEASED, reason=reason, user=user, station=station)
    exception.refresh_from_db()
    return exception


def _close_exception(exception, *, resolution, action, reason, user, station):
    parcel, exception = _lock_exception(exception, reason)
    details = {"reason": reason.strip()[:300], "resolution": resolution}
    # With what the closing events' webhook payloads name, so no unit is read again for them.
    units = ReturnItem.objects.select_for_update(of=("self",)).select_related(
        *outbox.PAYLOAD_RELATED
    )
    unit_details = details
    if exception.item_id:
        closing = list(units.filter(pk=exception.item_id, status=ReturnItem.Status.HELD))
        kept = []
        exceptions = [
            e
            for e in _open_exceptions(parcel, parcel_level_only=False)
            if e.item_id == exception.item_id
        ]
    else:
        _require_parked(parcel)
        closing, kept = _units_leaving_with(parcel, units)
        # The parcel's own event tells the customer of the whole box, once; with units of it
        # kept in the building, it would say what is untrue, and each unit leaving tells itself.
        unit_details = details if kept else {**details, "with_parcel": True}
        exceptions = _open_exceptions(parcel, parcel_level_only=False)
        parcel.closed_at = timezone.now()
        _move_parcel(
            parcel,
            to_status=Parcel.Status.CLOSED,
            action=action,
            user=user,
            station=station,
            # The history says why units of a box that went back are still in the building.
            details={**details, "kept": [unit.lpn for unit in kept]} if kept else details,
            also_update=("closed_at",),
        )
    move_items(
        closing,
        to_status=ReturnItem.Status.CLOSED,
        action=action,
        user=user,
        station=station,
        details=unit_details,
    )
    _resolve(exceptions, resolution=resolution, reason=reason, user=user, station=station)
    exception.refresh_from_db()
    exception.closed = [unit.lpn for unit in closing]
    exception.kept = [unit.lpn for unit in kept]
    return exception


def _units_leaving_with(
    parcel: Parcel, units: QuerySet[ReturnItem]
) -> tuple[list[ReturnItem], list[ReturnItem]]:
    """Lock a refused or written-off parcel's units: (those leaving with it, those kept).

    Held units, and received ones still waiting for their first inspection, are on the
    receiving side with the box and go where it goes; they stay counted on their RMA lines
    (they were received, then sent back). A unit that has moved on, to inspection or beyond, is
    elsewhere in the building and is kept; so is one back at 'received' after leaving it once
    (an inspection given up, a repair done): it is not with the box any more.
    """
    moved_on = ItemEvent.objects.filter(item=OuterRef("pk"), from_status=ReturnItem.Status.RECEIVED)
    leaving, kept = [], []
    for unit in (
        units.filter(parcel=parcel)
        .exclude(status=ReturnItem.Status.CLOSED)
        .annotate(moved_on=Exists(moved_on))
        .order_by("pk")
    ):
        waiting = unit.status == ReturnItem.Status.RECEIVED and not unit.moved_on
        (leaving if waiting or unit.status == ReturnItem.Status.HELD else kept).append(unit)
    return leaving, kept


@transaction.atomic
def refuse_exception(
    *,
    exception: ReceivingException,
    reason: str,
    user: AbstractBaseUser,
    station: Station | None = None,
) -> ReceivingException:
    """Return what the exception holds to its sender: the held unit, or the parked parcel with
    its held units and those still awaiting their first inspection, are closed.

    Units of the parcel already past receiving are kept (the parcel's event names them). The
    exception returned carries the LPNs closed in `closed` and those kept in `kept`. Raises
    ReasonRequired, ExceptionNotOpen, CannotResolve.
    """
    return _close_exception(
        exception,
        resolution=Resolution.REFUSED,
        action="returned_to_sender",
        reason=reason,
        user=user,
        station=station,
    )


@transaction.atomic
def write_off_exception(
    *,
    exception: ReceivingException,
    reason: str,
    user: AbstractBaseUser,
    station: Station | None = None,
) -> ReceivingException:
    """Write off what the exception holds: the held unit, or the parked parcel with its held
    units and those still awaiting their first inspection, are closed; as refuse_exception.
    """
    return _close_exception(
        exception,
        resolution=Resolution.WRITTEN_OFF,
        action="written_off",
        reason=reason,
        user=user,
        station=station,
    )
