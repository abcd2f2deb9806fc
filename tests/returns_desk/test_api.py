"""The JSON API's contract: authentication, scopes, each endpoint and each error."""

import json
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from returns_desk import apikeys, services
from returns_desk.facts import register_unit_facts, unregister_unit_facts
from returns_desk.models import ApiKey, IdempotencyRecord, ReturnAuthorization, TrackingNumber
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    make_rma,
    open_parcel,
)
from tests.returns_desk.helpers import raising

pytestmark = pytest.mark.django_db

RMAS = "/api/v1/rmas"


@pytest.fixture(autouse=True)
def _reference_data(db, settings):
    settings.API_CHANGES_SETTLE_SECONDS = 0
    program = ProgramFactory()
    PolicyFactory().programs.add(program)
    ReasonFactory(code="defect", name="Defective")
    ProductFactory(sku="EL-KTL-17", name="Electric kettle")


@pytest.fixture
def write_key():
    return apikeys.issue_key(name="Web shop", scope=ApiKey.Scope.WRITE)[1]


@pytest.fixture
def read_key():
    return apikeys.issue_key(name="BI", scope=ApiKey.Scope.READ)[1]


def auth(key: str, **headers) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", **headers}


def new_rma(**fields) -> dict:
    return {
        "number": "RMA-9001",
        "program": "customer-return",
        "customer_name": "Olga Nowak",
        "customer_email": "olga@example.com",
        "tracking_numbers": ["JD0001"],
        "lines": [{"sku": "EL-KTL-17", "quantity": 2, "reason": "defect", "price_paid": "39.00"}],
        **fields,
    }


def post(client, key, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(RMAS, data, content_type="application/json", **auth(key, **headers))


# --- keys and scopes ----------------------------------------------------------------------------


def test_a_key_is_stored_only_as_a_hash_of_itself():
    key, raw = apikeys.issue_key(name="Web shop")

    key.refresh_from_db()
    assert raw.startswith(f"rd_{key.prefix}_")
    assert raw not in json.dumps([str(value) for value in vars(key).values()])
    assert key.hashed_key == apikeys.hash_key(raw)


def test_no_key_is_answered_401(client):
    response = client.get(f"{RMAS}/RMA-1")

    assert response.status_code == 401


def test_an_unknown_key_is_answered_401(client, write_key):
    tampered = write_key[:-4] + "AAAA"

    assert client.get(f"{RMAS}/RMA-1", **auth(tampered)).status_code == 401
    assert client.get(f"{RMAS}/RMA-1", **auth("rd_nothing")).status_code == 401
    assert client.get(f"{RMAS}/RMA-1", **auth("rd_\x00_x")).status_code == 401


def test_a_revoked_key_is_answered_401(client, write_key):
    ApiKey.objects.update(revoked_at=timezone.now())

    assert client.get(f"{RMAS}/RMA-1", **auth(write_key)).status_code == 401


def test_a_read_key_cannot_create_an_rma(client, read_key):
    response = post(client, read_key, new_rma())

    assert response.status_code == 403
    assert not ReturnAuthorization.objects.exists()


def test_using_a_key_records_when_it_was_last_used(client, read_key):
    client.get(f"{RMAS}/RMA-1", **auth(read_key))

    assert ApiKey.objects.get().last_used_at is not None


def test_the_api_needs_no_login_or_csrf_token(read_key):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(RMAS, "{}", content_type="application/json", **auth(read_key))

    assert response.status_code == 403  # the read scope refuses it, not CSRF or the login


# --- create -------------------------------------------------------------------------------------


def test_create_rma_authorises_the_return_with_its_lines(client, write_key):
    response = post(client, write_key, new_rma())

    assert response.status_code == 201
    body = response.json()
    assert body["number"] == "RMA-9001"
    assert body["status"] == "authorised"
    assert body["policy"] == "Standard 30 days"
    assert body["tracking_numbers"] == ["JD0001"]
    assert body["lines"][0]["sku"] == "EL-KTL-17"
    assert body["lines"][0]["quantity_expected"] == 2
    rma = ReturnAuthorization.objects.get(number="RMA-9001")
    assert rma.lines.get().price_paid == 39
    assert rma.expires_on == rma.issued_on + timedelta(days=30)


def test_a_retried_create_with_its_idempotency_key_returns_the_first_answer(client, write_key):
    first = post(client, write_key, new_rma(), HTTP_IDEMPOTENCY_KEY="order-77-return")
    again = post(client, write_key, new_rma(), HTTP_IDEMPOTENCY_KEY="order-77-return")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert ReturnAuthorization.objects.count() == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(client, write_key):
    post(client, write_key, new_rma(), HTTP_IDEMPOTENCY_KEY="k1")
    response = post(client, write_key, new_rma(number="RMA-9002"), HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 422
    assert not ReturnAuthorization.objects.filter(number="RMA-9002").exists()


def test_a_failed_create_stores_no_idempotent_answer(client, write_key):
    post(client, write_key, new_rma(program="nope"), HTTP_IDEMPOTENCY_KEY="k2")

    assert not IdempotencyRecord.objects.exists()
    assert post(client, write_key, new_rma(), HTTP_IDEMPOTENCY_KEY="k2").status_code == 201


def test_a_second_create_of_the_same_number_is_a_conflict(client, write_key):
    post(client, write_key, new_rma())
    response = post(client, write_key, new_rma(tracking_numbers=[]))

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_a_tracking_number_of_another_rma_is_a_conflict(client, write_key):
    post(client, write_key, new_rma())
    response = post(client, write_key, new_rma(number="RMA-9002"))

    assert response.status_code == 409
    assert not ReturnAuthorization.objects.filter(number="RMA-9002").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": ""}, "number"),
        ({"number": "X" * 41}, "number"),
        ({"customer_email": "not-an-address"}, "customer_email"),
        ({"customer_name": "A\x00B"}, "customer_name"),
        ({"issued_on": "2026-02-30"}, "issued_on"),
        ({"issued_on": "9999-12-31"}, "issued_on"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "EL-KTL-17", "quantity": 0, "reason": "defect"}]}, "lines.0.quantity"),
        (
            {"lines": [{"sku": "EL-KTL-17", "quantity": "two", "reason": "defect"}]},
            "lines.0.quantity",
        ),
        ({"lines": [{"sku": "NOPE", "reason": "defect"}]}, "lines.0.sku"),
        ({"lines": [{"sku": "EL-KTL-17", "reason": "bored"}]}, "lines.0.reason"),
        (
            {"lines": [{"sku": "EL-KTL-17", "reason": "defect", "price_paid": "-1"}]},
            "lines.0.price_paid",
        ),
        ({"program": "nope"}, "program"),
        ({"policy": "No such policy"}, "policy"),
    ],
)
def test_invalid_input_is_answered_400_naming_the_field(client, write_key, change, field):
    response = post(client, write_key, new_rma(**change))

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ReturnAuthorization.objects.exists()


def test_a_serial_on_a_line_of_several_units_is_refused_naming_the_line(client, write_key):
    lines = [
        {"sku": "EL-KTL-17", "quantity": 1, "reason": "defect", "serial_number": "sn-1"},
        {"sku": "EL-KTL-17", "quantity": 2, "reason": "defect", "serial_number": "sn-2"},
    ]

    response = post(client, write_key, new_rma(lines=lines), HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "lines.1.serial_number": [
            "Serial number SN-2 names one unit, but the line expects 2. Give each serial its"
            " own line of quantity 1."
        ]
    }
    assert not ReturnAuthorization.objects.exists()


@pytest.mark.parametrize("body", ["{", "[1, 2]", "null", "\xff\xfe", "[" * 50_000, '"x"'])
def test_a_body_that_is_not_an_rma_is_answered_400(client, write_key, body):
    assert post(client, write_key, body).status_code == 400


def test_an_oversized_body_is_answered_413(client, write_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = new_rma(customer_name="x" * 20_000)

    assert post(client, write_key, body).status_code == 413


# --- read ---------------------------------------------------------------------------------------


def test_read_rma_returns_its_lines_and_status(client, read_key):
    make_rma((ProductFactory(sku="AP-TEE-S"), 3), number="RMA-7")

    response = client.get(f"{RMAS}/rma-7", **auth(read_key))

    assert response.status_code == 200
    assert response.json()["number"] == "RMA-7"
    assert response.json()["lines"][0]["quantity_expected"] == 3


def test_read_rma_lists_its_units_in_the_order_they_were_received(
    client, read_key, station, clerk, django_assert_num_queries
):
    kettle = ProductFactory(sku="EL-KTL-9")
    rma = make_rma((kettle, 3), number="RMA-8")
    parcel = open_parcel(rma, station, clerk)
    first, _ = services.receive_unit(parcel=parcel, code="EL-KTL-9", station=station, user=clerk)
    client.get(f"{RMAS}/RMA-8", **auth(read_key))  # the key's first use is recorded once

    with django_assert_num_queries(6) as one_unit:
        body = client.get(f"{RMAS}/RMA-8", **auth(read_key)).json()
    for _ in range(2):
        services.receive_unit(parcel=parcel, code="EL-KTL-9", station=station, user=clerk)
    with django_assert_num_queries(len(one_unit)):
        three = client.get(f"{RMAS}/RMA-8", **auth(read_key)).json()

    [unit] = body["units"]
    received_at = unit.pop("received_at")
    assert unit == {
        "lpn": first.lpn,
        "status": "received",
        "sku": "EL-KTL-9",
        "serial_number": "",
        "rma_line": 1,
    }
    assert received_at.startswith(f"{first.received_at:%Y-%m-%dT%H:%M:%S}")
    assert [unit["lpn"] for unit in three["units"]][0] == first.lpn
    assert len(three["units"]) == 3 and three["lines"][0]["quantity_received"] == 3


def test_an_unknown_rma_is_answered_404(client, read_key):
    assert client.get(f"{RMAS}/RMA-404", **auth(read_key)).status_code == 404
    assert client.get(f"{RMAS}/{'9' * 5000}", **auth(read_key)).status_code == 404


def test_the_change_feed_pages_through_rmas_in_the_order_they_changed(
    client, read_key, django_assert_max_num_queries
):
    for n in range(5):
        make_rma((ProductFactory(), 1), number=f"RMA-F{n}")
    ReturnAuthorization.objects.filter(number="RMA-F0").update(
        updated_at=timezone.now() + timedelta(seconds=-1), status="received"
    )
    ReturnAuthorization.objects.get(number="RMA-F0").save()  # changed last

    with django_assert_max_num_queries(8):
        first = client.get(RMAS, {"limit": 3}, **auth(read_key)).json()
    second = client.get(RMAS, {"limit": 3, "cursor": first["next_cursor"]}, **auth(read_key))
    third = client.get(RMAS, {"cursor": second.json()["next_cursor"]}, **auth(read_key)).json()

    numbers = [rma["number"] for rma in first["items"] + second.json()["items"]]
    assert numbers == ["RMA-F1", "RMA-F2", "RMA-F3", "RMA-F4", "RMA-F0"]
    assert third == {"items": [], "next_cursor": second.json()["next_cursor"]}


def test_the_change_feed_leaves_the_last_seconds_for_the_next_poll(client, read_key, settings):
    settings.API_CHANGES_SETTLE_SECONDS = 60
    make_rma((ProductFactory(), 1))

    assert client.get(RMAS, **auth(read_key)).json()["items"] == []


@pytest.mark.parametrize("cursor", ["garbage", "Zm9vfGJhcg==", "MjAyNi0wMS0wMXwx"])
def test_a_cursor_the_api_did_not_give_is_answered_400(client, read_key, cursor):
    response = client.get(RMAS, {"cursor": cursor}, **auth(read_key))

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_a_page_size_out_of_range_is_answered_400(client, read_key):
    assert client.get(RMAS, {"limit": 0}, **auth(read_key)).status_code == 400
    assert client.get(RMAS, {"limit": 10_000}, **auth(read_key)).status_code == 400


def test_read_unit_shows_status_history_and_facts_of_later_apps(client, read_key, station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 1))
    item, _ = services.receive_unit(
        parcel=open_parcel(rma, station, clerk), code=product.sku, station=station, user=clerk
    )

    def grade(items):
        return {item.pk: {"grade": {"code": "B", "name": "good"}} for item in items}

    register_unit_facts(grade)
    try:
        response = client.get(f"/api/v1/units/{item.lpn.lower()}", **auth(read_key))
    finally:
        unregister_unit_facts(grade)

    assert response.status_code == 200
    body = response.json()
    assert body["lpn"] == item.lpn
    assert body["status"] == "received"
    assert body["rma"] == rma.number
    assert body["grade"] == {"code": "B", "name": "good"}
    assert body["refund"] is None
    assert [event["action"] for event in body["history"]] == ["received"]
    assert "user" not in body["history"][0] and "station" not in body["history"][0]


def test_an_unknown_unit_is_answered_404(client, read_key):
    assert client.get("/api/v1/units/LPN-404", **auth(read_key)).status_code == 404


# --- the OpenAPI document -------------------------------------------------------------------------


def test_the_openapi_document_describes_every_endpoint_and_error(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    operations = {
        (path, method): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == {
        ("/api/v1/rmas", "post"),
        ("/api/v1/rmas", "get"),
        ("/api/v1/rmas/{number}", "get"),
        ("/api/v1/rmas/{number}/cancel", "post"),
        ("/api/v1/units/{lpn}", "get"),
    }
    for operation in operations.values():
        assert {"400", "401", "403", "404"} <= set(operation["responses"])
    assert {"201", "409", "413", "422"} <= set(operations["/api/v1/rmas", "post"]["responses"])
    assert {"200", "409", "422"} <= set(
        operations["/api/v1/rmas/{number}/cancel", "post"]["responses"]
    )


def test_a_write_that_lost_a_race_is_409_and_the_same_idempotent_request_then_succeeds(
    client, write_key, monkeypatch
):
    key = {"HTTP_IDEMPOTENCY_KEY": "order-77"}
    with monkeypatch.context() as patched:
        # Fails after the RMA and its lines are written, inside the same transaction.
        patched.setattr(
            TrackingNumber.objects,
            "bulk_create",
            raising("deadlock", psycopg.errors.DeadlockDetected()),
        )
        refused = post(client, write_key, new_rma(), **key)

    assert refused.status_code == 409
    assert "nothing was saved" in refused.json()["detail"]
    assert not ReturnAuthorization.objects.exists()
    assert not IdempotencyRecord.objects.exists()

    assert post(client, write_key, new_rma(), **key).status_code == 201
    assert ReturnAuthorization.objects.get().number == "RMA-9001"
