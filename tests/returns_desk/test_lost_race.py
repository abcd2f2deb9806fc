"""A write that meets another station's at the same rows: a 409 that says so, nothing saved.

PostgreSQL aborts one of two deadlocked transactions, and SQLite gives up after its busy
timeout; either reached the clerk as a 500 before. Here the database's error is raised from
inside the service's transaction, where a real one would come from.
"""

import json

import psycopg
import pytest
from django.db import OperationalError

from returns_desk import services
from tests.factories import ProductFactory, make_rma, open_parcel
from tests.returns_desk.helpers import raising, receiving_counts

pytestmark = pytest.mark.django_db

SAID = "Another station changed this at the same moment, so nothing was saved. Try again."
HX = {"HTTP_HX_REQUEST": "true"}


LOST_RACES = [
    pytest.param("deadlock detected", psycopg.errors.DeadlockDetected(), id="pg-deadlock"),
    pytest.param("could not serialize", psycopg.errors.SerializationFailure(), id="pg-serial"),
    pytest.param("lock timeout", psycopg.errors.LockNotAvailable(), id="pg-lock-timeout"),
    pytest.param("database is locked", None, id="sqlite-busy"),
]


@pytest.fixture
def parcel_open(clerk, station):
    rma = make_rma((ProductFactory(sku="KETTLE"), 2), number="RMA-1")
    return open_parcel(rma, station, clerk)


@pytest.mark.parametrize(("message", "cause"), LOST_RACES)
def test_a_scan_that_lost_a_race_is_refused_with_409_and_saves_nothing(
    clerk_client, parcel_open, monkeypatch, message, cause
):
    before = receiving_counts()
    # Fails after the unit's row is written, inside the scan's transaction.
    monkeypatch.setattr(services, "record_event", raising(message, cause))

    response = clerk_client.post("/receiving/scan/", {"code": "KETTLE"}, **HX)

    assert response.status_code == 409
    assert response["HX-Reswap"] == "none"
    assert json.loads(response["HX-Trigger-After-Settle"]) == {"requestFailed": {"message": SAID}}
    assert receiving_counts() == before


def test_the_same_scan_again_goes_through(clerk_client, parcel_open, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(
            services, "record_event", raising("deadlock", psycopg.errors.DeadlockDetected())
        )
        assert clerk_client.post("/receiving/scan/", {"code": "KETTLE"}, **HX).status_code == 409

    response = clerk_client.post("/receiving/scan/", {"code": "KETTLE"}, **HX)

    assert response.status_code == 200
    assert parcel_open.items.count() == 1


def test_without_htmx_the_page_says_nothing_was_saved(clerk_client, parcel_open, monkeypatch):
    monkeypatch.setattr(
        services, "record_event", raising("deadlock", psycopg.errors.DeadlockDetected())
    )

    response = clerk_client.post("/receiving/scan/", {"code": "KETTLE"})

    assert response.status_code == 409
    assert f'role="alert">{SAID}</p>' in response.text.replace("\n", "")


def test_any_other_database_failure_is_not_called_a_race(clerk_client, parcel_open, monkeypatch):
    broken = raising("server closed the connection unexpectedly", psycopg.OperationalError())
    monkeypatch.setattr(services, "record_event", broken)

    with pytest.raises(OperationalError, match="server closed"):
        clerk_client.post("/receiving/scan/", {"code": "KETTLE"}, **HX)
