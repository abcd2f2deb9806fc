"""Filter sets of the supervisor queues over inspection and disposition data."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inspection.models import Grade
from returns_desk.configcache import cached
from returns_desk.filters import QueueFilterSet

from .models import Disposition, Outcome

UNIT_PATHS = {
    "site": "station__site",
    "station": "station",
    "program": "program",
    "reason": "reason",
    "date": "status_changed_at",
}
ITEM_PATHS = {name: f"item__{path}" for name, path in UNIT_PATHS.items()} | {"unit": "item__"}


def grade_choices() -> list[tuple[str, str]]:
    # Every grade scale's codes: configuration, read from the cache on every queue page.
    return cached(
        "grade filter choices",
        lambda: [
            (code, code) for code in sorted(set(Grade.objects.values_list("code", flat=True)))
        ],
    )


class DispositionQueueFilterSet(QueueFilterSet):
    optional = (*QueueFilterSet.optional, "grade", "outcome")

    grade = django_filters.ChoiceFilter(choices=grade_choices, method="by_path", label=_("Grade"))
    outcome = django_filters.ChoiceFilter(
        choices=Outcome.choices, method="by_path", label=_("Outcome")
    )


class AwaitingInspectionFilterSet(DispositionQueueFilterSet):
    paths = UNIT_PATHS


class AwaitingDispositionFilterSet(DispositionQueueFilterSet):
    paths = UNIT_PATHS | {"grade": "grade_code"}


# A decision and a work order carry their unit's program and reason (copied when created).
OWN_KEYS = {"program": "program", "reason": "reason"}


class ApprovalFilterSet(DispositionQueueFilterSet):
    paths = (
        ITEM_PATHS
        | OWN_KEYS
        | {"grade": "grade_code", "outcome": "chosen_outcome", "date": "decided_at"}
    )


class RepairFilterSet(DispositionQueueFilterSet):
    paths = (
        ITEM_PATHS
        | OWN_KEYS
        | {
            "grade": "grade_code",
            "outcome": "kind",
            "date": "opened_at",
        }
    )


class LotFilterSet(DispositionQueueFilterSet):
    paths = {"outcome": "outcome", "date": "opened_at"}

    def matches(self, code: str) -> Q:
        """A lot by its code, or the lot a unit (by LPN) is in."""
        return Q(code=code) | Q(pk__in=Disposition.objects.filter(item__lpn=code).values("lot_id"))
