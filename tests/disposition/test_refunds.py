"""Refund arithmetic: pure Decimal functions, and the instruction written on decision."""

from decimal import Decimal

import pytest

from disposition import services
from disposition.refunds import compute_refund, grade_deduction
from returns_desk.models import ReturnPolicy
from tests.factories import ReasonFactory


def refund(price: str, treatment: str = "minus_fee", fee: str = "0", waived=False, cut="0"):
    return compute_refund(
        price_paid=Decimal(price),
        treatment=treatment,
        fee_percent=Decimal(fee),
        fee_waived=waived,
        deduction_percent=Decimal(cut),
    )


def test_a_full_refund_is_the_price_paid_whatever_the_fee_and_grade():
    assert refund("19.99", "full", fee="10", cut="25").amount == Decimal("19.99")


def test_the_restocking_fee_is_a_percentage_of_the_price_paid():
    result = refund("80.00", fee="15")

    assert result.fee_amount == Decimal("12.00")
    assert result.amount == Decimal("68.00")


def test_a_waived_fee_takes_nothing_off():
    result = refund("80.00", fee="15", waived=True)

    assert result.fee_amount == Decimal("0.00")
    assert result.fee_waived
    assert result.amount == Decimal("80.00")


def test_fee_and_grade_deduction_are_each_rounded_half_up_to_the_cent():
    result = refund("19.99", fee="12.5", cut="7.5")

    assert result.fee_amount == Decimal("2.50")  # 2.49875
    assert result.deduction_amount == Decimal("1.50")  # 1.49925
    assert result.amount == Decimal("15.99")


def test_half_a_cent_rounds_up():
    assert refund("0.10", fee="5").fee_amount == Decimal("0.01")  # 0.005


def test_store_credit_keeps_the_deductions_and_none_or_replacement_pay_nothing():
    assert refund("50.00", "store_credit", fee="10", cut="10").amount == Decimal("40.00")
    assert refund("50.00", "none", fee="10").amount == Decimal("0.00")
    assert refund("50.00", "replacement").amount == Decimal("0.00")


def test_the_amount_never_goes_below_zero_and_the_parts_add_up_to_the_price():
    taken = refund("10.00", fee="60", cut="60")

    assert taken.amount == Decimal("0.00")
    assert (taken.fee_amount, taken.deduction_amount) == (Decimal("6.00"), Decimal("4.00"))


def test_grade_deductions_are_looked_up_by_grade_code():
    deductions = {"B": "10", "C": "25.5"}

    assert grade_deduction(deductions, "c") == Decimal("25.5")
    assert grade_deduction(deductions, "A") == Decimal(0)
    assert grade_deduction(None, "B") == Decimal(0)
    assert grade_deduction({"b": "5"}, "B") == Decimal(5)  # typed in lower case in the admin


@pytest.mark.django_db
def test_the_refund_instruction_applies_the_policy_fee_and_the_grade_deduction(
    make_inspected, rules, station, clerk, config
):
    policy = ReturnPolicy.objects.create(
        name="Fee 10", restocking_fee_percent=Decimal(10), grade_deductions={"C": "20"}
    )
    item = make_inspected("C", price="33.33", policy=policy)

    services.decide_disposition(item=item, station=station, user=clerk)

    refund = item.refund
    assert refund.treatment == "minus_fee"
    assert refund.fee_amount == Decimal("3.33")
    assert refund.deduction_amount == Decimal("6.67")
    assert refund.amount == Decimal("23.33")


@pytest.mark.django_db
def test_a_reason_the_policy_waives_the_fee_for_keeps_the_full_price(
    make_inspected, rules, station, clerk, config
):
    defect = ReasonFactory(code="defect", name="Defect")
    policy = ReturnPolicy.objects.create(name="Fee 10", restocking_fee_percent=Decimal(10))
    policy.fee_waived_for.add(defect)
    item = make_inspected("A", price="59.90", reason=defect, policy=policy)

    services.decide_disposition(item=item, station=station, user=clerk)

    assert item.refund.fee_waived
    assert item.refund.amount == Decimal("59.90")


@pytest.mark.django_db
def test_export_refunds_marks_released_refunds_exported_once(
    make_inspected, rules, station, clerk, config
):
    from disposition.models import RefundInstruction

    item = make_inspected("A")
    services.decide_disposition(item=item, station=station, user=clerk)

    first = services.export_refunds(refunds=[item.refund], user=clerk)
    again = services.export_refunds(refunds=[item.refund], user=clerk)

    assert [refund.item for refund in first] == [item]
    assert again == []
    assert RefundInstruction.objects.get(item=item).status == RefundInstruction.Status.EXPORTED


@pytest.mark.django_db
def test_exporting_refunds_records_it_on_each_unit_and_costs_the_same_for_many(
    make_inspected, rules, station, clerk, config, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from returns_desk.models import ItemEvent

    units = [make_inspected("A") for _ in range(5)]
    for item in units:
        services.decide_disposition(item=item, station=station, user=clerk)
    refunds = [item.refund for item in units]
    with CaptureQueriesContext(connection) as one:
        services.export_refunds(refunds=refunds[:1], user=clerk)

    with django_assert_max_num_queries(len(one)):
        exported = services.export_refunds(refunds=refunds[1:], user=clerk)

    assert len(exported) == 4
    for item in units:
        event = ItemEvent.objects.get(item=item, action="refund_exported")
        assert event.details == {"refund": item.refund.pk, "amount": str(item.refund.amount)}
        assert event.user == clerk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deductions", "valid"),
    [({"B": "10", "C": 25}, True), ({"B": "110"}, False), ({"B": "ten"}, False), (["B"], False)],
)
def test_a_policy_accepts_only_percentages_as_grade_deductions(deductions, valid):
    from django.core.exceptions import ValidationError

    policy = ReturnPolicy(name="P", grade_deductions=deductions)

    if valid:
        policy.clean()
    else:
        with pytest.raises(ValidationError):
            policy.clean()
