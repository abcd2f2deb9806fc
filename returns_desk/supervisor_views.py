"""Supervisor screens of the core: every registered queue, the exception queue's resolution,
the RMA page and the global search.

Views: check the supervisor permission -> bind the form -> call one service -> turn a domain
error into a message with a 4xx -> answer htmx with the screen's partial, anyone else with the
page. Unit pages belong to the disposition app (they show every app's data); the core links to
them by URL name only.
"""

from functools import partial

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from . import queues, services
from .exceptions import DomainError
from .filters import ExceptionFilterSet, UnitRegisterFilterSet, matching_rmas, union_ids
from .models import (
    ItemEvent,
    Parcel,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
)
from .scanning import BadScan, canonical, parse_scan
from .supervisor_forms import CancelRmaForm, CreateRmaForm, LinkForm, ResolveForm
from .tables import ExceptionTable, UnitRegisterTable
from .views import Outcome as Notice
from .wording import in_sentence

SUPERVISE = "returns_desk.supervise_returns"
PER_PAGE = 50
# One bulk post acts on one page of rows at most.
MAX_BULK = 200
CANDIDATES_SHOWN = 20

supervisor_required = permission_required(SUPERVISE, raise_exception=True)


def _form_errors(form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)


def _station(request: HttpRequest):
    # request.station is a lazy object that may wrap None (no station chosen).
    return request.station or None


# The exception queue ----------------------------------------------------------------------------


def _resolve_with(service, exception, *, user, note, station):
    return service(exception=exception, reason=note, user=user, station=station)


def open_exceptions():
    # Queues list the longest-waiting first, unless the supervisor sorts otherwise.
    return ReceivingException.objects.filter(status=ReceivingException.Status.OPEN).order_by(
        "raised_at", "pk"
    )


EXCEPTION_QUEUE = queues.Queue(
    key="exceptions",
    queryset=open_exceptions,
    table=ExceptionTable,
    filterset=ExceptionFilterSet,
    actions=(
        queues.BulkAction(
            "release",
            gettext_lazy("Release / accept"),
            partial(_resolve_with, services.release_exception),
        ),
        queues.BulkAction(
            "refuse",
            gettext_lazy("Refuse (return to sender)"),
            partial(_resolve_with, services.refuse_exception),
        ),
        queues.BulkAction(
            "write_off",
            gettext_lazy("Write off"),
            partial(_resolve_with, services.write_off_exception),
        ),
    ),
)


def supervisor_context(active: str = "") -> dict:
    """What every supervisor page shows: the queues with their counts."""
    return {"queue_nav": queues.navigation(active)}


# Any registered queue ---------------------------------------------------------------------------


def _queue(key: str) -> queues.Queue:
    if key not in queues.QUEUES:
        raise Http404(_("No such queue."))
    return queues.QUEUES[key]


def _filtered(request: HttpRequest, filterset_class: type, queryset) -> tuple:
    """The list's filter set bound to the query string, and the form's errors ("" if none)."""
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, _form_errors(filterset.form)
    return filterset, ""


def _paginated(request: HttpRequest, table) -> None:
    # A lazy paginator fetches one row past the page to know whether there is a next one:
    # a COUNT(*) over a queue of a hundred thousand units costs more than the page itself.
    paginate = {"per_page": PER_PAGE, "paginator_class": LazyPaginator}
    RequestConfig(request, paginate=paginate).configure(table)


def _streamed_csv(table, filename: str) -> StreamingHttpResponse:
    """The table's rows, in its chosen order, as a CSV streamed chunk by chunk."""
    response = StreamingHttpResponse(
        queues.csv_lines(type(table), table.data.data), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{filename}-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


def _render_queue(
    request: HttpRequest, queue: queues.Queue, notice: Notice | None = None, status: int = 200
) -> HttpResponse:
    filterset, errors = _filtered(request, queue.filterset, queue.queryset())
    if errors:
        status = 400
        notice = notice or Notice("error", errors)
    table = queue.table(filterset.qs)
    _paginated(request, table)
    context = {"queue": queue, "filter": filterset, "table": table, "outcome": notice}
    return _render_list(request, "returns_desk/queue.html", context, status, active=queue.key)


def _render_list(request, template: str, context: dict, status: int, active: str = ""):
    """A list's page, or to htmx (filtering, sorting, paging) only its table."""
    context["query"] = request.GET.urlencode()
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{template}#queue-table", context, status=status)
    return render(request, template, context | supervisor_context(active), status=status)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@supervisor_required
def queue(request: HttpRequest, key: str) -> HttpResponse:
    """The queue, filtered by the query string (GET); a bulk action on ticked rows (POST).

    The bulk action posts to the queue's own URL so the page it answers with keeps working
    links (sorting, pages) without JavaScript.
    """
    if request.method == "POST":
        return _bulk(request, _queue(key))
    return _render_queue(request, _queue(key))


@require_GET
@supervisor_required
def queue_csv(request: HttpRequest, key: str) -> HttpResponse:
    """The filtered queue, in its chosen order, as a CSV streamed chunk by chunk."""
    queue = _queue(key)
    filterset, errors = _filtered(request, queue.filterset, queue.queryset())
    if errors:
        return HttpResponse(errors, status=400, content_type="text/plain")
    return _streamed_csv(
        queue.table(filterset.qs, order_by=request.GET.get("sort") or None), queue.key
    )


def _bulk(request: HttpRequest, queue: queues.Queue) -> HttpResponse:
    """Apply one action to the ticked rows; the filters stay those of the query string."""
    action = queue.action(request.POST.get("action", ""))
    note = request.POST.get("note", "").strip()[:300]
    try:
        pks = sorted({int(pk) for pk in request.POST.getlist("select")})
    except ValueError:
        pks = None
    if action is None:
        message = _("Pick an action in the list, then apply it again.")
        return _render_queue(request, queue, Notice("error", message), status=422)
    if not pks:
        if pks == []:
            message = _("Tick the rows to act on (the boxes on the left), then apply again.")
        else:
            message = _("That selection is not valid. Reload the page and tick the rows again.")
        return _render_queue(request, queue, Notice("error", message), status=422)
    if len(pks) > MAX_BULK:
        message = _("At most %(max)s rows at a time: untick some and apply again.") % {
            "max": MAX_BULK
        }
        return _render_queue(request, queue, Notice("error", message), status=422)
    if action.note_required and not note:
        message = _(
            "Say why (%(action)s) in the Note box: the note goes into each unit's history."
        ) % {"action": in_sentence(action.label)}
        return _render_queue(request, queue, Notice("error", message), status=422)
    rows = list(queue.queryset().filter(pk__in=pks))
    done, refusals = queues.run_bulk(
        action, rows, user=request.user, note=note, station=_station(request)
    )
    gone = len(pks) - len(rows)
    parts = [_("%(action)s: %(done)s done.") % {"action": action.label, "done": done}]
    if gone:
        parts.append(
            ngettext(
                "%(gone)s had already left the queue.", "%(gone)s had already left the queue.", gone
            )
            % {"gone": gone}
        )
    parts += refusals
    level = "success" if done and not (refusals or gone) else "warning" if done else "error"
    response = _render_queue(
        request, queue, Notice(level, " ".join(parts)), status=200 if done else 409
    )
    if done:
        trigger_client_event(response, "queueChanged", {"queue": queue.key, "done": done})
    return response


# The units register -----------------------------------------------------------------------------


def register_rows():
    """Every unit, newest received first (pk breaks ties, the same way round)."""
    return ReturnItem.objects.select_related("product", "rma_line__rma").order_by(
        "-received_at", "-pk"
    )


@require_GET
@vary_on_headers("HX-Request")
@supervisor_required
def units(request: HttpRequest) -> HttpResponse:
    """Every unit received, filtered by the query string: what a site reconciles with its ERP."""
    filterset, errors = _filtered(request, UnitRegisterFilterSet, register_rows())
    table = UnitRegisterTable(filterset.qs)
    _paginated(request, table)
    context = {
        "filter": filterset,
        "table": table,
        "outcome": Notice("error", errors) if errors else None,
    }
    return _render_list(request, "returns_desk/units.html", context, 400 if errors else 200)


@require_GET
@supervisor_required
def units_csv(request: HttpRequest) -> HttpResponse:
    """The filtered register, in its chosen order, as a CSV: a month of a site's receipts or
    every unit ever received (a million rows in about half a minute)."""
    filterset, errors = _filtered(request, UnitRegisterFilterSet, register_rows())
    if errors:
        return HttpResponse(errors, status=400, content_type="text/plain")
    table = UnitRegisterTable(filterset.qs, order_by=request.GET.get("sort") or None)
    return _streamed_csv(table, "units")


# Resolving one exception ------------------------------------------------------------------------


def _exception(pk: int) -> ReceivingException:
    return get_object_or_404(
        ReceivingException.objects.select_related(
            "parcel__rma__program",
            "parcel__station__site",
            "parcel__received_by",
            "item__product",
            "raised_by",
            "station",
            "resolved_by",
        ),
        pk=pk,
    )


def rma_candidates(text: str) -> list[ReturnAuthorization]:
    """RMAs a parcel may belong to: by RMA number, order, tracking or the customer's e-mail."""
    if "@" in text:
        found = ReturnAuthorization.objects.filter(customer_email__iexact=text.strip())
    else:
        found = ReturnAuthorization.objects.filter(pk__in=matching_rmas(canonical(text)))
    return list(found.select_related("program").order_by("-issued_on")[:CANDIDATES_SHOWN])


def _render_exception(
    request: HttpRequest,
    exception: ReceivingException,
    notice: Notice | None = None,
    *,
    status: int = 200,
    forms: dict | None = None,
) -> HttpResponse:
    find = request.GET.get("find", "").strip()[:254]
    parcel = exception.parcel
    context = {
        "exception": exception,
        "parcel": parcel,
        "outcome": notice,
        "find": find,
        "candidates": rma_candidates(find) if find else [],
        "history": ItemEvent.objects.filter(
            pk__in=union_ids(
                ItemEvent.objects.filter(parcel=parcel),
                ItemEvent.objects.filter(item__parcel=parcel),
            )
        )
        .select_related("user", "station", "item")
        .order_by("created_at", "pk"),
        "held": parcel.items.filter(status=ReturnItem.Status.HELD).select_related("product"),
        "can_link": exception.status == ReceivingException.Status.OPEN
        and exception.item_id is None
        and parcel.status == Parcel.Status.PARKED,
        "link_form": LinkForm(),
        "create_form": CreateRmaForm(),
        "resolve_form": ResolveForm(),
        **(forms or {}),
        **supervisor_context("exceptions"),
    }
    template = "returns_desk/exception.html" + ("#exception" if request.htmx else "")
    return render(request, template, context, status=status)


@require_GET
@vary_on_headers("HX-Request")
@supervisor_required
def exception(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_exception(request, _exception(pk))


def _resolved(request, exception, message: str) -> HttpResponse:
    exception.refresh_from_db()
    response = _render_exception(request, exception, Notice("success", message))
    trigger_client_event(response, "exceptionResolved", {"exception": exception.pk})
    return response


@require_POST
@vary_on_headers("HX-Request")
@supervisor_required
def exception_link(request: HttpRequest, pk: int) -> HttpResponse:
    exception = _exception(pk)
    form = LinkForm(request.POST)
    if not form.is_valid():
        notice = Notice("error", _form_errors(form))
        return _render_exception(request, exception, notice, status=422, forms={"link_form": form})
    try:
        parcel = services.link_parcel_to_rma(
            exception=exception,
            rma=form.cleaned_data["rma"],
            reason=form.cleaned_data["reason"],
            user=request.user,
            station=_station(request),
        )
    except DomainError as error:
        return _render_exception(
            request, exception, Notice("error", error.message), status=error.status
        )
    return _resolved(
        request,
        exception,
        _(
            "Linked to RMA %(number)s: the parcel is open again at %(station)s for its units to be"
            " received."
        )
        % {"number": parcel.rma.number, "station": parcel.station.code},
    )


@require_POST
@vary_on_headers("HX-Request")
@supervisor_required
def exception_create_rma(request: HttpRequest, pk: int) -> HttpResponse:
    exception = _exception(pk)
    form = CreateRmaForm(request.POST)
    if not form.is_valid():
        notice = Notice("error", _form_errors(form))
        return _render_exception(
            request, exception, notice, status=422, forms={"create_form": form}
        )
    data = form.cleaned_data
    try:
        rma = services.create_rma_for_parcel(
            exception=exception,
            program=data["program"],
            channel=data["channel"],
            lines=data["lines"],
            reason=data["reason"],
            user=request.user,
            customer_name=data["customer_name"],
            customer_email=data["customer_email"],
            order_reference=data["order_reference"],
            station=_station(request),
        )
    except DomainError as error:
        notice = Notice("error", error.message)
        return _render_exception(
            request, exception, notice, status=error.status, forms={"create_form": form}
        )
    return _resolved(
        request,
        exception,
        _(
            "RMA %(number)s created: the parcel is open again at its station for its units to be"
            " received."
        )
        % {"number": rma.number},
    )


RESOLUTIONS = {
    "release": services.release_exception,
    "refuse": services.refuse_exception,
    "write_off": services.write_off_exception,
}


@require_POST
@vary_on_headers("HX-Request")
@supervisor_required
def exception_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Release, refuse or write off what the exception holds."""
    exception = _exception(pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        notice = Notice("error", _form_errors(form))
        return _render_exception(
            request, exception, notice, status=422, forms={"resolve_form": form}
        )
    action = form.cleaned_data["action"]
    # What an unidentified unit turned out to be matters only to a release: it goes on to
    # inspection, where its product's category picks its checklist.
    identified = {"product": form.cleaned_data["product"]} if action == "release" else {}
    try:
        exception = RESOLUTIONS[action](
            exception=exception,
            reason=form.cleaned_data["reason"],
            user=request.user,
            station=_station(request),
            **identified,
        )
    except DomainError as error:
        return _render_exception(
            request, exception, Notice("error", error.message), status=error.status
        )
    said = [
        _("Exception resolved: %(resolution)s.")
        % {"resolution": exception.get_resolution_display()}
    ]
    if action != "release" and exception.item_id is None and (exception.closed or exception.kept):
        said.append(_closed_with_the_parcel(exception.closed, exception.kept))
    return _resolved(request, exception, " ".join(said))


def _closed_with_the_parcel(closed: list[str], kept: list[str]) -> str:
    """What left with a refused or written-off parcel, and which of its units stayed."""
    said = ngettext(
        "%(count)s unit from the parcel was closed with it.",
        "%(count)s units from the parcel were closed with it.",
        len(closed),
    ) % {"count": len(closed)}
    if kept:
        said += " " + ngettext(
            "%(lpns)s was already past receiving and is kept.",
            "%(lpns)s were already past receiving and are kept.",
            len(kept),
        ) % {"lpns": ", ".join(kept)}
    return said


# The RMA page and the global search -------------------------------------------------------------


@require_GET
@supervisor_required
def rma(request: HttpRequest, number: str) -> HttpResponse:
    return _render_rma(request, _rma(number))


def _rma(number: str) -> ReturnAuthorization:
    return get_object_or_404(
        ReturnAuthorization.objects.select_related("program", "policy", "site"),
        number=canonical(number),
    )


def _render_rma(
    request: HttpRequest,
    rma: ReturnAuthorization,
    notice: Notice | None = None,
    *,
    status: int = 200,
    cancel_form: CancelRmaForm | None = None,
) -> HttpResponse:
    parcels = list(rma.parcels.select_related("station", "received_by").order_by("received_at"))
    units = (
        # Ids first, by index: an OR across the two joins scans every unit (3 s at a million).
        ReturnItem.objects.filter(
            pk__in=union_ids(
                ReturnItem.objects.filter(rma_line__rma=rma),
                ReturnItem.objects.filter(parcel__rma=rma),
            )
        )
        .select_related("product", "rma_line", "station")
        .order_by("received_at", "pk")
    )
    context = {
        "rma": rma,
        "lines": rma.lines.select_related("product", "reason").order_by("line_no"),
        "units": units,
        "parcels": parcels,
        # What services.cancel_rma allows, offered only where it would be.
        "can_cancel": not parcels and rma.status in ReturnAuthorization.CANCELLABLE,
        "exceptions": ReceivingException.objects.filter(parcel__rma=rma)
        .select_related("item")
        .order_by("raised_at"),
        "tracking": rma.tracking.all(),
        "outcome": notice,
        "cancel_form": cancel_form or CancelRmaForm(),
        **supervisor_context(),
    }
    return render(request, "returns_desk/rma.html", context, status=status)


@require_POST
@supervisor_required
def rma_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel an RMA nothing has arrived for (the customer will not send it after all)."""
    rma = _rma(number)
    form = CancelRmaForm(request.POST)
    if not form.is_valid():
        notice = Notice("error", _form_errors(form))
        return _render_rma(request, rma, notice, status=422, cancel_form=form)
    try:
        rma = services.cancel_rma(
            rma=rma, reason=form.cleaned_data["reason"], cancelled_by=request.user.get_username()
        )
    except DomainError as error:
        return _render_rma(request, rma, Notice("error", error.message), status=error.status)
    message = _("RMA %(number)s is cancelled: a parcel scanned for it will be refused.")
    return _render_rma(request, rma, Notice("success", message % {"number": rma.number}))


@require_GET
@supervisor_required
def search(request: HttpRequest) -> HttpResponse:
    """Go straight to what a scanned or typed code names: a unit, else an RMA."""
    try:
        code = parse_scan(request.GET.get("q", ""))
    except BadScan as error:
        return _search_page(request, error.args[0], status=400)
    unit = ReturnItem.objects.filter(lpn=code).values_list("lpn", flat=True).first()
    if unit:
        return redirect(reverse("supervisor:unit", args=[unit]))
    rmas = list(
        ReturnAuthorization.objects.filter(pk__in=matching_rmas(code)).order_by("-issued_on")[
            :CANDIDATES_SHOWN
        ]
    )
    units = list(
        ReturnItem.objects.filter(serial_number=code)
        .select_related("product")
        .order_by("-received_at")[:CANDIDATES_SHOWN]
    )
    if len(rmas) + len(units) == 1:
        if rmas:
            return redirect("supervisor:rma", number=rmas[0].number)
        return redirect(reverse("supervisor:unit", args=[units[0].lpn]))
    if not rmas and not units:
        return _search_page(
            request,
            _(
                "Nothing is known as '%(code)s' (LPN, RMA, order, tracking or serial). Check the"
                " code on the label."
            )
            % {"code": code},
            404,
        )
    return _search_page(request, "", code=code, rmas=rmas, units=units)


def _search_page(request, message: str, status: int = 200, **found) -> HttpResponse:
    context = {"outcome": Notice("error", message) if message else None, **found}
    return render(
        request, "returns_desk/search.html", {**context, **supervisor_context()}, status=status
    )
