"""Rule matching, for any rule set and unit: the first rule whose conditions all hold fires."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disposition.rules import Conditions, Facts, ends_in_catch_all, evaluate, first_match
from disposition.selectors import active_rules
from tests.disposition.helpers import make_rule

PROGRAMS, REASONS, GRADES, CATEGORIES = ["cr", "wr", "rc"], ["defect", "mind"], "ABCDX", ["e", "h"]
values = st.decimals(0, 2000, places=2)
days = st.integers(0, 400)


def subset(items) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(list(items)))


facts = st.builds(
    Facts,
    program=st.sampled_from(PROGRAMS),
    reason=st.sampled_from(REASONS),
    grade=st.sampled_from(GRADES),
    category=st.sampled_from(CATEGORIES),
    critical_failure=st.booleans(),
    unit_value=values,
    in_warranty=st.booleans(),
    recall=st.booleans(),
    days_since_purchase=st.none() | days,
)
maybe_flag = st.none() | st.booleans()
conditions = st.builds(
    Conditions,
    programs=subset(PROGRAMS),
    reasons=subset(REASONS),
    grades=subset(GRADES),
    categories=subset(CATEGORIES),
    critical_failure=maybe_flag,
    min_value=st.none() | values,
    max_value=st.none() | values,
    in_warranty=maybe_flag,
    recall=maybe_flag,
    min_days=st.none() | days,
    max_days=st.none() | days,
)


def matches(rule: Conditions, unit: Facts) -> bool:
    return all(check.matched for check in evaluate(rule, unit))


@given(st.lists(conditions, max_size=8), facts)
def test_the_rule_that_fires_is_the_first_whose_conditions_all_match(ruleset, unit):
    trace = first_match(enumerate(ruleset), unit)

    matching = [index for index, rule in enumerate(ruleset) if matches(rule, unit)]
    assert trace.fired == (matching[0] if matching else None)
    # Rules after the one that fired are never tried.
    assert [index for index, _ in trace.tried] == list(range(len(trace.tried)))
    assert len(trace.tried) == (matching[0] + 1 if matching else len(ruleset))


@given(st.lists(conditions, max_size=8), facts)
def test_a_rule_set_ending_in_a_catch_all_routes_every_unit(ruleset, unit):
    complete = [*ruleset, Conditions()]

    assert ends_in_catch_all(complete)
    assert first_match(enumerate(complete), unit).fired is not None


@given(facts)
def test_a_catch_all_matches_any_unit(unit):
    assert matches(Conditions(), unit)


rows = st.lists(st.tuples(st.integers(1, 5), st.booleans(), subset(GRADES)), min_size=1, max_size=6)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows, st.sampled_from(GRADES))
def test_saved_rules_fire_first_active_first_by_order_then_by_age(rows, grade):
    with transaction.atomic():
        saved = [
            make_rule(order, "restock", grades=",".join(sorted(grades)), active=active)
            for order, active, grades in rows
        ]
        unit = Facts(grade=grade, unit_value=Decimal(10))

        trace = first_match(((rule, rule.conditions()) for rule in active_rules()), unit)

        candidates = [
            rule for rule in saved if rule.active and (not rule.grades or grade in rule.grades)
        ]
        expected = min(candidates, key=lambda rule: (rule.order, rule.pk), default=None)
        assert trace.fired == expected
        transaction.set_rollback(True)
