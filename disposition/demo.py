"""Demo configuration: partners, a rule set covering all eight programs, and override defaults.

Runs after the core demo data (a receiver of `demo_data_loaded`) and on its own; running it
again changes nothing, and rules an admin has edited since are left as they are.
"""

from decimal import Decimal

from django.db import transaction

from returns_desk.models import ProductCategory, Program, ReturnPolicy

from .models import (
    DefaultDestination,
    DispositionRule,
    DispositionSettings,
    Outcome,
    Partner,
    RefundTreatment,
)

PARTNERS = [
    # code, name, kind, licence
    ("greencycle", "GreenCycle Recycling Ltd", Partner.Kind.RECYCLER, "WEEE-AATF-0042"),
    ("shelter-homes", "Shelter Homes charity shops", Partner.Kind.CHARITY, ""),
    ("acme-vendor", "Acme Electronics (vendor returns)", Partner.Kind.VENDOR, ""),
    ("bulkbid", "BulkBid Liquidation", Partner.Kind.LIQUIDATOR, ""),
    ("fixit", "FixIt Repair Centre", Partner.Kind.REPAIRER, ""),
]
R = RefundTreatment
# (order, name, conditions, outcome, bin or partner code, refund). First match wins.
RULES = [
    (
        10,
        "Recall: quarantine for destruction",
        {"programs": ["recall"]},
        Outcome.QUARANTINE,
        "@greencycle",
        R.FULL,
    ),
    (
        20,
        "End of life take-back: recycle",
        {"programs": ["end-of-life"]},
        Outcome.RECYCLE,
        "@greencycle",
        R.NONE,
    ),
    (
        30,
        "Warranty, critical fault: back to the vendor",
        {"programs": ["warranty"], "critical_failure": "yes"},
        Outcome.RETURN_TO_VENDOR,
        "@acme-vendor",
        R.REPLACEMENT,
    ),
    (
        40,
        "Warranty: repair",
        {"programs": ["warranty"]},
        Outcome.REPAIR,
        "REPAIR-BENCH",
        R.REPLACEMENT,
    ),
    (50, "Scrap: recycle", {"grades": "X"}, Outcome.RECYCLE, "@greencycle", R.MINUS_FEE),
    (
        60,
        "Trade-in: refurbish",
        {"programs": ["trade-in"]},
        Outcome.REFURBISH,
        "REFURB-BENCH",
        R.STORE_CREDIT,
    ),
    (
        70,
        "Rental in fair shape or better: back to the rental pool",
        {"programs": ["rental"], "grades": "A,B,C"},
        Outcome.RESTOCK,
        "RENTAL-POOL",
        R.NONE,
    ),
    (
        80,
        "Good but low value: donate",
        {"grades": "B,C", "max_value": Decimal(25)},
        Outcome.DONATE,
        "@shelter-homes",
        R.MINUS_FEE,
    ),
    (90, "Grade A: restock as new", {"grades": "A"}, Outcome.RESTOCK, "RESTOCK-A", R.MINUS_FEE),
    (
        100,
        "Grade B electronics: refurbish",
        {"grades": "B", "categories": ["electronics"]},
        Outcome.REFURBISH,
        "REFURB-BENCH",
        R.MINUS_FEE,
    ),
    (
        110,
        "Grade B: restock as open box",
        {"grades": "B"},
        Outcome.RESTOCK,
        "OPENBOX-B",
        R.MINUS_FEE,
    ),
    (
        120,
        "Grade C worth repairing",
        {"grades": "C", "min_value": Decimal(100)},
        Outcome.REPAIR,
        "REPAIR-BENCH",
        R.MINUS_FEE,
    ),
    (130, "Grade C or D: liquidate", {"grades": "C,D"}, Outcome.LIQUIDATE, "@bulkbid", R.MINUS_FEE),
    (
        999,
        "Anything else: quarantine for a supervisor",
        {},
        Outcome.QUARANTINE,
        "QUARANTINE",
        R.MINUS_FEE,
    ),
]
DEFAULTS = {
    Outcome.RESTOCK: "RESTOCK-A",
    Outcome.REPAIR: "REPAIR-BENCH",
    Outcome.REFURBISH: "REFURB-BENCH",
    Outcome.RECYCLE: "@greencycle",
    Outcome.DONATE: "@shelter-homes",
    Outcome.RETURN_TO_VENDOR: "@acme-vendor",
    Outcome.LIQUIDATE: "@bulkbid",
    Outcome.QUARANTINE: "QUARANTINE",
}
# Percent of the price paid kept back for a worn unit on customer-return policies.
GRADE_DEDUCTIONS = {"B": "5", "C": "15", "D": "30", "X": "50"}


def _destination(target: str, partners: dict[str, Partner]) -> dict:
    if target.startswith("@"):
        return {"partner": partners[target[1:]], "destination_bin": ""}
    return {"partner": None, "destination_bin": target}


@transaction.atomic
def load_demo_rules(**kwargs) -> None:
    partners = {
        code: Partner.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "licence_number": licence}
        )[0]
        for code, name, kind, licence in PARTNERS
    }
    programs = {program.code: program for program in Program.objects.all()}
    categories = {category.code: category for category in ProductCategory.objects.all()}
    for order, name, conditions, outcome, target, refund in RULES:
        conditions = dict(conditions)
        m2m = {
            "programs": [
                programs[code] for code in conditions.pop("programs", []) if code in programs
            ],
            "categories": [
                categories[code] for code in conditions.pop("categories", []) if code in categories
            ],
        }
        rule, created = DispositionRule.objects.get_or_create(
            name=name,
            defaults={
                "order": order,
                "outcome": outcome,
                "refund": refund,
                **conditions,
                **_destination(target, partners),
            },
        )
        if created:
            rule.programs.set(m2m["programs"])
            rule.categories.set(m2m["categories"])
    for outcome, target in DEFAULTS.items():
        DefaultDestination.objects.get_or_create(
            outcome=outcome, defaults=_destination(target, partners)
        )
    config = DispositionSettings.load()
    if not config.outcomes_needing_approval:
        config.outcomes_needing_approval = [Outcome.QUARANTINE, Outcome.DONATE]
        config.save(update_fields=["outcomes_needing_approval"])
    for policy in ReturnPolicy.objects.filter(programs__code="customer-return").distinct():
        if not policy.grade_deductions:
            policy.grade_deductions = GRADE_DEDUCTIONS
            policy.save(update_fields=["grade_deductions"])
