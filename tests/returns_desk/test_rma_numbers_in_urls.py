"""RMA numbers as other systems write them ("RMA/2025/0001") work on every screen and in the API."""

import json
from urllib.parse import unquote

import pytest
from django.urls import resolve, reverse

from returns_desk import apikeys, services
from returns_desk.models import ApiKey, ReturnAuthorization
from tests.conftest import client_at_station
from tests.factories import PolicyFactory, ProductFactory, ProgramFactory, ReasonFactory

pytestmark = pytest.mark.django_db

# ERP numbering, and the characters a URL gives a meaning of its own.
NUMBERS = ["RMA/2025/0001", "RMA?2025", "RMA#2025", "RMA%2025", "RMA 2025 0001", "RMA/CANCEL/7"]


@pytest.fixture(autouse=True)
def _reference_data(db):
    PolicyFactory().programs.add(ProgramFactory())
    ReasonFactory(code="defect")
    ProductFactory(sku="EL-KTL-17")


@pytest.fixture
def write_key():
    return apikeys.issue_key(name="Web shop", scope=ApiKey.Scope.WRITE)[1]


def create_through_the_api(client, key, number):
    body = {
        "number": number,
        "program": "customer-return",
        "lines": [{"sku": "EL-KTL-17", "quantity": 1, "reason": "defect"}],
    }
    return client.post(
        "/api/v1/rmas", json.dumps(body), content_type="application/json", **auth(key)
    )


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize(
    "name", ["supervisor:rma", "supervisor:rma_cancel", "api:read_rma", "api:cancel_rma"]
)
def test_every_url_naming_an_rma_leads_back_to_that_rma(name, number):
    # The server resolves the path as it arrives, percent-escapes decoded.
    match = resolve(unquote(reverse(name, kwargs={"number": number})))

    assert (match.view_name, match.kwargs["number"]) == (name, number)


@pytest.mark.parametrize("number", NUMBERS)
def test_an_rma_numbered_with_url_characters_can_be_found_cancelled_and_parked(
    client, write_key, supervisor, station, clerk, number
):
    assert create_through_the_api(client, write_key, number).status_code == 201
    read = client.get(reverse("api:read_rma", args=[number]), **auth(write_key))
    assert (read.status_code, read.json()["number"]) == (200, number)

    supervisor_client = client_at_station(client, supervisor, station)
    page = reverse("supervisor:rma", args=[number])
    found = supervisor_client.get(reverse("supervisor:search"), {"q": number})
    assert found.status_code == 302
    assert found.url == page
    assert number in supervisor_client.get(page).text

    cancelled = supervisor_client.post(
        reverse("supervisor:rma_cancel", args=[number]), {"reason": "customer kept it"}
    )
    assert cancelled.status_code == 200
    assert ReturnAuthorization.objects.get(number=number).status == "cancelled"

    # The customer sends it anyway: the parcel waits in the exception queue, linked to its RMA.
    parcel = services.park_unmatched_parcel(code=number, station=station, user=clerk)
    queue = supervisor_client.get(reverse("supervisor:queue", args=["exceptions"]))
    assert queue.status_code == 200
    assert f'href="{page}"' in queue.text
    exception = supervisor_client.get(
        reverse("supervisor:exception", args=[parcel.exceptions.get().pk])
    )
    assert exception.status_code == 200
    assert f'href="{page}"' in exception.text


def test_the_api_cancels_an_rma_numbered_with_a_slash(client, write_key):
    create_through_the_api(client, write_key, "RMA/2025/0002")

    response = client.post(
        reverse("api:cancel_rma", args=["RMA/2025/0002"]),
        json.dumps({"reason": "order cancelled"}),
        content_type="application/json",
        **auth(write_key),
    )

    assert response.status_code == 200
    assert ReturnAuthorization.objects.get(number="RMA/2025/0002").status == "cancelled"


def test_a_unit_of_an_rma_numbered_with_a_slash_links_to_it_in_the_units_register(
    client, write_key, supervisor, station, clerk
):
    create_through_the_api(client, write_key, "RMA/2025/0003")
    rma = ReturnAuthorization.objects.get(number="RMA/2025/0003")
    parcel = services.receive_parcel(code=rma.number, station=station, user=clerk)
    services.receive_unit(parcel=parcel, code="EL-KTL-17", station=station, user=clerk)

    units = client_at_station(client, supervisor, station).get(reverse("supervisor:units"))

    assert units.status_code == 200
    assert f'href="{reverse("supervisor:rma", args=[rma.number])}"' in units.text
