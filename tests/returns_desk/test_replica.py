"""Reports read from the replica when one is configured; pages and actions stay on the primary.

The replica here is a second connection to the test database under the alias "replica", as a
streaming replica is a second server holding what the primary committed. The tests are
transactional for that reason: a row the test's own open transaction wrote is invisible there.
"""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from returns_desk.models import ReturnItem
from returns_desk.replica import REPLICA
from tests.factories import make_unit_at

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

UNITS_READ = 'FROM "returns_desk_returnitem"'


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup):
    """The alias "replica", configured as DATABASE_REPLICA_URL would, on the test database.

    Module-wide, so it exists before a test's database access is set up and checked.
    """
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPLICA] = {**primary, "TEST": {**primary["TEST"], "MIRROR": "default"}}
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica(migration_data_restored):
    return connections[REPLICA]


@pytest.fixture
def waiting_unit(migration_data_restored, station, clerk) -> ReturnItem:
    return make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)


def units_read(queries) -> int:
    return sum(UNITS_READ in query["sql"] for query in queries)


def test_a_queue_export_reads_its_rows_from_the_replica(replica, waiting_unit, client, supervisor):
    client.force_login(supervisor)
    primary = connections[DEFAULT_DB_ALIAS]

    with CaptureQueriesContext(primary) as on_primary, CaptureQueriesContext(replica) as on_replica:
        response = client.get("/supervisor/queues/awaiting_inspection/export.csv")
        rows = list(csv.reader(StringIO(b"".join(response.streaming_content).decode())))

    assert response.status_code == 200
    assert waiting_unit.lpn in [cell for row in rows for cell in row]
    assert units_read(on_replica) == 1
    assert units_read(on_primary) == 0


def test_the_queue_page_itself_reads_the_primary(replica, waiting_unit, client, supervisor):
    """A supervisor who just acted must see the result, which a replica may not hold yet."""
    client.force_login(supervisor)

    with CaptureQueriesContext(replica) as on_replica:
        response = client.get("/supervisor/queues/awaiting_inspection/")

    assert waiting_unit.lpn in response.content.decode()
    assert on_replica.captured_queries == []


def test_check_integrity_reads_the_replica_and_says_so(replica, waiting_unit):
    out = StringIO()

    with CaptureQueriesContext(replica) as on_replica:
        call_command("check_integrity", stdout=out)

    assert "integrity checks passed (read from the database 'replica')" in out.getvalue()
    assert units_read(on_replica) >= 1


def test_check_integrity_on_the_replica_finds_what_the_primary_committed(replica, waiting_unit):
    ReturnItem.objects.filter(pk=waiting_unit.pk).update(status=ReturnItem.Status.INSPECTED)
    out = StringIO()

    with pytest.raises(CommandError, match="read from the database 'replica'"):
        call_command("check_integrity", stdout=out)

    assert waiting_unit.lpn in out.getvalue()
