from decimal import Decimal

import pytest
from django.urls import reverse

from inspection.demo import load_demo_checklists
from inspection.forms import GradingCriterionForm
from inspection.models import ChecklistCategory, Grade, GradeScale, GradingCriterion
from returns_desk.models import ProductCategory
from tests.factories import CategoryFactory, CriterionFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def criterion_form(category, **fields) -> GradingCriterionForm:
    data = {
        "category": category.pk,
        "question": "Q",
        "kind": "pass_fail",
        "weight": 1,
        "order": 1,
        "required": True,
        "active": True,
        **fields,
    }
    return GradingCriterionForm(data)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"weight": 0}, "weight"),
        ({"kind": "scale"}, "scale_max"),
        ({"kind": "scale", "scale_max": 10}, "scale_max"),
        ({"kind": "choice", "options": "Only one = 1"}, "options"),
        ({"kind": "choice", "options": "New = 0\nOld = 0"}, "options"),
        ({"kind": "choice", "options": "no points here"}, "options"),
        ({"kind": "measure"}, "min_value"),
        ({"kind": "measure", "min_value": "90", "max_value": "80"}, "max_value"),
    ],
)
def test_the_criterion_form_refuses_ill_formed_criteria(fields, field):
    form = criterion_form(CategoryFactory(), **fields)
    assert not form.is_valid()
    assert field in form.errors


def test_choice_options_are_edited_as_lines_of_label_and_points():
    form = criterion_form(CategoryFactory(), kind="choice", options="No marks = 3\nScratched = 1\n")
    assert form.is_valid(), form.errors
    criterion = form.save()
    assert criterion.options == [
        {"label": "No marks", "points": 3},
        {"label": "Scratched", "points": 1},
    ]
    assert "No marks = 3" in str(GradingCriterionForm(instance=criterion)["options"])


def grade_rows(*rows) -> dict:
    data = {"grades-TOTAL_FORMS": len(rows), "grades-INITIAL_FORMS": 0}
    for n, (code, min_score, cap) in enumerate(rows):
        data |= {
            f"grades-{n}-code": code,
            f"grades-{n}-name": code,
            f"grades-{n}-min_score": min_score,
        }
        if cap:
            data[f"grades-{n}-caps_critical"] = "on"
    return data


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="ada", role="admin"))
    return client


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("A", 90, False), ("B", 90, False), ("X", 0, False)], "duplicate data for min_score"),
        ([("A", 90, False), ("B", 50, False)], "must start at 0"),
        ([("A", 90, True), ("X", 0, True)], "Only one grade"),
        ([("A", 120, False), ("X", 0, False)], "less than or equal to 100"),
    ],
)
def test_the_scale_admin_refuses_ill_formed_thresholds(admin_client, rows, message):
    data = {"name": "Mine", **grade_rows(*rows)}
    response = admin_client.post(reverse("admin:inspection_gradescale_add"), data)
    assert response.status_code == 200
    assert message in response.text
    assert not GradeScale.objects.exists()


def test_the_scale_admin_saves_a_well_formed_scale(admin_client):
    data = {
        "name": "Mine",
        "is_default": "on",
        **grade_rows(("A", 90, False), ("D", 25, True), ("X", 0, False)),
    }
    response = admin_client.post(reverse("admin:inspection_gradescale_add"), data)
    assert response.status_code == 302
    assert list(Grade.objects.values_list("code", "min_score", "caps_critical")) == [
        ("A", Decimal(90), False),
        ("D", Decimal(25), True),
        ("X", Decimal(0), False),
    ]


def test_an_admin_edits_a_checklist_inline_under_its_category(admin_client):
    category = CategoryFactory()
    CriterionFactory(category=category, question="Second", order=20)
    CriterionFactory(category=category, question="First", order=10)
    response = admin_client.get(
        reverse("admin:inspection_checklistcategory_change", args=[category.pk])
    )
    assert response.status_code == 200
    assert response.text.index("First") < response.text.index("Second")


def test_a_clerk_cannot_open_the_checklist_admin(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("admin:inspection_gradescale_changelist")).status_code == 302


def test_demo_checklists_cover_the_demo_categories_and_load_twice_harmlessly():
    ProgramFactory(code="recall", name="Product recall", kind="recall")
    load_demo_checklists()
    counts = (GradeScale.objects.count(), Grade.objects.count(), GradingCriterion.objects.count())
    load_demo_checklists()
    assert (
        GradeScale.objects.count(),
        Grade.objects.count(),
        GradingCriterion.objects.count(),
    ) == counts
    assert set(ProductCategory.objects.values_list("code", flat=True)) >= {
        "electronics",
        "apparel",
        "home",
    }
    recall_checks = GradingCriterion.objects.filter(program__code="recall")
    assert recall_checks.count() == 3 and all(c.critical for c in recall_checks)
    for criterion in GradingCriterion.objects.all():
        criterion.full_clean()
    assert GradeScale.objects.get().grades.get(caps_critical=True).code == "D"
    assert ChecklistCategory.objects.count() == ProductCategory.objects.count()
