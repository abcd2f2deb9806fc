"""Every change inspection makes to a unit, one function per action.

Each runs in one transaction and locks the unit first, then its inspection (always in that
order, so two stations never deadlock), and moves the unit through returns_desk's transition
table with `move_item`. On SQLite, where row locks are ignored, the IMMEDIATE transaction mode
serialises writers and the one-active-inspection constraint holds the promise on both.
"""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from returns_desk.models import ReturnItem, Station
from returns_desk.scanning import canonical
from returns_desk.services import move_item, record_event, reopen_finished_rma
from returns_desk.wording import in_sentence

from .exceptions import (
    InspectedElsewhere,
    InspectionNotOpen,
    InvalidAnswers,
    NoChecklist,
    NotInspectable,
    ReasonRequired,
    ReopenRefused,
    UnknownUnit,
)
from .grading import Kind
from .models import Answer, GradingCriterion, Inspection, Photo
from .photos import prepare_photo
from .selectors import checklist, grade_marks, mark_answers, scale_for

Status = ReturnItem.Status
SUPERVISE = "returns_desk.supervise_returns"
# Where a unit is once its disposition is decided: only a supervisor can bring it back.
AFTER_DISPOSITION = {Status.AWAITING_APPROVAL, Status.DISPOSED, Status.PUT_AWAY}
# A unit on the repair bench too: sent there by mistake, or found not worth the work. Finishing
# the repair instead would count a repair never done towards the unit's limit.
REOPENABLE = AFTER_DISPOSITION | {Status.IN_REPAIR}
REFUSALS = {
    Status.HELD: gettext_lazy(
        "{lpn} is held for a supervisor: it cannot be inspected until they release it."
    ),
    Status.IN_REPAIR: gettext_lazy(
        "{lpn} is in repair; it comes back to inspection when the repair is done."
    ),
    Status.CLOSED: gettext_lazy("{lpn} is closed: its return is finished."),
    **dict.fromkeys(
        AFTER_DISPOSITION,
        gettext_lazy(
            "{lpn} already has a disposition ({status}); a supervisor must reopen it first."
        ),
    ),
}


def _lock_item(pk: int) -> ReturnItem:
    # By key, so a caller holding only an inspection's item_id needs no read of the unit first.
    # With what its history event's webhook payload names, so that is not read again.
    return (
        ReturnItem.objects.select_for_update(of=("self",))
        .select_related("product", "rma_line__rma", "parcel__rma")
        .get(pk=pk)
    )


def _lock_open_inspection(inspection: Inspection, item: ReturnItem, station: Station) -> Inspection:
    """Re-read the inspection of the locked `item` under a lock; refuse if it is not open here."""
    inspection = (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("station")
        .get(pk=inspection.pk, item=item)
    )
    inspection.item = item
    if not inspection.is_open:
        words = {"lpn": inspection.item.lpn, "grade": inspection.grade_code}
        if inspection.superseded:
            message = _("This inspection of %(lpn)s is already superseded. Scan the next unit.")
        else:
            message = _(
                "This inspection of %(lpn)s is already graded %(grade)s. Scan the next unit."
            )
        raise InspectionNotOpen(message % words)
    if inspection.station_id != station.pk:
        raise InspectedElsewhere(
            _("%(lpn)s is being inspected at %(station)s. Finish it there, or ask a supervisor.")
            % {"lpn": inspection.item.lpn, "station": inspection.station.code}
        )
    return inspection


@transaction.atomic
def start_inspection(*, lpn: str, station: Station, user: AbstractBaseUser) -> Inspection:
    """Open an inspection of the unit labelled `lpn` and move it to 'inspecting'.

    Scanning a unit already open at this station resumes its inspection; scanning an inspected
    unit (before disposition) starts a re-inspection that supersedes the previous one, which
    stays in history. Raises UnknownUnit, NotInspectable, InspectedElsewhere, NoChecklist.
    """
    lpn = canonical(lpn)
    found = ReturnItem.objects.filter(lpn=lpn).only("pk").first()
    if found is None:
        raise UnknownUnit(
            _("No unit is labelled '%(lpn)s'. Scan the LPN label on the unit.") % {"lpn": lpn}
        )
    if not station.can_inspect:
        raise NotInspectable(
            _("%(code)s is not an inspection station. Click the station badge to choose another.")
            % {"code": station.code}
        )
    item = _lock_item(found.pk)
    current = (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("station")
        .filter(item=item, superseded=False)
        .first()
    )
    if item.status == Status.INSPECTING and current and current.is_open:
        if current.station_id != station.pk and not current.station.active:
            return _move_to(current, item, station, user)
        if current.station_id != station.pk:
            raise InspectedElsewhere(
                _(
                    "%(lpn)s is being inspected at %(station)s. Finish it there, or ask a"
                    " supervisor."
                )
                % {"lpn": lpn, "station": current.station.code}
            )
        return current
    if item.status in REFUSALS:
        raise NotInspectable(
            REFUSALS[item.status].format(lpn=lpn, status=in_sentence(item.get_status_display()))
        )
    if not checklist(item):
        category = item.product.category if item.product else _("unknown product")
        raise NoChecklist(
            _("There is no checklist for %(category)s: ask an admin to set one up.")
            % {"category": category}
        )
    details = {}
    if current is not None:
        current.superseded = True
        current.save(update_fields=["superseded"])
        details = {"supersedes": current.pk, "previous_grade": current.grade_code}
    try:
        with transaction.atomic():
            inspection = Inspection.objects.create(item=item, station=station, inspector=user)
    except IntegrityError:
        # Only reachable on a database without row locks racing another station.
        raise InspectedElsewhere(
            _("%(lpn)s was just opened at another station. Finish it there.") % {"lpn": lpn}
        ) from None
    # The unit's copy of its current grade: none while the new inspection is open.
    item.grade_code = ""
    move_item(
        item,
        to_status=Status.INSPECTING,
        action="reinspection_started" if current else "inspection_started",
        user=user,
        station=station,
        details={"inspection": inspection.pk, **details},
        also_update=("grade_code",),
    )
    return inspection


def _move_to(
    inspection: Inspection, item: ReturnItem, station: Station, user: AbstractBaseUser
) -> Inspection:
    # Left open at a station since taken out of service: nobody can choose that station any
    # more, and a supervisor cannot reopen a unit still being inspected. It carries on here,
    # with the answers already recorded.
    moved_from = inspection.station.code
    inspection.station = station
    inspection.inspector = user
    inspection.save(update_fields=["station", "inspector"])
    record_event(
        item=item,
        action="inspection_moved",
        from_status=item.status,
        to_status=item.status,
        user=user,
        station=station,
        details={"inspection": inspection.pk, "from_station": moved_from},
    )
    return inspection


@transaction.atomic
def record_answers(
    *,
    inspection: Inspection,
    answers: Mapping[int, str],
    station: Station,
    user: AbstractBaseUser,
    notes: str = "",
    photos: Sequence[UploadedFile] = (),
) -> Inspection:
    """Save answers (criterion id -> raw answer), notes and photos on an open inspection.

    Each answer keeps a snapshot of its criterion. Blank answers to optional questions are
    skipped; a later answer to the same question replaces the earlier one. Nothing is saved
    if anything is wrong. Raises InspectionNotOpen, InspectedElsewhere, ForgedAnswer,
    InvalidAnswers, PhotoRejected.
    """
    item = _lock_item(inspection.item_id)
    inspection = _lock_open_inspection(inspection, item, station)
    _record(inspection, item, answers, notes, photos)
    return inspection


@transaction.atomic
def complete_inspection(
    *, inspection: Inspection, station: Station, user: AbstractBaseUser
) -> Inspection:
    """Grade the recorded answers, close the inspection and move the unit to 'inspected'.

    Raises InspectionNotOpen (already graded: a double submit), InspectedElsewhere,
    InvalidAnswers (required questions unanswered), NoChecklist (no grade scale).
    """
    item = _lock_item(inspection.item_id)
    inspection = _lock_open_inspection(inspection, item, station)
    _complete(inspection, item, list(inspection.answers.all()), station=station, user=user)
    return inspection


@transaction.atomic
def submit_inspection(
    *,
    inspection: Inspection,
    answers: Mapping[int, str],
    station: Station,
    user: AbstractBaseUser,
    notes: str = "",
    photos: Sequence[UploadedFile] = (),
) -> Inspection:
    """record_answers, then complete_inspection, under one lock: the station's Save button.

    Nothing is saved if either refuses; raises what each of them raises.
    """
    item = _lock_item(inspection.item_id)
    inspection = _lock_open_inspection(inspection, item, station)
    recorded = _record(inspection, item, answers, notes, photos)
    _complete(inspection, item, recorded, station=station, user=user)
    return inspection


def _option_label(criterion: GradingCriterion, value: str) -> str:
    """The label of the option a choice answer's number names, as the options read now."""
    if criterion.kind != Kind.CHOICE:
        return ""
    return criterion.options[int(value) - 1]["label"]


def _record(inspection, item, answers, notes, photos) -> list[Answer]:
    """Save answers, notes and photos on the locked inspection; return its answers as stored."""
    marks, errors = mark_answers(item, checklist(item), answers)
    if errors:
        message = ngettext(
            "%(count)s answer needs correcting: see the message under it.",
            "%(count)s answers need correcting: see the message under each.",
            len(errors),
        )
        raise InvalidAnswers(message % {"count": len(errors)}, errors)
    files = [prepare_photo(photo) for photo in photos]
    # The inspection's row lock keeps its answers from changing under us, so the earlier
    # answers are read once and the new ones written in one INSERT.
    stored = list(inspection.answers.all())
    recorded = {answer.criterion_id: answer for answer in stored}
    new = []
    for criterion, answer in marks:
        values = {
            "question": criterion.question,
            "kind": criterion.kind,
            "weight": criterion.weight,
            "critical": criterion.critical,
            "order": criterion.order,
            "value": answer.value,
            "option_label": _option_label(criterion, answer.value),
            "earned": answer.earned,
            "failed": answer.failed,
        }
        earlier = recorded.get(criterion.pk)
        if earlier is None:
            new.append(Answer(inspection=inspection, criterion=criterion, **values))
        else:
            for name, value in values.items():
                setattr(earlier, name, value)
            earlier.save(update_fields=list(values))
    Answer.objects.bulk_create(new)
    for file in files:
        Photo.objects.create(inspection=inspection, image=file)
    if notes != inspection.notes:
        inspection.notes = notes
        inspection.save(update_fields=["notes"])
    return [*stored, *new]


def _complete(inspection, item, answers: list[Answer], *, station, user) -> None:
    """Grade `answers`, close the locked inspection and move the locked unit to 'inspected'."""
    answered = {answer.criterion_id for answer in answers}
    missing = {
        criterion.pk: _("Answer this question.")
        for criterion in checklist(item)
        if criterion.required and criterion.pk not in answered
    }
    if missing:
        message = ngettext(
            "%(count)s required question is still unanswered: it is marked below.",
            "%(count)s required questions are still unanswered: they are marked below.",
            len(missing),
        )
        raise InvalidAnswers(message % {"count": len(missing)}, missing)
    scale = scale_for(item)
    if scale is None or not scale.grades.all():
        raise NoChecklist(_("No grade scale is set up: ask an admin to create the default scale."))
    graded = grade_marks(
        scale, [(answer.weight, answer.critical, answer.mark) for answer in answers]
    )
    inspection.score = graded.score
    inspection.critical_failure = graded.critical_failure
    inspection.grade_code = graded.grade_code
    inspection.grade = next(g for g in scale.grades.all() if g.code == graded.grade_code)
    inspection.finished_at = timezone.now()
    inspection.save(
        update_fields=["score", "critical_failure", "grade", "grade_code", "finished_at"]
    )
    item.grade_code = graded.grade_code
    move_item(
        item,
        to_status=Status.INSPECTED,
        action="inspected",
        user=user,
        station=station,
        details={
            "inspection": inspection.pk,
            "score": str(graded.score),
            "grade": graded.grade_code,
            "critical_failure": graded.critical_failure,
        },
        also_update=("grade_code",),
    )


@transaction.atomic
def reopen_unit(
    *, item: ReturnItem, reason: str, user: AbstractBaseUser, station: Station | None = None
) -> ReturnItem:
    """Bring a unit whose disposition was decided back to 'inspected' so it can be re-graded.

    Only a supervisor may, and must say why. Raises ReopenRefused, ReasonRequired,
    NotInspectable.
    """
    if not user.has_perm(SUPERVISE):
        raise ReopenRefused(_("Only a supervisor can reopen a unit after its disposition."))
    reason = reason.strip()
    if not reason:
        raise ReasonRequired(_("Say why the unit is reopened (the Reason box)."))
    item = _lock_item(item.pk)
    if item.status not in REOPENABLE:
        raise NotInspectable(
            _("%(lpn)s is %(status)s: there is nothing to reopen.")
            % {"lpn": item.lpn, "status": in_sentence(item.get_status_display())}
        )
    move_item(
        item,
        to_status=Status.INSPECTED,
        action="reopened",
        user=user,
        station=station,
        details={"reason": reason[:500]},
    )
    reopen_finished_rma(item)
    return item
