"""The matcher is pure: these tests need no database."""

from decimal import Decimal

import pytest

from disposition.rules import Conditions, Facts, evaluate, explain, first_match, parse_codes

UNIT = Facts(
    program="customer-return",
    reason="defect",
    grade="B",
    category="electronics",
    critical_failure=False,
    unit_value=Decimal("120.00"),
    in_warranty=True,
    recall=False,
    days_since_purchase=40,
)


def fires(conditions: Conditions, facts: Facts = UNIT) -> bool:
    return first_match([("rule", conditions)], facts).fired == "rule"


def test_the_first_matching_rule_fires_and_later_ones_are_not_tried():
    ruleset = [
        ("grade A", Conditions(grades=frozenset({"A"}))),
        ("grade B", Conditions(grades=frozenset({"B"}))),
        ("catch-all", Conditions()),
    ]

    trace = first_match(ruleset, UNIT)

    assert trace.fired == "grade B"
    assert [rule for rule, _ in trace.tried] == ["grade A", "grade B"]


def test_a_rule_with_no_conditions_is_a_catch_all_and_matches_anything():
    assert Conditions().is_catch_all
    assert fires(Conditions(), Facts())
    assert not Conditions(recall=False).is_catch_all


def test_no_rule_fires_when_none_matches():
    trace = first_match([("A only", Conditions(grades=frozenset({"A"})))], UNIT)

    assert trace.fired is None
    assert trace.checks == []


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (Conditions(programs=frozenset({"customer-return", "warranty"})), True),
        (Conditions(programs=frozenset({"recall"})), False),
        (Conditions(reasons=frozenset({"defect"})), True),
        (Conditions(reasons=frozenset({"changed-mind"})), False),
        (Conditions(grades=frozenset({"B", "C"})), True),
        (Conditions(grades=frozenset({"A"})), False),
        (Conditions(categories=frozenset({"electronics"})), True),
        (Conditions(categories=frozenset({"apparel"})), False),
        (Conditions(critical_failure=False), True),
        (Conditions(critical_failure=True), False),
        (Conditions(in_warranty=True), True),
        (Conditions(in_warranty=False), False),
        (Conditions(recall=False), True),
        (Conditions(recall=True), False),
    ],
)
def test_each_condition_matches_only_the_units_it_names(conditions, expected):
    assert fires(conditions) is expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (Decimal(100), None, True),
        (Decimal("120.00"), None, True),  # the lower bound is included
        (None, Decimal("120.00"), False),  # the upper bound is not
        (None, Decimal("120.01"), True),
        (Decimal(0), Decimal(100), False),
    ],
)
def test_the_unit_value_range_includes_its_lower_bound_only(low, high, expected):
    assert fires(Conditions(min_value=low, max_value=high)) is expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(30, 40, True), (40, None, True), (None, 39, False), (41, None, False)],
)
def test_the_days_since_purchase_range_includes_both_bounds(low, high, expected):
    assert fires(Conditions(min_days=low, max_days=high)) is expected


def test_a_days_condition_never_matches_a_unit_with_no_purchase_date():
    facts = Facts(days_since_purchase=None)

    checks = evaluate(Conditions(max_days=30), facts)

    assert not fires(Conditions(max_days=30), facts)
    assert "purchase date unknown" in checks[-1].explanation


def test_every_condition_must_hold_for_a_rule_to_fire():
    conditions = Conditions(grades=frozenset({"B"}), recall=True)

    checks = evaluate(conditions, UNIT)

    assert not fires(conditions)
    failed = [check.name for check in checks if not check.matched]
    assert failed == ["recall"]


def test_the_explanation_lists_only_the_conditions_the_rule_sets():
    conditions = Conditions(grades=frozenset({"B"}), min_value=Decimal(100))

    rows = explain(evaluate(conditions, UNIT))

    assert rows == [
        {"condition": "grade", "matched": True, "explanation": "grade B is one of B"},
        {
            "condition": "unit value",
            "matched": True,
            "explanation": "unit value 120.00 is at least 100",
        },
    ]


def test_grade_codes_are_read_case_and_space_insensitively():
    assert parse_codes(" a, B ,,c ") == {"A", "B", "C"}
    assert parse_codes("") == frozenset()


@pytest.mark.django_db
def test_a_rule_matches_a_grade_a_scale_codes_in_lower_case(station, clerk):
    from disposition.models import DispositionRule
    from disposition.selectors import ITEM_RELATED, recommend
    from inspection.models import Grade, GradeScale
    from returns_desk.models import ReturnItem
    from tests.disposition.helpers import configure, make_rule
    from tests.factories import CategoryFactory, CriterionFactory, ProductFactory, make_unit_at

    configure()
    category = CategoryFactory(code="apparel", name="Apparel")
    scale = GradeScale.objects.create(name="Apparel scale", category=category)
    Grade.objects.create(scale=scale, code="new", name="as new", min_score=90)
    Grade.objects.create(scale=scale, code="used", name="used", min_score=0)
    CriterionFactory(category=category, question="Unworn")
    make_rule(10, "restock", name="As new: restock", grades="new", destination_bin="RESTOCK-A")
    make_rule(999, "liquidate", destination_bin="LIQ-1")
    unit = make_unit_at(
        ReturnItem.Status.INSPECTED,
        station=station,
        user=clerk,
        product=ProductFactory(category=category),
    )

    unit = ReturnItem.objects.select_related(*ITEM_RELATED).get(pk=unit.pk)
    assert unit.grade_code == "new"
    assert recommend(unit).rule == DispositionRule.objects.get(name="As new: restock")
