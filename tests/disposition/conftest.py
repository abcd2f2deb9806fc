import functools

import pytest

from disposition.models import Partner
from tests.disposition.helpers import configure, inspected_unit, make_checklist, make_rules
from tests.factories import CategoryFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test makes users; the production hasher costs most of a second per password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def category(db):
    return CategoryFactory(code="electronics", name="Electronics")


@pytest.fixture
def checklist(category):
    return make_checklist(category)


@pytest.fixture
def partner(db):
    return Partner.objects.create(
        code="greencycle", name="GreenCycle", kind=Partner.Kind.RECYCLER, licence_number="P-42"
    )


@pytest.fixture
def config(db):
    return configure()


@pytest.fixture
def rules(partner):
    return make_rules(partner)


@pytest.fixture
def make_inspected(checklist, station, clerk):
    """make_inspected(grade, critical=, value=, price=, reason=, serial=, **rma_fields)."""
    return functools.partial(inspected_unit, checklist=checklist, station=station, user=clerk)


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", role="admin")
