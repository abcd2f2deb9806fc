"""Screens of the core app: home, station choice, and the receiving desk.

Receiving views: check role and station -> bind the form -> call one service -> turn a domain
error into a message with a 4xx -> answer htmx with the `desk` partial, anyone else with the page.
A unit scan on a page that already shows its parcel is answered with what it changed only
(`scan-delta`): a station scans units all day, and the whole desk cost more than the scan.
"""

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget, trigger_client_event

from . import services
from .exceptions import (
    DomainError,
    OverReceipt,
    RmaNotReceivable,
    SerialRequired,
    UnknownCode,
    WrongItem,
)
from .forms import ExceptionUnitForm, ParkForm, ScanForm, StationForm, UnannouncedForm
from .labels import code128_svg
from .middleware import STATION_SESSION_KEY
from .models import (
    ItemEvent,
    Parcel,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    RMALine,
)
from .stations import newest, stamped, station_required
from .tables import attach_configuration
from .wording import in_sentence

RECEIVE = "returns_desk.receive_returns"
SUPERVISE = "returns_desk.supervise_returns"
# The session key of the program and reason this clerk last received an unannounced parcel under.
UNANNOUNCED_LAST = "receiving_unannounced_last"
# The reason the import gives a return that names none (migration 0005 makes it).
UNSPECIFIED = "unspecified"


@dataclass
class Outcome:
    """What the clerk is told after a scan: a level the page styles and screen readers announce."""

    level: str  # "success", "warning", "error" or "prompt"
    message: str
    # Follow-up actions the clerk may take from here, e.g. park an unknown parcel.
    offer_park_code: str = ""
    offer_exception_kind: str = ""
    offer_exception_code: str = ""
    # An unknown parcel code: receive it without an RMA (UNANNOUNCED_OFFER names what is in it).
    offer_unannounced: dict | None = None
    serial_for: str = ""
    errors: list[str] = field(default_factory=list)


@require_GET
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers (is this process serving?) and as the benchmark's bare-Django ceiling.

    It touches no database on purpose: a load balancer should not drop every app server at
    once because the shared database is slow.
    """
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.has_perm(SUPERVISE):
        return redirect("supervisor:dashboard")
    if request.user.has_perm(RECEIVE):
        return redirect("receiving:desk")
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "returns_desk/no_role.html", status=403)


@require_http_methods(["GET", "POST"])
def choose_station(request: HttpRequest) -> HttpResponse:
    form = StationForm(request.POST or None, initial={"station": request.station or None})
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.method == "POST":
        if form.is_valid():
            request.session[STATION_SESSION_KEY] = form.cleaned_data["station"].pk
            return redirect(next_url or "home")
        return render(
            request, "returns_desk/station.html", {"form": form, "next": next_url}, status=422
        )
    return render(request, "returns_desk/station.html", {"form": form, "next": next_url})


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    return _respond(request, None, Outcome("error", message), status=403)


receiving_station_required = station_required("can_receive", refuse=_refuse)


def _open_parcel(request: HttpRequest) -> Parcel | None:
    """The parcel a scan goes into: the one the page shows, while it is open at this station;
    else the one this clerk has open here, if any (so a reload keeps the context).

    The page's first: the services let any clerk at the station carry on with a parcel, and a
    clerk taking over at a shift change, shown the parcel left open on scanning its box, had
    every unit scanned next read as a parcel code. The clerk's own otherwise: two clerks at one
    station each receive their own parcel. Its row alone: a unit scan shows the parcel and RMA
    the service locked, so an RMA joined here would be read for nothing on nearly every request.
    """
    open_here = Parcel.objects.filter(station=request.station, status=Parcel.Status.OPEN)
    shown = request.POST.get("parcel_shown", "")
    if shown.isdigit() and (parcel := open_here.filter(pk=int(shown)).first()):
        return parcel
    return open_here.filter(received_by=request.user).order_by("-received_at").first()


def _desk_context(
    request: HttpRequest,
    parcel: Parcel | None,
    outcome: Outcome | None,
    item=None,
    lines: list[RMALine] | None = None,
):
    """What the desk shows; `lines` are the parcel's RMA lines when the caller holds them."""
    if parcel is not None and parcel.status != Parcel.Status.OPEN:
        parcel = None
    units = []
    if parcel is None or not parcel.rma_id:
        lines = []
    else:
        # The RMA's program and policy, and the lines' reasons, are configuration: from the
        # cache, not joined to reads that run again on every scan.
        attach_configuration([parcel.rma], ReturnAuthorization, "program")
        attach_configuration([parcel.rma], ReturnAuthorization, "policy")
        if lines is None:
            lines = list(
                RMALine.objects.filter(rma_id=parcel.rma_id)
                .select_related("product")
                .order_by("line_no")
            )
        attach_configuration(lines, RMALine, "reason")
    if parcel is not None:
        units = _parcel_units(parcel)
    # request.station is a lazy object that may wrap None (no station chosen yet).
    station = request.station or None
    return {
        "parcel": parcel,
        "lines": lines,
        "units": units,
        "outcome": outcome,
        "label_item": item,
        "label_barcode": code128_svg(item.lpn) if item else "",
        "recent": _recent(station) if station else [],
        "recent_shown": settings.RECENT_SCANS_SHOWN,
        "scan_form": _scan_form(outcome),
        "packagings": Parcel.Packaging.choices,
    }


def _scan_form(outcome: Outcome | None) -> ScanForm:
    """The next scan's form: a new token, and the unit awaiting its serial if the outcome asks."""
    return ScanForm(
        initial={"token": uuid.uuid4(), "serial_for": outcome.serial_for if outcome else ""}
    )


def _parcel_units(parcel: Parcel) -> list[tuple]:
    """The parcel's units, newest first. Read again on every scan: only the columns the desk
    shows, as values, as a unit carries dozens of others to fetch and convert."""
    return list(
        parcel.items.order_by("-received_at").values_list(
            "lpn", "product__sku", "scanned_code", "status"
        )
    )


def _recent(station) -> list[tuple]:
    """The station's latest history events: when (ISO and clock time, local), what (in words),
    the unit's LPN, the RMA number, the parcel's code, and who.

    Read as values, each action worded once and each time formatted here: as model rows through
    date filters, ten events cost more to render than the rest of the desk.
    """
    events = list(
        newest(
            ItemEvent.objects.filter(station=station).order_by("-created_at", "-pk"),
            settings.RECENT_SCANS_SHOWN,
        ).values_list(
            "created_at",
            "action",
            "item__lpn",
            "parcel__rma__number",
            "parcel__scanned_code",
            "user__username",
        )
    )
    return _recent_rows(events)


def _recent_rows(events) -> list[tuple]:
    """Rows of the recent list from (created_at, action, lpn, RMA number, code, username)."""
    # Each action worded by the model's own rule, on an unsaved event holding only the action.
    words = {action: ItemEvent(action=action).action_label for action in {e[1] for e in events}}
    rows = []
    for created_at, action, lpn, number, code, username in events:
        rows.append((*stamped(created_at), words[action], lpn, number, code, username))
    return rows


def _page_shows(request: HttpRequest, parcel: Parcel | None) -> bool:
    """Whether the page that sent this htmx scan shows `parcel`, still open, as its parcel."""
    return bool(
        request.htmx
        and parcel is not None
        and parcel.status == Parcel.Status.OPEN
        and request.POST.get("parcel_shown") == str(parcel.pk)
    )


def _delta_context(request, parcel, outcome, item, lines) -> dict:
    """What a scan changed on a page that shows its parcel. With `lines` (a unit was received)
    the lines, the parcel's units and the unit's history entry on top of the recent list; with
    `item` its label; otherwise the scan panel alone."""
    context = {
        "parcel": parcel,
        "outcome": outcome,
        "scan_form": _scan_form(outcome),
        "label_item": item,
        "label_barcode": code128_svg(item.lpn) if item else "",
        "lines": lines,
    }
    if lines is not None:
        attach_configuration(lines, RMALine, "reason")
        entry = item.receipt
        context["units"] = _parcel_units(parcel)
        context["recent"] = _recent_rows(
            [
                (
                    entry.created_at,
                    entry.action,
                    item.lpn,
                    parcel.rma.number,
                    parcel.scanned_code,
                    request.user.get_username(),
                )
            ]
        )
    return context


def _respond(
    request, parcel, outcome, *, item=None, lines=None, status=200, event=None
) -> HttpResponse:
    template = "returns_desk/receiving.html"
    if _page_shows(request, parcel):
        context = _delta_context(request, parcel, outcome, item, lines)
        response = render(request, f"{template}#scan-delta", context, status=status)
        retarget(response, "#scan-panel")
    else:
        if request.htmx:
            template += "#desk"
        context = _desk_context(request, parcel, outcome, item, lines)
        response = render(request, template, context, status=status)
    if event:
        trigger_client_event(response, event, {"lpn": item.lpn if item else ""})
    return response


def _unannounced_offer(request, code: str, packaging: str) -> dict | None:
    """What receiving an unknown parcel without an RMA needs, if any program allows it.

    The program and reason this clerk chose last come first: a station taking in the carrier's
    undeliverable parcels answers the same all day, with one key. Before any choice the reason
    is 'unspecified' (what the import gives a return that names none), not a made-up one.
    """
    programs = list(services.unannounced_programs().order_by("name"))
    if not programs:
        return None
    reasons = list(ReasonCode.objects.filter(active=True).order_by("name"))
    unspecified = next((reason.pk for reason in reasons if reason.code == UNSPECIFIED), None)
    last = request.session.get(UNANNOUNCED_LAST, {})
    return {
        "code": code,
        "packaging": packaging,
        "programs": programs,
        "reasons": reasons,
        "program": last.get("program"),
        "reason": last.get("reason", unspecified),
    }


def _error(
    request, parcel, error: DomainError, code: str, packaging: str = Parcel.Packaging.INTACT
) -> HttpResponse:
    outcome = Outcome("error", error.message)
    if isinstance(error, UnknownCode | RmaNotReceivable) and parcel is None:
        outcome.offer_park_code = code
        if isinstance(error, UnknownCode):
            outcome.offer_unannounced = _unannounced_offer(request, code, packaging)
            if outcome.offer_unannounced:
                also = _("Or, if it came back unasked, receive it without an RMA (F6).")
                outcome.message = f"{outcome.message} {also}"
    elif isinstance(error, WrongItem | UnknownCode):
        outcome.offer_exception_kind = ReceivingException.Kind.WRONG_ITEM
        outcome.offer_exception_code = code
    elif isinstance(error, OverReceipt):
        outcome.offer_exception_kind = ReceivingException.Kind.OVER_RECEIPT
        outcome.offer_exception_code = code
    if isinstance(error, SerialRequired):
        outcome = Outcome("prompt", error.message, serial_for=code)
    return _respond(request, parcel, outcome, status=error.status)


@require_GET
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def receiving_desk(request: HttpRequest) -> HttpResponse:
    return _respond(request, _open_parcel(request), None)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def scan(request: HttpRequest) -> HttpResponse:
    """One scan: with no parcel open it opens one; with a parcel open it receives a unit."""
    parcel = _open_parcel(request)
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages = [error for errors in form.errors.values() for error in errors]
        return _respond(request, parcel, Outcome("error", " ".join(messages)), status=422)
    code = form.cleaned_data["code"]
    if parcel is None:
        return _scan_parcel(
            request, code, form.cleaned_data["packaging"] or Parcel.Packaging.INTACT
        )
    serial_for = form.cleaned_data["serial_for"]
    try:
        item, created = services.receive_unit(
            parcel=parcel,
            code=serial_for or code,
            serial=code if serial_for else "",
            station=request.station,
            user=request.user,
            scan_token=form.cleaned_data["token"],
        )
    except UnknownCode as error:
        return _scanned_another_parcel(request, parcel, code) or _error(
            request, parcel, error, code
        )
    except DomainError as error:
        return _error(request, parcel, error, code)
    if not created:
        message = _("Already received as %(lpn)s: that scan was sent twice.") % {"lpn": item.lpn}
        return _respond(request, parcel, Outcome("warning", message), item=item)
    words = {"lpn": item.lpn, "sku": item.product.sku, "name": item.product.name}
    if item.is_late:
        message = _("Received %(lpn)s: %(sku)s %(name)s. Late arrival: flagged.") % words
    else:
        message = _("Received %(lpn)s: %(sku)s %(name)s.") % words
    outcome = Outcome("success", message)
    if earlier := item.receipt.details.get("returned_before"):
        # Restocked, sold and back: its old label would open the closed unit at inspection.
        again = _("Returned before as %(earlier)s: take that old label off.") % {"earlier": earlier}
        outcome = Outcome("warning", f"{message} {again}")
    # The parcel, its RMA and lines as the service locked and updated them: shown as they are.
    parcel = item.parcel
    return _respond(
        request,
        parcel,
        outcome,
        item=item,
        lines=parcel.rma.lines_as_locked,
        event="unitReceived",
    )


def _scan_parcel(request: HttpRequest, code: str, packaging: str) -> HttpResponse:
    try:
        parcel = services.receive_parcel(
            code=code, station=request.station, user=request.user, packaging=packaging
        )
    except DomainError as error:
        return _error(request, None, error, code, packaging)
    return _parcel_opened(request, parcel)


def _parcel_opened(request: HttpRequest, parcel: Parcel) -> HttpResponse:
    rma = parcel.rma
    words = {
        "number": rma.number,
        "program": rma.program,
        "expired": date_format(rma.expires_on) if rma.expires_on else "",
    }
    if parcel.status == Parcel.Status.PARKED:
        if parcel.is_late:
            message = _(
                "RMA %(number)s arrived after its return window (%(expired)s) and its policy holds"
                " late returns: put the parcel on the exception shelf."
            )
        else:
            message = _(
                "RMA %(number)s is parked in the exception queue: put the parcel on the exception"
                " shelf."
            )
        return _respond(
            request, None, Outcome("warning", message % words), status=202, event="parcelParked"
        )
    if rma.unannounced_reason_id:
        message = _(
            "Receiving without an RMA as %(program)s (%(number)s). Scan each unit: each is added"
            " to the return."
        )
    elif parcel.is_late:
        message = _(
            "RMA %(number)s (%(program)s) open. Scan each unit. Late: the window closed on"
            " %(expired)s; flagged."
        )
    else:
        message = _("RMA %(number)s (%(program)s) open. Scan each unit.")
    outcome = Outcome("warning" if parcel.is_late else "success", message % words)
    return _respond(request, parcel, outcome, event="parcelOpened")


def _scanned_another_parcel(request, parcel: Parcel, code: str) -> HttpResponse | None:
    """A parcel code scanned while one is open is almost always the next box: say what to do."""
    try:
        other = services.find_rma(code)
    except DomainError:
        return None
    if other.pk == parcel.rma_id:
        message = _("That is this parcel's own code (%(number)s). Scan a unit's SKU or serial.")
    else:
        message = _("That is RMA %(number)s. Close this parcel (F9) before opening the next one.")
    return _respond(
        request, parcel, Outcome("error", message % {"number": other.number}), status=409
    )


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def receive_unannounced(request: HttpRequest) -> HttpResponse:
    """Open a parcel whose code matched nothing, under a program whose policy needs no RMA."""
    parcel = _open_parcel(request)
    if parcel is not None:
        message = _("Close this parcel (F9) before opening the next one.")
        return _respond(request, parcel, Outcome("error", message), status=409)
    form = UnannouncedForm(request.POST)
    if not form.is_valid():
        messages = [error for errors in form.errors.values() for error in errors]
        return _respond(request, None, Outcome("error", " ".join(messages)), status=422)
    code, program, reason = (form.cleaned_data[name] for name in ("code", "program", "reason"))
    packaging = form.cleaned_data["packaging"] or Parcel.Packaging.INTACT
    try:
        parcel = services.receive_without_rma(
            code=code,
            program=program,
            reason=reason,
            station=request.station,
            user=request.user,
            packaging=packaging,
        )
    except DomainError as error:
        return _error(request, None, error, code, packaging)
    request.session[UNANNOUNCED_LAST] = {"program": program.pk, "reason": reason.pk}
    return _parcel_opened(request, parcel)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def receive_exception_unit(request: HttpRequest, pk: int) -> HttpResponse:
    parcel = get_object_or_404(Parcel, pk=pk)
    form = ExceptionUnitForm(request.POST)
    if not form.is_valid():
        messages = [error for errors in form.errors.values() for error in errors]
        return _respond(
            request, _open_parcel(request), Outcome("error", " ".join(messages)), status=422
        )
    try:
        item, created = services.receive_exception_unit(
            parcel=parcel,
            code=form.cleaned_data["code"],
            kind=form.cleaned_data["kind"],
            station=request.station,
            user=request.user,
            scan_token=form.cleaned_data["token"],
        )
    except DomainError as error:
        return _error(request, _open_parcel(request), error, form.cleaned_data["code"])
    words = {
        "lpn": item.lpn,
        "kind": in_sentence(ReceivingException.Kind(form.cleaned_data["kind"]).label),
    }
    if created:
        message = _("Labelled %(lpn)s as %(kind)s: put it on the exception shelf.") % words
    else:
        message = _("Already labelled %(lpn)s as %(kind)s: put it on the exception shelf.") % words
    outcome = Outcome("warning", message)
    return _respond(request, parcel, outcome, item=item, event="unitReceived" if created else None)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def close_parcel(request: HttpRequest, pk: int) -> HttpResponse:
    parcel = get_object_or_404(Parcel, pk=pk)
    try:
        parcel = services.close_parcel(parcel=parcel, station=request.station, user=request.user)
    except DomainError as error:
        return _error(request, _open_parcel(request), error, "")
    short = ", ".join(f"{s['missing']} × {s['sku']}" for s in parcel.shortages)
    if short:
        message = _("Parcel closed. Short: %(short)s. Scan the next parcel.") % {"short": short}
        outcome = Outcome("warning", message)
    else:
        outcome = Outcome("success", _("Parcel closed, nothing short. Scan the next parcel."))
    return _respond(request, None, outcome, event="parcelClosed")


@require_POST
@vary_on_headers("HX-Request")
@permission_required(RECEIVE, raise_exception=True)
@receiving_station_required
def park(request: HttpRequest) -> HttpResponse:
    """Park the open parcel, or a parcel whose code cannot be received, in the exception queue."""
    form = ParkForm(request.POST)
    parcel = _open_parcel(request)
    if not form.is_valid():
        messages = [error for errors in form.errors.values() for error in errors]
        return _respond(request, parcel, Outcome("error", " ".join(messages)), status=422)
    reason, code = form.cleaned_data["reason"], form.cleaned_data["code"]
    try:
        if parcel is not None:
            if not reason:
                message = _(
                    "Say why the parcel is parked (the Reason box), then press Park parcel again."
                )
                outcome = Outcome("error", message)
                return _respond(request, parcel, outcome, status=422)
            services.park_parcel(
                parcel=parcel, station=request.station, user=request.user, reason=reason
            )
        elif code:
            services.park_unmatched_parcel(
                code=code, station=request.station, user=request.user, reason=reason
            )
        else:
            return _respond(
                request,
                None,
                Outcome("error", _("There is no parcel to park. Scan one first.")),
                status=422,
            )
    except DomainError as error:
        if parcel is None:
            # The code can be received: offering to park it again would only repeat this refusal.
            return _respond(request, None, Outcome("error", error.message), status=error.status)
        return _error(request, parcel, error, code)
    outcome = Outcome(
        "warning", _("Parcel parked: put it on the exception shelf. Scan the next parcel.")
    )
    return _respond(request, None, outcome, event="parcelParked")


@require_GET
@permission_required(RECEIVE, raise_exception=True)
def unit_label(request: HttpRequest, lpn: str) -> HttpResponse:
    item = get_object_or_404(ReturnItem.objects.select_related("product", "parcel__rma"), lpn=lpn)
    return render(
        request,
        "returns_desk/label_page.html",
        {"label_item": item, "label_barcode": code128_svg(item.lpn)},
    )
