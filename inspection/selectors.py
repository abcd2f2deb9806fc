"""Reads inspection needs in more than one place: a unit's checklist, its scale, a live grade."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from returns_desk.configcache import cached
from returns_desk.models import ReturnItem

from . import grading
from .exceptions import ForgedAnswer
from .models import GradeScale, GradingCriterion


def checklist_for(item: ReturnItem) -> QuerySet[GradingCriterion]:
    """The active questions for this unit: its category's, plus those for its program."""
    category_id = item.product.category_id if item.product else None
    program_id = item.rma_line.rma.program_id if item.rma_line else None
    return GradingCriterion.objects.filter(category_id=category_id, active=True).filter(
        Q(program__isnull=True) | Q(program_id=program_id)
    )


def checklist(item: ReturnItem) -> list[GradingCriterion]:
    """checklist_for(item) in checklist order, read once per configuration change."""
    category_id = item.product.category_id if item.product else None
    program_id = item.rma_line.rma.program_id if item.rma_line else None
    return cached(
        ("checklist", category_id, program_id),
        lambda: list(checklist_for(item).order_by("order", "pk")),
    )


def best_answer(criterion: GradingCriterion) -> str:
    """The answer that earns a criterion's full points."""
    match criterion.kind:
        case "pass_fail":
            return "pass"
        case "scale":
            return str(criterion.scale_max)
        case "choice":
            best = max(option["points"] for option in criterion.options)
            return str(1 + [option["points"] for option in criterion.options].index(best))
        case "measure":
            return str(
                criterion.min_value if criterion.min_value is not None else criterion.max_value
            )
        case _:
            return "OK"


def scale_for(item: ReturnItem) -> GradeScale | None:
    """The category's own grade scale, else the default one, with its grades loaded."""
    category_id = item.product.category_id if item.product else None
    scales = GradeScale.objects.filter(Q(category_id=category_id) | Q(is_default=True))
    return cached(
        ("grade scale", category_id),
        lambda: scales.order_by("is_default").prefetch_related("grades").first(),
    )


def mark_answers(
    item: ReturnItem, checklist: Sequence[GradingCriterion], raw_answers: Mapping[int, str]
) -> tuple[list[tuple[GradingCriterion, grading.Mark]], dict[int, str]]:
    """Read raw answers (criterion id -> text) against the unit's checklist.

    Blank answers are left out (completion checks the required ones); an answer to a question
    not on the checklist is a forged post and raises ForgedAnswer. Returns the marks and the
    errors by criterion id.
    """
    by_pk = {criterion.pk: criterion for criterion in checklist}
    if set(raw_answers) - set(by_pk):
        raise ForgedAnswer(
            gettext(
                "Those answers are for questions not on this unit's checklist; nothing was saved."
                " Scan the unit again."
            )
        )
    serial = item.rma_line.serial_number if item.rma_line else ""
    marks, errors = [], {}
    for pk, raw in raw_answers.items():
        if not raw.strip():
            continue
        criterion = by_pk[pk]
        try:
            marks.append((criterion, grading.mark(criterion.spec(expected_serial=serial), raw)))
        except grading.BadAnswer as error:
            errors[pk] = str(error)
    return marks, errors


@dataclass
class Grading:
    score: Decimal
    critical_failure: bool
    grade_code: str


def grade_marks(scale: GradeScale, marks: Sequence[tuple[int, bool, grading.Mark]]) -> Grading:
    """Grade (weight, critical, mark) triples on `scale` (grades prefetched)."""
    score = grading.score((weight, mark) for weight, _, mark in marks)
    critical = any(is_critical and mark.failed for _, is_critical, mark in marks)
    grades = list(scale.grades.all())
    code = grading.grade_for(
        score,
        [(grade.code, grade.min_score) for grade in grades],
        critical_failure=critical,
        cap=next((grade.code for grade in grades if grade.caps_critical), ""),
    )
    return Grading(score, critical, code)


@dataclass
class Preview:
    """The live grade shown while a clerk answers; nothing is saved."""

    answered: int
    total: int
    grading: Grading | None = None
    grade_name: str = ""
    errors: dict[int, str] = field(default_factory=dict)


def preview_grade(
    item: ReturnItem,
    checklist: Sequence[GradingCriterion],
    raw_answers: Mapping[int, str],
    scale: GradeScale | None,
) -> Preview:
    marks, errors = mark_answers(item, checklist, raw_answers)
    preview = Preview(answered=len(marks), total=len(checklist), errors=errors)
    if marks and scale is not None and scale.grades.all():
        preview.grading = grade_marks(
            scale, [(criterion.weight, criterion.critical, mark) for criterion, mark in marks]
        )
        preview.grade_name = next(
            grade.name for grade in scale.grades.all() if grade.code == preview.grading.grade_code
        )
    return preview
