"""Refund arithmetic, in Decimal and rounded to cents: pure, so every case is easy to test."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# Treatments that pay money back, and those among them that keep the policy's deductions.
PAYING = {"full", "minus_fee", "store_credit"}
DEDUCTING = {"minus_fee", "store_credit"}


def to_cents(amount: Decimal) -> Decimal:
    # Half up, as shops round: 0.005 is a cent owed, never a cent lost to float binary.
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RefundAmount:
    fee_percent: Decimal
    fee_amount: Decimal
    fee_waived: bool
    deduction_percent: Decimal
    deduction_amount: Decimal
    amount: Decimal


def grade_deduction(deductions: dict[str, str] | None, grade: str) -> Decimal:
    """The policy's deduction for a grade, in percent of the price paid (0 when none).

    Grade codes match whatever their case: a policy's {"b": "5"} is grade B's deduction.
    """
    by_code = {code.upper(): percent for code, percent in (deductions or {}).items()}
    return Decimal(str(by_code.get(grade.upper(), "0")))


def compute_refund(
    *,
    price_paid: Decimal,
    treatment: str,
    fee_percent: Decimal,
    fee_waived: bool,
    deduction_percent: Decimal,
) -> RefundAmount:
    """What to pay back for one unit.

    A full refund is the price paid. Refund minus fee and store credit take off the policy's
    restocking fee (unless the return reason waives it) and the grade's deduction, each a
    percentage of the price paid rounded to the cent; the amount never goes below zero, and
    the deduction is what is left after the fee, so the parts exported add up to the price.
    No refund and a replacement pay nothing.
    """
    price_paid = to_cents(Decimal(price_paid))
    if treatment not in PAYING:
        return RefundAmount(ZERO, ZERO, False, ZERO, ZERO, ZERO)
    if treatment not in DEDUCTING:
        return RefundAmount(ZERO, ZERO, False, ZERO, ZERO, price_paid)
    fee_percent = Decimal(fee_percent)
    fee = ZERO if fee_waived else to_cents(price_paid * fee_percent / HUNDRED)
    deduction = min(to_cents(price_paid * Decimal(deduction_percent) / HUNDRED), price_paid - fee)
    amount = price_paid - fee - deduction
    return RefundAmount(fee_percent, fee, fee_waived, Decimal(deduction_percent), deduction, amount)
