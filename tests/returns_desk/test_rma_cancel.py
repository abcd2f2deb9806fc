"""Cancelling an RMA the customer will not send: the service, the API, the supervisor's page."""

import json

import pytest
from django.urls import reverse

from returns_desk import apikeys, services
from returns_desk.exceptions import ReasonRequired, RmaNotCancellable, RmaNotReceivable
from returns_desk.models import ApiKey, OutboxEvent, Parcel, ReturnAuthorization
from tests.conftest import client_at_station
from tests.factories import ProductFactory, make_rma

pytestmark = pytest.mark.django_db

Status = ReturnAuthorization.Status


@pytest.fixture
def awaited():
    return make_rma((ProductFactory(), 1), number="RMA-7001")


def cancel(rma, reason="customer kept it", by="sam"):
    return services.cancel_rma(rma=rma, reason=reason, cancelled_by=by)


def test_a_cancelled_rma_is_refused_at_receiving_and_tells_the_integrations(
    awaited, station, clerk
):
    rma = cancel(awaited)

    rma.refresh_from_db()
    assert rma.status == Status.CANCELLED
    assert (rma.cancelled_by, rma.cancel_reason) == ("sam", "customer kept it")
    assert rma.cancelled_at is not None
    event = OutboxEvent.objects.get(event_type="rma.cancelled")
    assert event.aggregate_key == "RMA-7001"
    assert event.payload["rma"]["status"] == "cancelled"
    assert event.payload["reason"] == "customer kept it"
    with pytest.raises(RmaNotReceivable, match="cancelled"):
        services.receive_parcel(code="RMA-7001", station=station, user=clerk)
    assert not Parcel.objects.exists()


def test_cancelling_again_changes_nothing(awaited):
    first = cancel(awaited)

    again = cancel(awaited, reason="retry", by="shop")

    assert (again.cancelled_at, again.cancel_reason, again.cancelled_by) == (
        first.cancelled_at,
        "customer kept it",
        "sam",
    )
    assert OutboxEvent.objects.filter(event_type="rma.cancelled").count() == 1


def test_an_rma_a_parcel_arrived_for_cannot_be_cancelled(awaited, station, clerk):
    services.receive_parcel(code="RMA-7001", station=station, user=clerk)

    with pytest.raises(RmaNotCancellable, match=f"arrived at {station.code}"):
        cancel(awaited)

    awaited.refresh_from_db()
    assert awaited.status == Status.AUTHORISED
    assert not OutboxEvent.objects.filter(event_type="rma.cancelled").exists()


def test_a_cancel_needs_a_reason(awaited):
    with pytest.raises(ReasonRequired):
        cancel(awaited, reason="  ")
    awaited.refresh_from_db()
    assert awaited.status == Status.AUTHORISED


# --- the API ------------------------------------------------------------------------------------


def api_cancel(client, number, body, scope=ApiKey.Scope.WRITE):
    key = apikeys.issue_key(name="Web shop", scope=scope)[1]
    return client.post(
        f"/api/v1/rmas/{number}/cancel",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_the_shop_cancels_an_rma_through_the_api(client, awaited):
    response = api_cancel(client, "rma-7001", {"reason": "order cancelled"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "order cancelled")
    assert body["cancelled_at"]
    awaited.refresh_from_db()
    assert awaited.cancelled_by == "API key Web shop"
    # A retry answers the same.
    assert api_cancel(client, "RMA-7001", {"reason": "order cancelled"}).json() == body


@pytest.mark.parametrize(
    ("number", "body", "status"),
    [
        ("RMA-NOPE", {"reason": "x"}, 404),
        ("RMA-7001", {"reason": ""}, 400),
        ("RMA-7001", {}, 400),
        ("RMA-7001", {"reason": "x" * 301}, 400),
        ("RMA-7001", {"reason": "nul\x00"}, 400),
        ("R" * 5000, {"reason": "x"}, 404),
    ],
)
def test_a_bad_cancel_is_refused_and_changes_nothing(client, awaited, number, body, status):
    response = api_cancel(client, number, body)

    assert response.status_code == status
    assert response.json()["detail"]
    awaited.refresh_from_db()
    assert awaited.status == Status.AUTHORISED


def test_a_read_key_cannot_cancel(client, awaited):
    response = api_cancel(client, "RMA-7001", {"reason": "x"}, scope=ApiKey.Scope.READ)

    assert response.status_code == 403
    awaited.refresh_from_db()
    assert awaited.status == Status.AUTHORISED


def test_the_api_says_why_an_arrived_rma_cannot_be_cancelled(client, awaited, station, clerk):
    services.receive_parcel(code="RMA-7001", station=station, user=clerk)

    response = api_cancel(client, "RMA-7001", {"reason": "x"})

    assert response.status_code == 409
    assert "a parcel for it arrived" in response.json()["detail"]


# --- the supervisor's RMA page ------------------------------------------------------------------


def test_a_supervisor_cancels_an_awaited_rma_from_its_page(client, supervisor, station, awaited):
    client = client_at_station(client, supervisor, station)
    page = reverse("supervisor:rma", args=["RMA-7001"])
    assert "Cancel this RMA" in client.get(page).text

    refused = client.post(reverse("supervisor:rma_cancel", args=["RMA-7001"]), {"reason": ""})
    assert refused.status_code == 422
    response = client.post(
        reverse("supervisor:rma_cancel", args=["RMA-7001"]), {"reason": "phoned: keeps it"}
    )

    assert response.status_code == 200
    assert "RMA RMA-7001 is cancelled" in response.text
    assert f"by {supervisor.username}: phoned: keeps it" in response.text
    assert "Cancel this RMA" not in response.text
    awaited.refresh_from_db()
    assert awaited.status == Status.CANCELLED


def test_the_page_of_an_rma_that_arrived_offers_no_cancel(client, supervisor, station, clerk):
    make_rma((ProductFactory(), 1), number="RMA-7002")
    services.receive_parcel(code="RMA-7002", station=station, user=clerk)

    page = client_at_station(client, supervisor, station).get(
        reverse("supervisor:rma", args=["RMA-7002"])
    )

    assert "Cancel this RMA" not in page.text


def test_a_clerk_cannot_cancel_an_rma(clerk_client, awaited):
    response = clerk_client.post(
        reverse("supervisor:rma_cancel", args=["RMA-7001"]), {"reason": "x"}
    )

    assert response.status_code == 403
    awaited.refresh_from_db()
    assert awaited.status == Status.AUTHORISED
