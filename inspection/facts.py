"""What inspection tells the core about a unit (the API's unit read, the tracking page)."""

from returns_desk.models import ReturnItem

from .models import Inspection


def grade_facts(items: list[ReturnItem]) -> dict[int, dict]:
    """Each unit's current grade: its latest finished inspection that was not superseded."""
    current = Inspection.objects.filter(
        item__in=items, superseded=False, finished_at__isnull=False
    ).select_related("grade")
    return {
        inspection.item_id: {
            "grade": {
                "code": inspection.grade_code,
                "name": inspection.grade.name if inspection.grade else "",
                "score": str(inspection.score),
                "critical_failure": inspection.critical_failure,
                "inspected_at": inspection.finished_at.isoformat(),
            }
        }
        for inspection in current
    }
