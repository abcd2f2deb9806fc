import pytest

from tests.conftest import client_at_station
from tests.disposition.conftest import (  # noqa: F401 (fixtures shared with the disposition tests)
    _fast_password_hashing,
    category,
    checklist,
    config,
    make_inspected,
    partner,
    rules,
)


@pytest.fixture
def supervisor_client(client, supervisor, station):
    return client_at_station(client, supervisor, station)
