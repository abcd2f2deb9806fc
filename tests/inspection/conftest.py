import pytest

from tests.factories import CategoryFactory, CriterionFactory, GradeScaleFactory, ProductFactory


@pytest.fixture
def scale(db):
    return GradeScaleFactory()


@pytest.fixture
def category(db):
    return CategoryFactory(code="electronics", name="Electronics")


@pytest.fixture
def product(category):
    return ProductFactory(sku="EL-PHONE-1", name="Phone", category=category)


@pytest.fixture
def checklist(category, scale):
    """Powers on (critical, weight 3), cosmetic scale 0..4 (weight 2), battery 80..100 %."""
    return [
        CriterionFactory(category=category, question="Powers on", weight=3, critical=True),
        CriterionFactory(
            category=category, question="Cosmetic", kind="scale", scale_max=4, weight=2
        ),
        CriterionFactory(
            category=category,
            question="Battery",
            kind="measure",
            min_value=80,
            max_value=100,
            unit="%",
        ),
    ]
