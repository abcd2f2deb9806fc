"""The inspection station screen: scan a unit, answer its checklist, see the grade, save it.

Each view: check role and station -> bind the form -> call one service -> turn a domain error
into a message with a 4xx -> answer htmx with a partial of `inspection/desk.html`, anyone else
with the page.
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget, trigger_client_event

from returns_desk.exceptions import DomainError
from returns_desk.models import ReturnItem
from returns_desk.stations import newest, stamped, station_required
from returns_desk.views import Outcome

from . import services
from .exceptions import InspectionNotOpen, InvalidAnswers, NotInspectable
from .forms import CompleteForm, ReopenForm, ScanForm, raw_answers
from .grading import Kind
from .models import GradingCriterion, Inspection, Photo
from .next_step import next_step
from .selectors import checklist, preview_grade, scale_for

INSPECT = "inspection.inspect_returns"
SUPERVISE = "returns_desk.supervise_returns"
TEMPLATE = "inspection/desk.html"
RECENT_SHOWN = 8
INSPECTION_RELATED = (
    "station",
    "item__product__category",
    "item__rma_line__rma__program",
    "item__rma_line__reason",
)


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    return _respond(request, None, Outcome("error", message), status=403)


inspection_station_required = station_required("can_inspect", refuse=_refuse)


@dataclass
class Row:
    """One question as the checklist shows it: its answer so far and any error beside it."""

    criterion: GradingCriterion
    value: str = ""
    error: str = ""

    @property
    def choices(self) -> list[tuple[str, str, str]]:
        """(value, label, key) of each radio button; empty for typed answers."""
        criterion = self.criterion
        if criterion.kind == Kind.PASS_FAIL:
            return [("pass", _("Pass"), "y"), ("fail", _("Fail"), "n")]
        if criterion.kind == Kind.SCALE:
            # The key is the value: the label would only repeat it.
            return [(str(n), "", str(n)) for n in range(criterion.scale_max + 1)]
        if criterion.kind == Kind.CHOICE:
            return [
                (str(n), option["label"], str(n))
                for n, option in enumerate(criterion.options, start=1)
            ]
        return []


def _open_inspection(request: HttpRequest) -> Inspection | None:
    """The inspection this clerk has open at this station, if any (so a reload keeps it)."""
    return (
        Inspection.objects.select_related(*INSPECTION_RELATED)
        .filter(
            station=request.station,
            inspector=request.user,
            finished_at__isnull=True,
            superseded=False,
        )
        .order_by("-started_at")
        .first()
    )


def _disposition_url(item: ReturnItem) -> str:
    # Inspection never imports disposition: the next step is linked by URL name once it exists.
    try:
        return reverse("disposition:decide", args=[item.lpn])
    except NoReverseMatch:
        return ""


def _recent(station) -> list[tuple]:
    """The station's latest grades: when (ISO and clock time, local), LPN, grade and score.

    Only the columns shown, as values: as rows of inspections and their units (two models of
    dozens of columns) the list cost as much as the rest of the answer to a submit.
    """
    graded = newest(
        Inspection.objects.filter(station=station, finished_at__isnull=False).order_by(
            "-finished_at"
        ),
        RECENT_SHOWN,
    ).values_list("finished_at", "item__lpn", "grade_code", "score")
    return [(*stamped(finished_at), lpn, grade, score) for finished_at, lpn, grade, score in graded]


def _context(
    request: HttpRequest,
    inspection: Inspection | None,
    outcome: Outcome | None,
    *,
    answers: dict[int, str] | None = None,
    errors: dict[int, str] | None = None,
    result: Inspection | None = None,
    reopen_lpn: str = "",
) -> dict:
    context = {
        "inspection": inspection,
        "outcome": outcome,
        "result": result,
        "reopen_lpn": reopen_lpn if request.user.has_perm(SUPERVISE) else "",
        "next_url": _disposition_url(result.item) if result else "",
        "next_step": next_step(result) if result else None,
        "recent": _recent(request.station) if request.station else [],
    }
    if inspection is not None:
        errors = errors or {}
        questions = checklist(inspection.item)
        if answers is None:
            # A resumed inspection shows the answers already recorded on it.
            answers = {a.criterion_id: a.value for a in inspection.answers.all() if a.criterion_id}
        context["rows"] = [
            Row(criterion, answers.get(criterion.pk, ""), errors.get(criterion.pk, ""))
            for criterion in questions
        ]
        context["preview"] = _preview(inspection, questions, answers)
        context["previous"] = (
            Inspection.objects.filter(item=inspection.item, superseded=True)
            .order_by("-finished_at")
            .first()
        )
    return context


def _preview(inspection: Inspection, questions, answers: dict[int, str]):
    # Answers to questions not on the checklist (a forged post) are the services' to refuse;
    # the preview saves nothing, so it just leaves them out.
    known = {pk: value for pk, value in answers.items() if pk in {c.pk for c in questions}}
    return preview_grade(inspection.item, questions, known, scale_for(inspection.item))


def _respond(
    request: HttpRequest,
    inspection: Inspection | None,
    outcome: Outcome | None,
    *,
    status: int = 200,
    partial: str = "desk",
    event: tuple[str, dict] | None = None,
    **extra,
) -> HttpResponse:
    template = f"{TEMPLATE}#{partial}" if request.htmx else TEMPLATE
    context = _context(request, inspection, outcome, **extra)
    response = render(request, template, context, status=status)
    if request.htmx and partial != "desk":
        retarget(response, f"#{partial}")
    if event:
        trigger_client_event(response, *event)
    return response


@require_GET
@permission_required(INSPECT, raise_exception=True)
@inspection_station_required
def desk(request: HttpRequest) -> HttpResponse:
    inspection = _open_inspection(request)
    # Sent here by another desk that opened the unit (`?opened=LPN`): say so, as a scan here
    # would, with its sound. A stale or forged value just shows the desk.
    opened = request.GET.get("opened", "")
    if inspection is not None and opened and opened == inspection.item.lpn:
        return _respond(request, inspection, _checklist_prompt(inspection.item))
    return _respond(request, inspection, None)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(INSPECT, raise_exception=True)
@inspection_station_required
def scan(request: HttpRequest) -> HttpResponse:
    """Scan an LPN: open (or resume) its inspection and show its checklist."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages = " ".join(error for errors in form.errors.values() for error in errors)
        return _scan_error(request, Outcome("error", messages), 422)
    lpn = form.cleaned_data["code"]
    try:
        inspection = services.start_inspection(lpn=lpn, station=request.station, user=request.user)
    except NotInspectable as error:
        return _scan_error(request, Outcome("error", error.message), error.status, reopen_lpn=lpn)
    except DomainError as error:
        return _scan_error(request, Outcome("error", error.message), error.status)
    inspection = Inspection.objects.select_related(*INSPECTION_RELATED).get(pk=inspection.pk)
    item = inspection.item
    outcome = _checklist_prompt(item)
    return _respond(request, inspection, outcome, event=("inspectionStarted", {"lpn": item.lpn}))


def _checklist_prompt(item: ReturnItem) -> Outcome:
    product = f"{item.product.sku} {item.product.name}" if item.product else item.scanned_code
    message = _("%(lpn)s: %(product)s. Answer the checklist.") % {
        "lpn": item.lpn,
        "product": product,
    }
    return Outcome("prompt", message)


def _scan_error(request, outcome: Outcome, status: int, reopen_lpn: str = "") -> HttpResponse:
    # Only the scan panel changes, so a half-answered checklist on screen keeps its answers.
    return _respond(
        request,
        _open_inspection(request),
        outcome,
        status=status,
        partial="scan-panel",
        reopen_lpn=reopen_lpn,
    )


def _load_inspection(pk: int) -> Inspection:
    return get_object_or_404(Inspection.objects.select_related(*INSPECTION_RELATED), pk=pk)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(INSPECT, raise_exception=True)
@inspection_station_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The score and grade the answers so far would give; nothing is saved."""
    inspection = _load_inspection(pk)
    if not inspection.is_open or inspection.station_id != request.station.pk:
        message = _(
            "This inspection of %(lpn)s is not open here. Scan the unit's LPN to open it at this"
            " station."
        )
        outcome = Outcome("error", message % {"lpn": inspection.item.lpn})
        return _scan_error(request, outcome, 409)
    return _respond(request, inspection, None, partial="score", answers=raw_answers(request.POST))


@require_POST
@vary_on_headers("HX-Request")
@permission_required(INSPECT, raise_exception=True)
@inspection_station_required
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the answers, notes and photos, grade the unit and move it on."""
    # The row alone: the service reads the unit and the inspection again under its locks, and
    # the checklist's rows are read only to show it again after a refusal (planning the joins
    # that read them took 2 to 3 ms).
    inspection = get_object_or_404(Inspection, pk=pk)
    answers = raw_answers(request.POST)
    form = CompleteForm(request.POST, request.FILES)
    if not form.is_valid():
        messages = " ".join(error for errors in form.errors.values() for error in errors)
        return _respond(
            request, _load_inspection(pk), Outcome("error", messages), status=422, answers=answers
        )
    try:
        inspection = services.submit_inspection(
            inspection=inspection,
            answers=answers,
            station=request.station,
            user=request.user,
            notes=form.cleaned_data["notes"],
            photos=form.cleaned_data["photos"],
        )
    except InvalidAnswers as error:
        return _respond(
            request,
            _load_inspection(pk),
            Outcome("error", error.message),
            status=error.status,
            answers=answers,
            errors=error.errors,
        )
    except InspectionNotOpen as error:
        # Usually a double submit: show what was saved the first time; or, inspected again since,
        # the grade in force now, not the one it replaced.
        result = (
            Inspection.objects.filter(item_id=inspection.item_id, superseded=False)
            .exclude(finished_at=None)
            .first()
        )
        return _respond(
            request, None, Outcome("warning", error.message), status=error.status, result=result
        )
    except DomainError as error:
        open_here = _load_inspection(pk) if inspection.station_id == request.station.pk else None
        return _respond(
            request,
            open_here,
            Outcome("error", error.message),
            status=error.status,
            answers=answers,
        )
    grade = inspection.grade
    words = {
        "lpn": inspection.item.lpn,
        "grade": grade.code,
        "name": grade.name,
        "score": inspection.score,
    }
    if inspection.critical_failure:
        message = _(
            "%(lpn)s graded %(grade)s (%(name)s), score %(score)s. Capped by a critical failure."
            " Scan the next unit."
        )
    else:
        message = _("%(lpn)s graded %(grade)s (%(name)s), score %(score)s. Scan the next unit.")
    outcome = Outcome("success", message % words)
    event = ("unitGraded", {"lpn": inspection.item.lpn, "grade": grade.code})
    return _respond(request, None, outcome, result=inspection, event=event)


@require_POST
@vary_on_headers("HX-Request")
@permission_required(SUPERVISE, raise_exception=True)
@inspection_station_required
def reopen(request: HttpRequest, lpn: str) -> HttpResponse:
    """A supervisor brings a unit back from its disposition so it can be inspected again."""
    item = get_object_or_404(ReturnItem, lpn=lpn)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        message = _(
            "Say why the unit is reopened (the Reason box), then press the Reopen button again."
        )
        outcome = Outcome("error", message)
        return _scan_error(request, outcome, 422, reopen_lpn=item.lpn)
    try:
        services.reopen_unit(
            item=item,
            reason=form.cleaned_data["reason"],
            user=request.user,
            station=request.station,
        )
    except DomainError as error:
        return _scan_error(request, Outcome("error", error.message), error.status)
    message = _("%(lpn)s reopened. Scan it to inspect it again.") % {"lpn": item.lpn}
    outcome = Outcome("success", message)
    return _respond(request, _open_inspection(request), outcome, partial="scan-panel")


@require_GET
@permission_required(INSPECT, raise_exception=True)
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence photo, to signed-in staff only: MEDIA_ROOT is never served publicly."""
    evidence = get_object_or_404(Photo, pk=pk)
    response = FileResponse(evidence.image.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
