"""Which return policy a new RMA gets when nobody names one: its program, channel and the
categories of what is being returned."""

import pytest

from returns_desk import apikeys
from returns_desk.exceptions import NoPolicy
from returns_desk.models import ApiKey
from returns_desk.services import NewLine, create_rma
from tests.factories import (
    CategoryFactory,
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    program = ProgramFactory()
    PolicyFactory(name="Any product 30 days", window_days=30).programs.add(program)
    return program


@pytest.fixture
def electronics():
    return CategoryFactory(code="electronics", name="Electronics")


def line_of(category, **fields) -> NewLine:
    return NewLine(
        product=ProductFactory(category=category), quantity=1, reason=ReasonFactory(), **fields
    )


def policy_named(name, program, *, categories=(), **fields):
    policy = PolicyFactory(name=name, **fields)
    policy.programs.add(program)
    policy.categories.set(categories)
    return policy


def test_a_policy_for_a_category_covers_returns_of_that_category(program, electronics):
    policy_named("Electronics 14 days", program, categories=[electronics], window_days=14)

    rma = create_rma(number="R1", program=program, channel="web", lines=[line_of(electronics)])

    assert rma.policy.name == "Electronics 14 days"
    assert (rma.expires_on - rma.issued_on).days == 14


def test_other_categories_get_the_catch_all(program, electronics):
    policy_named("Electronics 14 days", program, categories=[electronics])

    rma = create_rma(
        number="R1", program=program, channel="web", lines=[line_of(CategoryFactory())]
    )

    assert rma.policy.name == "Any product 30 days"


def test_a_category_policy_covers_a_mixed_return_only_if_it_names_every_category(
    program, electronics
):
    """A policy for electronics says nothing about the towel in the same box."""
    policy_named("Electronics 14 days", program, categories=[electronics])
    mixed = [line_of(electronics), line_of(CategoryFactory())]

    rma = create_rma(number="R1", program=program, channel="web", lines=mixed)

    assert rma.policy.name == "Any product 30 days"


def test_the_most_specific_covering_policy_wins(program, electronics):
    policy_named("A marketplace", program, channels=["marketplace"])
    policy_named(
        "B marketplace electronics", program, categories=[electronics], channels=["marketplace"]
    )

    chosen = create_rma(
        number="R1", program=program, channel="marketplace", lines=[line_of(electronics)]
    ).policy
    other_category = create_rma(
        number="R2", program=program, channel="marketplace", lines=[line_of(CategoryFactory())]
    ).policy

    assert chosen.name == "B marketplace electronics"
    assert other_category.name == "A marketplace"


def test_no_covering_policy_names_what_was_returned(electronics):
    program = ProgramFactory()
    policy_named("Electronics only", program, categories=[electronics])

    with pytest.raises(NoPolicy, match="for Home goods"):
        create_rma(number="R1", program=program, channel="web", lines=[line_of(CategoryFactory())])


def test_the_api_gives_a_new_rma_its_categorys_policy(client, program, electronics):
    policy_named("Electronics 14 days", program, categories=[electronics])
    ProductFactory(sku="EL-KTL-17", category=electronics)
    ReasonFactory(code="defect")
    key = apikeys.issue_key(name="Web shop", scope=ApiKey.Scope.WRITE)[1]

    response = client.post(
        "/api/v1/rmas",
        {
            "number": "RMA-9001",
            "program": program.code,
            "lines": [{"sku": "EL-KTL-17", "quantity": 1, "reason": "defect"}],
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    assert response.status_code == 201, response.content
    assert response.json()["policy"] == "Electronics 14 days"
