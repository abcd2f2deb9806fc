"""The grading arithmetic, on plain values: no database."""

from decimal import Decimal
from itertools import product

import pytest

from inspection.grading import BadAnswer, Criterion, Kind, Mark, grade_for, mark, score

SCALE = [("A", Decimal(90)), ("B", Decimal(75)), ("C", Decimal(50)), ("D", Decimal(25)), ("X", 0)]


def full(weight: int = 1) -> tuple[int, Mark]:
    return weight, Mark("pass", Decimal(1))


def nothing(weight: int = 1) -> tuple[int, Mark]:
    return weight, Mark("fail", Decimal(0), failed=True)


def test_score_is_the_weighted_share_of_points_earned():
    assert score([full(3), nothing(1)]) == Decimal("75.00")
    assert score([full(1), nothing(3)]) == Decimal("25.00")


def test_score_rounds_to_two_places_half_up():
    assert score([full(1), nothing(2)]) == Decimal("33.33")
    assert score([full(2), nothing(1)]) == Decimal("66.67")


def test_captures_weigh_nothing_in_the_score():
    assert score([full(1), nothing(1), (5, Mark("SN123", None))]) == Decimal("50.00")


def test_an_empty_checklist_scores_full_marks():
    assert score([]) == Decimal(100)
    assert score([(1, Mark("a note", None))]) == Decimal(100)


@pytest.mark.parametrize(
    ("points", "grade"),
    [
        (100, "A"),
        (90, "A"),
        ("89.99", "B"),
        (75, "B"),
        ("74.99", "C"),
        (50, "C"),
        (25, "D"),
        ("24.99", "X"),
        (0, "X"),
    ],
)
def test_a_score_reaches_the_first_grade_whose_threshold_it_meets(points, grade):
    assert grade_for(Decimal(points), SCALE) == grade


def test_thresholds_may_come_in_any_order():
    assert grade_for(Decimal(80), list(reversed(SCALE))) == "B"


def test_a_critical_failure_caps_the_grade_at_the_configured_grade():
    assert grade_for(Decimal(95), SCALE, critical_failure=True, cap="D") == "D"


def test_a_critical_cap_never_raises_a_lower_grade():
    assert grade_for(Decimal(10), SCALE, critical_failure=True, cap="D") == "X"


def test_a_critical_failure_without_a_cap_gives_the_lowest_grade():
    assert grade_for(Decimal(95), SCALE, critical_failure=True) == "X"


def test_a_scale_without_grades_is_refused():
    with pytest.raises(ValueError):
        grade_for(Decimal(50), [])


def test_grades_never_improve_as_the_score_falls():
    codes = [code for code, _ in SCALE]
    for cap, critical in product(["", "B", "D"], [False, True]):
        ranks = [
            codes.index(grade_for(Decimal(s) / 4, SCALE, critical_failure=critical, cap=cap))
            for s in range(400, -1, -1)
        ]
        assert ranks == sorted(ranks)


def test_the_score_stays_between_0_and_100_for_any_weights_and_shares():
    shares = [Decimal(0), Decimal("0.25"), Decimal(1) / 3, Decimal(1)]
    for weights in product([1, 2, 7], repeat=3):
        for earned in product(shares, repeat=3):
            marks = [(w, Mark("", e)) for w, e in zip(weights, earned, strict=True)]
            assert Decimal(0) <= score(marks) <= Decimal(100)


@pytest.mark.parametrize(
    ("criterion", "raw", "earned", "failed"),
    [
        (Criterion(Kind.PASS_FAIL), "pass", 1, False),
        (Criterion(Kind.PASS_FAIL), "FAIL", 0, True),
        (Criterion(Kind.SCALE, scale_max=4), "3", Decimal("0.75"), False),
        (Criterion(Kind.SCALE, scale_max=4), "0", 0, True),
        (
            Criterion(Kind.CHOICE, options=(("New", 4), ("Worn", 1), ("Broken", 0))),
            "2",
            Decimal("0.25"),
            False,
        ),
        (Criterion(Kind.CHOICE, options=(("New", 4), ("Broken", 0))), "2", 0, True),
        (Criterion(Kind.MEASURE, min_value=Decimal(80), max_value=Decimal(100)), "80", 1, False),
        (Criterion(Kind.MEASURE, min_value=Decimal(80), max_value=Decimal(100)), "79,9", 0, True),
        (Criterion(Kind.MEASURE, max_value=Decimal("0.5")), "0.2", 1, False),
        (Criterion(Kind.SERIAL, expected_serial="SN1"), "sn1", 1, False),
        (Criterion(Kind.SERIAL, expected_serial="SN1"), "SN2", 0, True),
    ],
)
def test_each_kind_earns_its_share_of_points(criterion, raw, earned, failed):
    answer = mark(criterion, raw)
    assert answer.earned == Decimal(earned)
    assert answer.failed is failed


def test_captures_are_kept_but_not_scored():
    assert mark(Criterion(Kind.TEXT), " scuff on lid ") == Mark("scuff on lid", None)
    assert mark(Criterion(Kind.SERIAL), "sn-9") == Mark("SN-9", None)


@pytest.mark.parametrize(
    ("criterion", "raw"),
    [
        (Criterion(Kind.PASS_FAIL), "maybe"),
        (Criterion(Kind.PASS_FAIL), "  "),
        (Criterion(Kind.SCALE, scale_max=4), "5"),
        (Criterion(Kind.SCALE, scale_max=4), "-1"),
        (Criterion(Kind.SCALE, scale_max=4), "2.5"),
        (Criterion(Kind.CHOICE, options=(("New", 4), ("Broken", 0))), "3"),
        (Criterion(Kind.CHOICE, options=(("New", 4), ("Broken", 0))), "0"),
        (Criterion(Kind.MEASURE, min_value=Decimal(80)), "lots"),
        (Criterion(Kind.MEASURE, min_value=Decimal(80)), "NaN"),
        (Criterion(Kind.MEASURE, min_value=Decimal(80)), "1e12"),
        (Criterion(Kind.TEXT), "x" * 201),
        (Criterion(Kind.TEXT), "bell\x07"),
    ],
)
def test_answers_out_of_range_are_refused_with_a_message(criterion, raw):
    with pytest.raises(BadAnswer) as refused:
        mark(criterion, raw)
    assert str(refused.value)
