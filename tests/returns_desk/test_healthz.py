"""The health view: load balancers (and the benchmark's ceiling) call it without a login."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_a_login_or_a_query(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert len(queries) == 0


def test_healthz_refuses_a_post(client):
    assert client.post("/healthz").status_code == 405
