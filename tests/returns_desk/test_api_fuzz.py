"""Schemathesis drives the API from its own OpenAPI document: no input may cause a 5xx.

Bounded (a few dozen examples per operation) so the suite stays quick; run it with more
examples locally with HYPOTHESIS_MAX_EXAMPLES=1000 when the API changes.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from returns_desk import apikeys
from returns_desk.models import ApiKey
from tests.factories import PolicyFactory, ProductFactory, ProgramFactory, ReasonFactory

pytestmark = pytest.mark.django_db
MAX_EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "30"))


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection():
    # As Django's test client does: a request must not close the test's connection (and with
    # it the transaction the test runs in).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def write_key(db):
    # Known reference data, so generated bodies sometimes get past validation to the database.
    PolicyFactory().programs.add(ProgramFactory())
    ReasonFactory(code="defect")
    ProductFactory(sku="SKU1")
    return apikeys.issue_key(name="fuzz", scope=ApiKey.Scope.WRITE)[1]


# The app is built at collection, before the suite turns the HTTPS redirect off: requests say
# they came through the TLS-terminating proxy, as they would in production.
HTTPS = {"X-Forwarded-Proto": "https"}
# Read from the app itself through WSGI, as a client reads it from the server.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), headers=HTTPS
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_any_input_without_a_server_error(case, write_key):
    response = case.call(headers={"Authorization": f"Bearer {write_key}", **HTTPS})

    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
