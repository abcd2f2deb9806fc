import pytest

from returns_desk.models import Station
from tests.factories import StationFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test makes users; the production hasher costs most of a second per password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def other_station(db):
    return StationFactory(code="RCV-02")


@pytest.fixture
def inspection_station(db):
    return StationFactory(code="INS-01", kind=Station.Kind.INSPECTION)
