"""The disposition screens: the station desk, a unit's decision page, lots and the repair queue.

Each view: check role (and station where a clerk acts) -> bind the form -> call one service ->
turn a domain error into a message with a 4xx -> answer htmx with the `desk` partial of
`disposition/desk.html`, anyone else with the page.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from inspection import services as inspection_services
from inspection.views import INSPECT
from returns_desk.exceptions import DomainError
from returns_desk.labels import code128_svg
from returns_desk.models import ReturnItem
from returns_desk.queues import CSV_CHUNK, csv_stream
from returns_desk.stations import stamped, station_required
from returns_desk.views import Outcome as Notice
from returns_desk.wording import in_sentence

from . import services
from .forms import ApprovalForm, BenchScanForm, CloseLotForm, DecideForm, RepairForm, ScanForm
from .models import Disposition, Lot, Outcome, RepairOrder
from .queues import STILL_DECIDED
from .selectors import ITEM_RELATED, active_disposition, recommend, refund_for

DECIDE = "disposition.decide_disposition"
SUPERVISE = "returns_desk.supervise_returns"
TEMPLATE = "disposition/desk.html"
RECENT_SHOWN = 8
# The bench lists its oldest work and finds the rest by a unit's LPN: at a large site tens of
# thousands of orders are open, and the page listed every one.
BENCH_SHOWN = 50
AWAITING_INSPECTION = (ReturnItem.Status.RECEIVED, ReturnItem.Status.INSPECTING)


def _form_errors(form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)


def _station(request: HttpRequest):
    # request.station is a lazy object that may wrap None (no station chosen yet).
    station = request.station or None
    return station if station and station.can_inspect else None


def _recent(station) -> list[tuple[str, str, str, str, bool]]:
    """The station's latest decisions: when (ISO and clock time, local), the unit's LPN, the
    outcome's name, and whether it waits for approval.

    Named from one mapping: get_chosen_outcome_display translates every outcome's name to find
    one, a tenth of a millisecond a row. Only the columns shown are read, as values (no model
    rows), and the LPN is the decision's own copy: joined to their units, a station whose
    statistics lagged its decisions (a busy morning) had all of them joined and sorted (3.6 ms
    at 1,000); alone, the station's index yields the newest rows in order. The times are written
    here, as the template's date and time filters would: through them they cost an eighth of
    the desk's rendering after a decision.
    """
    names = dict(Outcome.choices)
    decisions = (
        Disposition.objects.filter(station=station)
        .order_by("-decided_at", "-pk")
        .values_list("decided_at", "lpn", "chosen_outcome", "status")[:RECENT_SHOWN]
    )
    rows = []
    for decided_at, lpn, outcome, status in decisions:
        name = names.get(outcome, outcome)
        awaiting = status == Disposition.Status.AWAITING_APPROVAL
        rows.append((*stamped(decided_at), lpn, name, awaiting))
    return rows


def _context(
    request: HttpRequest,
    item: ReturnItem | None,
    notice: Notice | None,
    decided: Disposition | None = None,
) -> dict:
    station = _station(request)
    context = {
        "outcome": notice,
        "scan_form": ScanForm(),
        "item": item,
        "can_supervise": request.user.has_perm(SUPERVISE),
        "recent": _recent(station) if station else [],
    }
    if item is None:
        return context
    if item.status == ReturnItem.Status.INSPECTED:
        recommendation = recommend(item)
        context["recommendation"] = recommendation
        context["refund_preview"] = refund_for(
            item, recommendation.refund_treatment, recommendation.facts.grade
        )
        context["override_outcomes"] = [
            (value, label) for value, label in Outcome.choices if value != recommendation.outcome
        ]
        context["override_reasons"] = Disposition.OverrideReason.choices
        return context
    # Right after a decision the service's rows are the current ones: no need to read them again.
    disposition = decided or active_disposition(item)
    context["disposition"] = disposition
    if disposition is not None:
        # Loaded with the unit where the service locked it; read here otherwise.
        context["refund"] = getattr(item, "refund", None)
    if disposition is not None and disposition.status == Disposition.Status.DECIDED:
        context["label_barcode"] = code128_svg(item.lpn)
        if item.status == ReturnItem.Status.DISPOSED:
            context["scan_form"] = ScanForm(initial={"pending": item.lpn})
    return context


def _respond(
    request: HttpRequest,
    item: ReturnItem | None,
    notice: Notice | None,
    *,
    status: int = 200,
    event: str = "",
    decided: Disposition | None = None,
) -> HttpResponse:
    template = f"{TEMPLATE}#desk" if request.htmx else TEMPLATE
    context = _context(request, item, notice, decided)
    response = render(request, template, context, status=status)
    if event and item is not None:
        trigger_client_event(response, event, {"lpn": item.lpn})
    return response


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    return _respond(request, None, Notice("error", message), status=403)


# Units are decided where they are graded: at an inspection station.
disposition_station_required = station_required("can_inspect", refuse=_refuse)


@require_GET
@permission_required(DECIDE, raise_exception=True)
@disposition_station_required
def desk(request: HttpRequest) -> HttpResponse:
    return _respond(request, None, None)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(DECIDE, raise_exception=True)
@disposition_station_required
def scan(request: HttpRequest) -> HttpResponse:
    """Scan an LPN to see its recommendation, or the location label that confirms a put-away."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _respond(request, None, Notice("error", _form_errors(form)), status=422)
    code, pending = form.cleaned_data["code"], form.cleaned_data["pending"]
    # Right after a decision, a code that is no unit's LPN is the label of the put-away place.
    if pending and not ReturnItem.objects.filter(lpn=code).exists():
        return _put_away(request, pending, code)
    try:
        item = services.find_unit(code)
    except DomainError as error:
        return _respond(request, None, Notice("error", error.message), status=error.status)
    return _show_unit(request, item)


def _put_away(request: HttpRequest, lpn: str, code: str) -> HttpResponse:
    try:
        item = services.find_unit(lpn)
        services.put_away(item=item, code=code, station=request.station, user=request.user)
    except DomainError as error:
        item = ReturnItem.objects.select_related(*ITEM_RELATED).filter(lpn=lpn).first()
        return _respond(request, item, Notice("error", error.message), status=error.status)
    message = _("%(lpn)s put away in %(code)s. Scan the next unit.")
    notice = Notice("success", message % {"lpn": item.lpn, "code": code})
    response = _respond(request, None, notice)
    trigger_client_event(response, "unitPutAway", {"lpn": item.lpn})
    return response


def _inspect_first(request: HttpRequest, item: ReturnItem) -> HttpResponse:
    """A unit not graded yet opens on the inspection desk of this station, which is one.

    So a clerk who confirmed a disposition from the inspection desk and landed here scans the
    next unit as they would there.
    """
    try:
        inspection_services.start_inspection(
            lpn=item.lpn, station=request.station, user=request.user
        )
    except DomainError as error:
        return _respond(request, item, Notice("error", error.message), status=error.status)
    url = f"{reverse('inspection:desk')}?{urlencode({'opened': item.lpn})}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _show_unit(request: HttpRequest, item: ReturnItem) -> HttpResponse:
    if item.status in AWAITING_INSPECTION and request.user.has_perm(INSPECT):
        return _inspect_first(request, item)
    if item.status == ReturnItem.Status.INSPECTED:
        message = _("%(lpn)s: press Enter to confirm, or override below.")
        notice = Notice("prompt", message % {"lpn": item.lpn})
    elif item.status in services.DECIDED_STATUSES:
        notice = Notice("warning", _("%(lpn)s already has a disposition.") % {"lpn": item.lpn})
    else:
        message = _(
            "%(lpn)s is %(status)s: it cannot be given a disposition now. Scan a unit that has"
            " been inspected."
        )
        words = {"lpn": item.lpn, "status": in_sentence(item.get_status_display())}
        notice = Notice("error", message % words)
        return _respond(request, item, notice, status=409)
    return _respond(request, item, notice)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@permission_required(DECIDE, raise_exception=True)
def decide(request: HttpRequest, lpn: str) -> HttpResponse:
    """The unit's disposition page (GET); confirm or override its recommendation (POST)."""
    deciding = request.method == "POST" and _station(request) is not None
    try:
        # The service reads the unit again under its lock, with all the screen shows: to decide,
        # the row alone will do (planning the joins took 2 ms, at 10k units as at 1M).
        item = services.find_unit(lpn, related=not deciding)
    except DomainError as error:
        return _respond(request, None, Notice("error", error.message), status=error.status)
    if request.method == "GET":
        return _respond(request, item, None)
    if not deciding:
        message = _(
            "Choose an inspection station (click the station badge at the top) before deciding"
            " a disposition."
        )
        return _respond(request, item, Notice("error", message), status=403)
    form = DecideForm(request.POST)
    if not form.is_valid():
        item = services.find_unit(lpn)
        return _respond(request, item, Notice("error", _form_errors(form)), status=422)
    try:
        disposition, created = services.decide_disposition(
            item=item,
            station=request.station,
            user=request.user,
            outcome=form.cleaned_data["outcome"],
            override_reason=form.cleaned_data["override_reason"],
            override_note=form.cleaned_data["override_note"],
            inspection_id=form.cleaned_data["inspection"],
        )
    except DomainError as error:
        item = services.find_unit(lpn)
        return _respond(request, item, Notice("error", error.message), status=error.status)
    if not created:
        item = services.find_unit(lpn)
        message = _("%(lpn)s was already decided: that was sent twice.") % {"lpn": item.lpn}
        notice = Notice("warning", message)
        return _respond(request, item, notice)
    # The unit as the service locked and moved it, with what the screen shows loaded.
    item = disposition.item
    if disposition.status == Disposition.Status.AWAITING_APPROVAL:
        message = _(
            "Override of %(lpn)s to %(outcome)s waits for a supervisor: put the unit on the"
            " approval shelf. Scan the next unit."
        )
        words = {"lpn": item.lpn, "outcome": in_sentence(disposition.get_chosen_outcome_display())}
        notice = Notice("warning", message % words)
        return _respond(request, item, notice, event="overrideRequested", decided=disposition)
    message = _(
        "%(lpn)s: %(outcome)s → %(destination)s. Print the label (F8), put it away and scan"
        " %(code)s."
    )
    words = {
        "lpn": item.lpn,
        "outcome": disposition.get_chosen_outcome_display(),
        "destination": disposition.destination_label,
        "code": disposition.put_away_code,
    }
    notice = Notice("success", message % words)
    return _respond(request, item, notice, event="unitDisposed", decided=disposition)


def _approval(request: HttpRequest, lpn: str, *, approve: bool) -> HttpResponse:
    try:
        item = services.find_unit(lpn)
    except DomainError as error:
        return _respond(request, None, Notice("error", error.message), status=error.status)
    disposition = Disposition.objects.filter(item=item).order_by("-decided_at", "-pk").first()
    form = ApprovalForm(request.POST)
    if disposition is None or not form.is_valid():
        message = _form_errors(form) or _("%(lpn)s has no override to approve or reject.") % {
            "lpn": item.lpn
        }
        return _respond(request, item, Notice("error", message), status=422)
    station = request.station or None
    try:
        if approve:
            services.approve_override(
                disposition=disposition,
                user=request.user,
                station=station,
                note=form.cleaned_data["note"],
            )
        else:
            services.reject_override(
                disposition=disposition,
                user=request.user,
                station=station,
                note=form.cleaned_data["note"],
            )
    except DomainError as error:
        return _respond(request, item, Notice("error", error.message), status=error.status)
    item.refresh_from_db(fields=["status"])
    if approve:
        notice = Notice("success", _("Override of %(lpn)s approved.") % {"lpn": item.lpn})
        return _respond(request, item, notice, event="overrideApproved")
    message = _("Override of %(lpn)s rejected: it waits for a new decision.")
    notice = Notice("warning", message % {"lpn": item.lpn})
    return _respond(request, item, notice, event="overrideRejected")


@require_POST
@vary_on_headers("HX-Request")
@permission_required(SUPERVISE, raise_exception=True)
def approve(request: HttpRequest, lpn: str) -> HttpResponse:
    return _approval(request, lpn, approve=True)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(SUPERVISE, raise_exception=True)
def reject(request: HttpRequest, lpn: str) -> HttpResponse:
    return _approval(request, lpn, approve=False)


@require_GET
@permission_required(DECIDE, raise_exception=True)
def label(request: HttpRequest, lpn: str) -> HttpResponse:
    item = get_object_or_404(ReturnItem, lpn=lpn)
    disposition = get_object_or_404(
        Disposition.objects.select_related("partner", "lot"),
        item=item,
        status=Disposition.Status.DECIDED,
    )
    return render(
        request,
        "disposition/label_page.html",
        {"item": item, "disposition": disposition, "label_barcode": code128_svg(item.lpn)},
    )


MANIFEST_COLUMNS = ["lot", "lpn", "sku", "product", "serial", "grade", "unit_value", "weight_g"]
# A printed manifest lists this many units; a larger lot's full list is its CSV. The benchmark's
# lots hold up to 80,000 units: as one page that was 9 s and 690 MB for the CSV alone.
MANIFEST_PRINTED = 2000


def _lot_members(lot: Lot):
    return Disposition.objects.filter(lot=lot, status=Disposition.Status.DECIDED)


def _manifest_rows(lot: Lot):
    """Each unit of the lot as the manifest's columns after the lot's code, by LPN."""
    return (
        _lot_members(lot)
        .order_by("lpn")
        .values_list(
            "lpn",
            Coalesce("item__product__sku", "item__scanned_code"),
            Coalesce("item__product__name", Value("")),
            "item__serial_number",
            "grade_code",
            "item__product__unit_value",
            "item__product__weight_grams",
        )
    )


def _lots_page(request: HttpRequest, notice: Notice | None, *, status: int = 200) -> HttpResponse:
    open_lots = Lot.objects.filter(status=Lot.Status.OPEN).select_related("partner")
    closed = Lot.objects.filter(status=Lot.Status.CLOSED).select_related("partner")
    context = {
        "outcome": notice,
        "open_lots": open_lots.order_by("opened_at"),
        "closed_lots": closed.order_by("-closed_at")[:RECENT_SHOWN],
        "close_form": CloseLotForm(),
    }
    template = "disposition/lots.html#lots" if request.htmx else "disposition/lots.html"
    return render(request, template, context, status=status)


@require_GET
@permission_required(SUPERVISE, raise_exception=True)
def lots(request: HttpRequest) -> HttpResponse:
    return _lots_page(request, None)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(SUPERVISE, raise_exception=True)
def close_lot(request: HttpRequest, pk: int) -> HttpResponse:
    lot = get_object_or_404(Lot, pk=pk)
    form = CloseLotForm(request.POST)
    if not form.is_valid():
        return _lots_page(request, Notice("error", _form_errors(form)), status=422)
    try:
        lot = services.close_lot(
            lot=lot,
            user=request.user,
            weight_kg=form.cleaned_data["weight_kg"],
            notes=form.cleaned_data["notes"],
            station=request.station or None,
        )
    except DomainError as error:
        return _lots_page(request, Notice("error", error.message), status=error.status)
    notice = Notice("success", _("Lot %(code)s closed: print its manifest.") % {"code": lot.code})
    response = _lots_page(request, notice)
    trigger_client_event(response, "lotClosed", {"lot": lot.code})
    return response


@require_GET
@permission_required(SUPERVISE, raise_exception=True)
def manifest(request: HttpRequest, pk: int) -> HttpResponse:
    lot = get_object_or_404(Lot.objects.select_related("partner", "closed_by"), pk=pk)
    totals = _lot_members(lot).aggregate(
        units=Count("pk"), value=Coalesce(Sum("item__product__unit_value"), Decimal(0))
    )
    return render(
        request,
        "disposition/manifest.html",
        {
            "lot": lot,
            "rows": _manifest_rows(lot)[:MANIFEST_PRINTED],
            "units": totals["units"],
            "total_value": totals["value"],
            "printed": min(totals["units"], MANIFEST_PRINTED),
        },
    )


@require_GET
@permission_required(SUPERVISE, raise_exception=True)
def manifest_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    lot = get_object_or_404(Lot, pk=pk)
    rows = (
        [lot.code, *("" if value is None else value for value in row)]
        for row in _manifest_rows(lot).iterator(chunk_size=CSV_CHUNK)
    )
    response = StreamingHttpResponse(
        csv_stream(MANIFEST_COLUMNS, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{lot.code}-manifest.csv"'
    return response


def _repairs_page(
    request: HttpRequest, notice: Notice | None, *, status: int = 200, lpn: str = ""
) -> HttpResponse:
    # A unit reopened since it was decided is not coming to the bench (STILL_DECIDED).
    orders = RepairOrder.objects.filter(status=RepairOrder.Status.OPEN, **STILL_DECIDED)
    if lpn:
        orders = orders.filter(lpn=lpn)
    shown = list(
        orders.select_related("item__product").order_by("opened_at", "pk")[: BENCH_SHOWN + 1]
    )
    if lpn and not shown:
        message = _(
            "%(lpn)s has no repair order waiting for the bench. Check the LPN label, or look the"
            " unit up to see where it goes."
        )
        notice, status = Notice("error", message % {"lpn": lpn}), 404
    context = {
        "outcome": notice,
        "orders": shown[:BENCH_SHOWN],
        "more": len(shown) > BENCH_SHOWN,
        "found": lpn if shown else "",
    }
    template = "disposition/repairs.html#repairs" if request.htmx else "disposition/repairs.html"
    return render(request, template, context, status=status)


@require_GET
@permission_required(DECIDE, raise_exception=True)
def repairs(request: HttpRequest) -> HttpResponse:
    """The bench's work, oldest first; a scanned LPN shows that unit's order, ready to finish."""
    form = BenchScanForm(request.GET)
    if not form.is_valid():
        return _repairs_page(request, Notice("error", _form_errors(form)), status=422)
    return _repairs_page(request, None, lpn=form.cleaned_data["lpn"])


@require_POST
@vary_on_headers("HX-Request")
@permission_required(DECIDE, raise_exception=True)
def complete_repair(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(RepairOrder.objects.select_related("item"), pk=pk)
    form = RepairForm(request.POST)
    if not form.is_valid():
        return _repairs_page(request, Notice("error", _form_errors(form)), status=422)
    try:
        services.complete_repair(
            order=order,
            user=request.user,
            notes=form.cleaned_data["notes"],
            cost=form.cleaned_data["cost"] or Decimal(0),
            station=request.station or None,
        )
    except DomainError as error:
        return _repairs_page(request, Notice("error", error.message), status=error.status)
    message = _("%(lpn)s repaired: take it back to inspection.") % {"lpn": order.item.lpn}
    notice = Notice("success", message)
    response = _repairs_page(request, notice)
    trigger_client_event(response, "repairCompleted", {"lpn": order.item.lpn})
    return response
