"""Set-up shared by the disposition tests and the browser tests: rules, settings, graded units."""

from decimal import Decimal

from disposition.models import DispositionRule, DispositionSettings, Partner
from returns_desk.models import ProductCategory, ReasonCode, ReturnItem, RMALine, Station
from tests.factories import (
    CriterionFactory,
    GradeScaleFactory,
    ProductFactory,
    ReasonFactory,
    make_unit_at,
)

# The condition answer (0..4 on one scale question) that earns each grade of the default scale.
CONDITION_FOR_GRADE = {"A": "4", "B": "3", "C": "2", "D": "1", "X": "0"}


def make_checklist(category: ProductCategory) -> dict:
    """One condition question that sets the grade, and an optional critical safety check."""
    GradeScaleFactory()
    return {
        "condition": CriterionFactory(
            category=category, question="Condition", kind="scale", scale_max=4
        ),
        "safe": CriterionFactory(
            category=category, question="Safe to use", critical=True, required=False
        ),
    }


def make_rule(order: int, outcome: str, **fields) -> DispositionRule:
    programs = fields.pop("programs", [])
    reasons = fields.pop("reasons", [])
    categories = fields.pop("categories", [])
    fields.setdefault("name", f"Rule {order}")
    fields.setdefault("destination_bin", "" if fields.get("partner") else f"BIN-{order}")
    rule = DispositionRule.objects.create(order=order, outcome=outcome, **fields)
    rule.programs.set(programs)
    rule.reasons.set(reasons)
    rule.categories.set(categories)
    return rule


def make_rules(partner: Partner) -> dict[str, DispositionRule]:
    """A: restock; C: repair; X: recycle to a partner (a lot); anything else: liquidate."""
    return {
        "restock": make_rule(10, "restock", grades="A", destination_bin="RESTOCK-A"),
        "repair": make_rule(20, "repair", grades="C", destination_bin="REPAIR-BENCH"),
        "recycle": make_rule(30, "recycle", grades="X", partner=partner, refund="none"),
        "catch_all": make_rule(999, "liquidate", destination_bin="LIQ-1"),
    }


def configure() -> DispositionSettings:
    """Overrides of units above 100, or to quarantine, wait; two repairs at most."""
    config = DispositionSettings.load()
    config.override_value_threshold = Decimal("100.00")
    config.outcomes_needing_approval = ["quarantine"]
    config.max_repair_cycles = 2
    config.save()
    return config


def inspected_unit(
    grade: str,
    *,
    checklist: dict,
    station: Station,
    user,
    critical: bool = False,
    value: str = "50.00",
    price: str = "40.00",
    reason: ReasonCode | None = None,
    serial: str = "",
    **rma_fields,
) -> ReturnItem:
    """A unit graded `grade` through the inspection services, its RMA line as described."""
    category = checklist["condition"].category
    product = ProductFactory(
        category=category, unit_value=Decimal(value), serialised=bool(serial), weight_grams=300
    )
    answers = {checklist["condition"].pk: CONDITION_FOR_GRADE[grade]}
    if critical:
        answers[checklist["safe"].pk] = "fail"
    item = make_unit_at(
        ReturnItem.Status.INSPECTED,
        station=station,
        user=user,
        product=product,
        answers=answers,
        serial=serial,
        **rma_fields,
    )
    # The RMA line's price and reason are what the customer said: set them as given.
    RMALine.objects.filter(pk=item.rma_line_id).update(
        price_paid=Decimal(price), reason=reason or ReasonFactory()
    )
    return ReturnItem.objects.get(pk=item.pk)
