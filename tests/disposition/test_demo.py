from decimal import Decimal

import pytest

from disposition.demo import load_demo_rules
from disposition.models import DefaultDestination, DispositionRule, Outcome
from disposition.rules import Facts, ends_in_catch_all, first_match
from disposition.selectors import active_rules
from returns_desk.demo import load_demo_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    load_demo_data()
    load_demo_rules()


def outcome_for(**facts) -> str:
    ruleset = [(rule, rule.conditions()) for rule in active_rules()]
    return first_match(ruleset, Facts(**facts)).fired.outcome


def test_the_demo_rule_set_ends_in_a_catch_all_and_loads_only_once(demo):
    count = DispositionRule.objects.count()

    load_demo_rules()

    assert DispositionRule.objects.count() == count
    assert ends_in_catch_all([rule.conditions() for rule in active_rules()])
    assert DefaultDestination.objects.count() == len(Outcome)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"program": "recall", "grade": "A"}, Outcome.QUARANTINE),
        ({"program": "end-of-life", "grade": "A"}, Outcome.RECYCLE),
        ({"program": "warranty", "grade": "D", "critical_failure": True}, Outcome.RETURN_TO_VENDOR),
        ({"program": "warranty", "grade": "C"}, Outcome.REPAIR),
        ({"program": "trade-in", "grade": "B"}, Outcome.REFURBISH),
        ({"program": "rental", "grade": "B"}, Outcome.RESTOCK),
        ({"program": "customer-return", "grade": "X"}, Outcome.RECYCLE),
        ({"program": "customer-return", "grade": "A"}, Outcome.RESTOCK),
        (
            {
                "program": "customer-return",
                "grade": "B",
                "category": "electronics",
                "unit_value": Decimal(149),
            },
            Outcome.REFURBISH,
        ),
        (
            {
                "program": "customer-return",
                "grade": "B",
                "category": "apparel",
                "unit_value": Decimal(89),
            },
            Outcome.RESTOCK,
        ),
        ({"program": "customer-return", "grade": "B", "unit_value": Decimal(19)}, Outcome.DONATE),
        ({"program": "b2b-excess", "grade": "C", "unit_value": Decimal(499)}, Outcome.REPAIR),
        (
            {"program": "delivery-failure", "grade": "C", "unit_value": Decimal(39)},
            Outcome.LIQUIDATE,
        ),
        ({"program": "customer-return", "grade": ""}, Outcome.QUARANTINE),
    ],
)
def test_the_demo_rules_send_each_program_somewhere_sensible(demo, facts, expected):
    assert outcome_for(**facts) == expected
