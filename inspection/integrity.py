"""Invariants of inspection that its services keep; `manage.py check_integrity` runs them."""

from collections.abc import Iterator

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from returns_desk.integrity import Check
from returns_desk.models import ReturnItem

from .models import Inspection

Status = ReturnItem.Status
# Statuses a unit reaches only through a finished inspection that nothing has replaced since.
GRADED = {Status.INSPECTED, Status.AWAITING_APPROVAL, Status.DISPOSED, Status.PUT_AWAY}


def one_active_inspection_per_unit() -> Iterator[str]:
    """A unit has at most one inspection that no re-inspection superseded."""
    doubled = (
        Inspection.objects.filter(superseded=False)
        .values("item__lpn")
        .annotate(active=Count("pk"))
        .filter(active__gt=1)
        .values_list("item__lpn", "active")
        .order_by("item__lpn")
    )
    for lpn, active in doubled.iterator():
        yield f"{lpn} has {active} active inspections; at most one may be."


def inspections_match_unit_status() -> Iterator[str]:
    """A unit being inspected has its open inspection; a graded unit its finished one."""
    active = Inspection.objects.filter(item=OuterRef("pk"), superseded=False)
    open_now = Exists(active.filter(finished_at__isnull=True))
    finished = Exists(active.filter(finished_at__isnull=False))
    wrong = (
        ReturnItem.objects.annotate(open=open_now, finished=finished)
        .filter(Q(status=Status.INSPECTING, open=False) | Q(status__in=GRADED, finished=False))
        .values_list("lpn", "status")
        .order_by("pk")
    )
    for lpn, status in wrong.iterator():
        wanted = "open" if status == Status.INSPECTING else "finished"
        yield f"{lpn} is {status} but has no {wanted} inspection in force."
    stray = (
        Inspection.objects.filter(superseded=False, finished_at__isnull=True)
        .exclude(item__status=Status.INSPECTING)
        .values_list("pk", "item__lpn", "item__status")
        .order_by("pk")
    )
    for pk, lpn, status in stray.iterator():
        yield f"Inspection {pk} of {lpn} is still open but the unit is {status}."


def units_carry_their_current_grade() -> Iterator[str]:
    """A unit's copy of its current inspection's grade (the disposition queue sorts by it)."""
    current = Inspection.objects.filter(item=OuterRef("pk"), superseded=False).values("grade_code")
    stale = (
        ReturnItem.objects.annotate(current=Coalesce(Subquery(current), Value("")))
        .exclude(grade_code=F("current"))
        .values_list("lpn", "grade_code", "current")
        .order_by("pk")
    )
    for lpn, copied, current in stale.iterator():
        yield f"{lpn} carries grade '{copied}' but its current inspection says '{current}'."


CHECKS: list[Check] = [
    one_active_inspection_per_unit,
    inspections_match_unit_status,
    units_carry_their_current_grade,
]
