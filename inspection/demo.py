"""Demo configuration: a default grade scale and a checklist for every demo category.

Runs after the core demo data (a receiver of `demo_data_loaded`) and on its own; running it
again changes nothing.
"""

from decimal import Decimal

from django.db import transaction

from returns_desk.models import ProductCategory, Program

from .grading import Kind
from .models import Grade, GradeScale, GradingCriterion

GRADES = [
    # code, name, from score, eBay condition ID, Amazon condition
    ("A", "like new", 90, "2750", "used_like_new"),
    ("B", "good", 75, "3000", "used_very_good"),
    ("C", "fair", 50, "5000", "used_good"),
    ("D", "poor", 25, "6000", "used_acceptable"),
    ("X", "scrap", 0, "7000", ""),
]
CRITICAL_CAP = "D"

CATEGORIES = {"electronics": "Electronics", "apparel": "Apparel", "home": "Home goods"}

COSMETIC = {
    "kind": Kind.CHOICE,
    "weight": 3,
    "options": [
        {"label": "No marks", "points": 3},
        {"label": "Light scratches", "points": 2},
        {"label": "Visible wear", "points": 1},
        {"label": "Cracked or broken", "points": 0},
    ],
}
CHECKLISTS = {
    "electronics": [
        ("Powers on and boots", {"kind": Kind.PASS_FAIL, "weight": 5, "critical": True}),
        ("Cosmetic condition", COSMETIC),
        ("Screen and ports work", {"kind": Kind.SCALE, "weight": 3, "scale_max": 5}),
        (
            "Battery health",
            {
                "kind": Kind.MEASURE,
                "weight": 2,
                "min_value": Decimal(80),
                "max_value": Decimal(100),
                "unit": "%",
            },
        ),
        ("All accessories present", {"kind": Kind.PASS_FAIL, "weight": 1}),
        ("Personal data wiped", {"kind": Kind.PASS_FAIL, "weight": 2, "critical": True}),
        ("Serial number on the unit", {"kind": Kind.SERIAL, "weight": 1}),
    ],
    "apparel": [
        ("Tags attached", {"kind": Kind.PASS_FAIL, "weight": 2}),
        ("Unworn and unwashed", {"kind": Kind.PASS_FAIL, "weight": 3}),
        (
            "Free of stains, holes and odour",
            {"kind": Kind.SCALE, "weight": 3, "scale_max": 3, "help_text": "0 ruined, 3 clean."},
        ),
        ("Original packaging", {"kind": Kind.PASS_FAIL, "weight": 1}),
        ("Damage found", {"kind": Kind.TEXT, "weight": 1, "required": False}),
    ],
    "home": [
        ("Works as intended", {"kind": Kind.PASS_FAIL, "weight": 4, "critical": True}),
        ("Cosmetic condition", COSMETIC),
        ("Complete (parts and manual)", {"kind": Kind.PASS_FAIL, "weight": 2}),
        ("Packaging resellable", {"kind": Kind.PASS_FAIL, "weight": 1}),
    ],
}
RECALL_CHECK = (
    "Lot number matches the recall",
    {"kind": Kind.PASS_FAIL, "weight": 5, "critical": True, "help_text": "See the recall notice."},
)


@transaction.atomic
def load_demo_checklists(**kwargs) -> None:
    """Create the default grade scale and the demo checklists where they are missing."""
    scale, _ = GradeScale.objects.get_or_create(is_default=True, defaults={"name": "Standard A–X"})
    for code, name, min_score, ebay, amazon in GRADES:
        Grade.objects.get_or_create(
            scale=scale,
            code=code,
            defaults={
                "name": name,
                "min_score": min_score,
                "caps_critical": code == CRITICAL_CAP,
                "ebay_condition_id": ebay,
                "amazon_condition": amazon,
            },
        )
    recall = Program.objects.filter(code="recall").first()
    for code, name in CATEGORIES.items():
        category, _ = ProductCategory.objects.get_or_create(code=code, defaults={"name": name})
        checklist = CHECKLISTS[code] + ([RECALL_CHECK] if recall else [])
        for order, (question, fields) in enumerate(checklist, start=1):
            program = recall if (question, fields) == RECALL_CHECK else None
            GradingCriterion.objects.get_or_create(
                category=category,
                question=question,
                program=program,
                defaults={"order": order * 10, **fields},
            )
