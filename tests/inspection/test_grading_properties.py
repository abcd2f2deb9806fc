"""Grading arithmetic, for any checklist: bounded scores, monotone in points, capped by failures."""

from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from inspection.grading import Mark, grade_for, score

CODES = "ABCDEFGX"


@st.composite
def shares(draw) -> Decimal:
    """A share of a criterion's points as grading computes it: points over the best points."""
    top = draw(st.integers(1, 10))
    return Decimal(draw(st.integers(0, top))) / top


def marks_with(earned: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.tuples(st.integers(1, 10), earned.map(lambda e: Mark("x", e))), max_size=12)


scored_or_captured = st.one_of(st.none(), shares())


@st.composite
def scales(draw) -> list[tuple[str, Decimal]]:
    """A grade scale: distinct codes, distinct minimum scores 0..100, in any order."""
    size = draw(st.integers(1, len(CODES)))
    codes = draw(st.permutations(CODES))[:size]
    minimums = draw(st.lists(st.integers(0, 100), min_size=size, max_size=size, unique=True))
    return [(code, Decimal(minimum)) for code, minimum in zip(codes, minimums, strict=True)]


def rank(scale: list[tuple[str, Decimal]]) -> list[str]:
    """Codes best first."""
    return [code for code, _ in sorted(scale, key=lambda grade: grade[1], reverse=True)]


@given(marks_with(scored_or_captured))
def test_a_score_is_always_between_0_and_100_in_cents(marks):
    result = score(marks)

    assert Decimal(0) <= result <= Decimal(100)
    assert result == result.quantize(Decimal("0.01"))


@given(marks_with(shares()), st.data())
def test_earning_more_points_on_any_question_never_lowers_the_score(marks, data):
    assume(marks)
    index = data.draw(st.integers(0, len(marks) - 1))
    weight, before = marks[index]
    better = data.draw(shares().filter(lambda share: share >= before.earned))
    improved = [*marks[:index], (weight, Mark("x", better)), *marks[index + 1 :]]

    assert score(improved) >= score(marks)


@given(scales(), st.decimals(0, 100, places=2), st.decimals(0, 100, places=2))
def test_a_higher_score_never_earns_a_worse_grade(scale, low, high):
    low, high = sorted((low, high))
    best_first = rank(scale)

    assert best_first.index(grade_for(high, scale)) <= best_first.index(grade_for(low, scale))


@given(scales(), st.decimals(0, 100, places=2))
def test_a_score_earns_the_best_grade_whose_minimum_it_reaches(scale, points):
    reached = [(minimum, code) for code, minimum in scale if points >= minimum]
    expected = max(reached)[1] if reached else rank(scale)[-1]

    assert grade_for(points, scale) == expected


@given(scales(), st.decimals(0, 100, places=2), st.data())
def test_a_critical_failure_caps_the_grade_and_never_raises_it(scale, points, data):
    best_first = rank(scale)
    cap = data.draw(st.sampled_from([*best_first, ""]))
    ceiling = best_first.index(cap) if cap else len(best_first) - 1

    capped = grade_for(points, scale, critical_failure=True, cap=cap)

    assert best_first.index(capped) >= ceiling
    assert best_first.index(capped) >= best_first.index(grade_for(points, scale))
