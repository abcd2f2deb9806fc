"""The grading arithmetic: pure functions over plain values, no database.

Each answer earns a share of its criterion's points (0..1) or, for captures, nothing to score.
The score is the weighted share of points earned, 0..100; the grade is the first whose
threshold the score reaches, capped by a critical failure. Scores are exact decimals rounded
to two places before they meet the thresholds, so a boundary (exactly 90) always lands the
same way.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext, gettext_lazy

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# A share of points as an answer stores it (Answer.earned's six places). The preview scores
# the shares the submit will store, so the score a clerk is shown is the one that is saved.
SHARE = Decimal("0.000001")
MAX_TEXT_LENGTH = 200


class Kind(models.TextChoices):
    PASS_FAIL = "pass_fail", gettext_lazy("Pass / fail")
    SCALE = "scale", gettext_lazy("Scale 0..N")
    CHOICE = "choice", gettext_lazy("Choice (points per option)")
    MEASURE = "measure", gettext_lazy("Measured number with a pass range")
    TEXT = "text", gettext_lazy("Text capture")
    SERIAL = "serial", gettext_lazy("Serial number capture")


PASS, FAIL = "pass", "fail"


class BadAnswer(ValueError):
    """An answer that cannot be one for its criterion; the message is shown beside it."""


@dataclass(frozen=True)
class Criterion:
    """What grading needs to know of one question (live, or as snapshotted when answered)."""

    kind: str
    weight: int = 1
    critical: bool = False
    scale_max: int | None = None
    # (label, points) per option; the option worth most earns the full weight.
    options: tuple[tuple[str, int], ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    # The serial the RMA line authorised; empty when there is nothing to compare against.
    expected_serial: str = ""


@dataclass(frozen=True)
class Mark:
    value: str  # the answer in its stored form
    earned: Decimal | None  # share of the criterion's points, None when not scored
    failed: bool = False


def mark(criterion: Criterion, raw: str) -> Mark:
    """Read one raw answer against its criterion; raise BadAnswer if it cannot be one."""
    raw = (raw or "").strip()
    if not raw:
        raise BadAnswer(gettext("Answer this question."))
    match criterion.kind:
        case Kind.PASS_FAIL:
            if raw.lower() not in {PASS, FAIL}:
                raise BadAnswer(gettext("Answer pass or fail: press y or n."))
            return _earned(raw.lower(), Decimal(raw.lower() == PASS))
        case Kind.SCALE:
            top = criterion.scale_max or 0
            message = gettext("Give a whole number from 0 to %(top)s.") % {"top": top}
            points = _whole_number(raw, 0, top, message)
            return _earned(str(points), Decimal(points) / top)
        case Kind.CHOICE:
            count = len(criterion.options)
            message = gettext("Pick an option from 1 to %(count)s.") % {"count": count}
            index = _whole_number(raw, 1, count, message)
            best = max(points for _, points in criterion.options)
            return _earned(str(index), Decimal(criterion.options[index - 1][1]) / best)
        case Kind.MEASURE:
            try:
                number = Decimal(raw.replace(",", "."))
            except InvalidOperation:
                raise BadAnswer(gettext("Give a number, e.g. 87 or 3.5.")) from None
            if not number.is_finite() or abs(number) >= Decimal("1e9"):
                raise BadAnswer(gettext("That number is out of range: check the reading."))
            low, high = criterion.min_value, criterion.max_value
            within = (low is None or number >= low) and (high is None or number <= high)
            # Fixed-point: normalize() alone writes a reading of 100 as "1E+2".
            return _earned(f"{number.normalize():f}", Decimal(within))
        case Kind.TEXT | Kind.SERIAL:
            if len(raw) > MAX_TEXT_LENGTH:
                raise BadAnswer(
                    gettext("Use at most %(max)s characters.") % {"max": MAX_TEXT_LENGTH}
                )
            if not all(char.isprintable() for char in raw):
                raise BadAnswer(
                    gettext("That holds characters no one can type: type the answer again.")
                )
            if criterion.kind == Kind.SERIAL:
                serial = raw.upper()
                if criterion.expected_serial:
                    # A different serial means a different unit came back: a failure to grade,
                    # not an input to refuse, so the unit still leaves inspection with a record.
                    return _earned(serial, Decimal(serial == criterion.expected_serial))
                return Mark(serial, None)
            return Mark(raw, None)
    raise BadAnswer(gettext("Unknown kind of question: %(kind)s.") % {"kind": criterion.kind})


def _whole_number(raw: str, low: int, high: int, message: str) -> int:
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadAnswer(message)
    return int(raw)


def _earned(value: str, share: Decimal) -> Mark:
    # Half away from zero, as PostgreSQL rounds numeric: a re-read gives this share exactly.
    return Mark(value, share.quantize(SHARE, rounding=ROUND_HALF_UP), failed=share == 0)


def score(marks: Iterable[tuple[int, Mark]]) -> Decimal:
    """Weighted share of points earned, 0..100, from (weight, mark) pairs.

    Captures earn nothing and weigh nothing; a checklist with nothing scored found no fault,
    so it scores 100 and the grade is left to the critical cap alone.
    """
    earned = total = Decimal(0)
    for weight, answer in marks:
        if answer.earned is None:
            continue
        earned += weight * answer.earned
        total += weight
    if not total:
        return HUNDRED
    return (earned * HUNDRED / total).quantize(CENT, rounding=ROUND_HALF_UP)


def grade_for(
    score: Decimal,
    thresholds: Sequence[tuple[str, Decimal]],
    *,
    critical_failure: bool = False,
    cap: str = "",
) -> str:
    """The code of the grade `score` reaches, from (code, minimum score) pairs, best first.

    A critical failure caps the grade at `cap` (or the lowest grade when no cap is set).
    """
    if not thresholds:
        raise ValueError("a grade scale needs at least one grade")
    ordered = sorted(thresholds, key=lambda grade: grade[1], reverse=True)
    codes = [code for code, _ in ordered]
    reached = next((code for code, minimum in ordered if score >= minimum), codes[-1])
    if not critical_failure:
        return reached
    ceiling = cap if cap in codes else codes[-1]
    return codes[max(codes.index(reached), codes.index(ceiling))]
