"""The customer's side: the public tracking page (their e-mails: test_customer_emails.py)."""

import re

import pytest
from django.db import transaction
from django.test import Client

from returns_desk import services
from tests.factories import ProductFactory, make_rma, open_parcel
from tests.returns_desk.helpers import parked_kettles_one_being_inspected

pytestmark = pytest.mark.django_db

TRACK = "/track/"


@pytest.fixture
def received(station, clerk):
    """An RMA of two kettles with one received, and the unit."""
    product = ProductFactory(name="Electric kettle", unit_value="39.00")
    rma = make_rma((product, 2), number="RMA-5001", customer_email="olga@example.com")
    item, _ = services.receive_unit(
        parcel=open_parcel(rma, station, clerk), code=product.sku, station=station, user=clerk
    )
    return rma, item


def look_up(client, number, email, **extra):
    return client.post(TRACK, {"number": number, "email": email}, **extra)


def without_tokens_and_input(html: str) -> str:
    """The page minus what differs on every response (CSRF token, CSP nonce) and the input."""
    return re.sub(r'(value=|nonce=|X-CSRFToken": )"[^"]+"', "", html)


# --- the tracking page --------------------------------------------------------------------------


def test_the_tracking_page_needs_no_login(client):
    response = client.get(TRACK)

    assert response.status_code == 200
    assert "Return number" in response.text


def test_the_right_number_and_email_show_the_timeline_in_plain_words(client, received):
    response = look_up(client, "rma-5001", "Olga@Example.com")

    assert response.status_code == 200
    assert "We have received part of your return." in response.text
    assert "We received your parcel." in response.text
    assert "We checked in Electric kettle." in response.text


def test_the_timeline_tells_nothing_of_the_warehouse_inside(client, received, station, clerk):
    rma, item = received
    with transaction.atomic():
        services.record_event(
            item=item, action="inspected", user=clerk, station=station, details={"grade": "C"}
        )
        services.record_event(
            item=item,
            action="refund_released",
            user=clerk,
            station=station,
            details={"amount": "35.10", "treatment": "minus_fee"},
        )

    text = look_up(client, rma.number, rma.customer_email).text

    assert "We inspected Electric kettle." in text
    assert "Your refund for Electric kettle has been released." in text
    for secret in [
        station.code,
        clerk.username,
        clerk.first_name,
        "35.10",
        "39.00",
        "19.99",
        item.lpn,
        "grade",
    ]:
        assert secret not in text


def test_a_wrong_item_sent_back_reads_as_not_accepted_after_its_check_in(
    client, station, clerk, supervisor
):
    scarf = ProductFactory(name="Blue scarf")
    rma = make_rma((ProductFactory(), 1), number="RMA-5003", customer_email="olga@example.com")
    item, _ = services.receive_exception_unit(
        parcel=open_parcel(rma, station, clerk),
        code=scarf.sku,
        kind="wrong_item",
        station=station,
        user=clerk,
    )

    services.refuse_exception(exception=item.exceptions.get(), reason="not ours", user=supervisor)

    text = look_up(client, rma.number, "olga@example.com").text
    checked_in = text.index("We checked in Blue scarf.")
    sent_back = text.index("We could not accept Blue scarf and are sending it back to you.")
    assert checked_in < sent_back
    assert "not ours" not in text


def test_a_refused_parcel_and_its_units_read_as_sent_back_and_a_written_off_one_as_such(
    client, station, clerk, supervisor
):
    kettle = ProductFactory(name="Electric kettle")
    returns = {
        resolve: make_rma((kettle, 1), customer_email="olga@example.com")
        for resolve in (services.refuse_exception, services.write_off_exception)
    }
    for resolve, rma in returns.items():
        parcel = open_parcel(rma, station, clerk)
        services.receive_unit(parcel=parcel, code=kettle.sku, station=station, user=clerk)
        services.park_parcel(parcel=parcel, station=station, user=clerk, reason="leaking")
        resolve(exception=parcel.exceptions.get(), reason="leaking", user=supervisor)

    refused = look_up(client, returns[services.refuse_exception].number, "olga@example.com")
    written_off = look_up(
        client, returns[services.write_off_exception].number, "olga@example.com"
    ).text

    assert "We could not accept your parcel and are sending it back to you." in refused.text
    assert "We could not accept Electric kettle and are sending it back to you." in refused.text
    assert "We could not accept your parcel, and it will not be sent back to you." in written_off
    assert "We could not accept Electric kettle, and it will not be sent back to" in written_off


def test_a_refused_parcel_whose_units_went_on_in_part_does_not_read_as_sent_back_whole(
    client, station, clerk, supervisor, inspection_station
):
    parcel, _, _ = parked_kettles_one_being_inspected(
        station=station,
        clerk=clerk,
        inspecting_at=inspection_station,
        customer_email="olga@example.com",
    )
    rma = parcel.rma
    services.refuse_exception(exception=parcel.exceptions.get(), reason="odd", user=supervisor)

    text = look_up(client, rma.number, "olga@example.com").text

    assert "We could not accept your parcel" not in text
    assert text.count("We could not accept Electric kettle and are sending it back to you.") == 1


def test_a_wrong_number_and_a_wrong_email_get_the_same_answer(client, received):
    wrong_number = look_up(client, "RMA-5002", "olga@example.com")
    wrong_email = look_up(client, "RMA-5001", "someone@example.com")

    assert wrong_number.status_code == wrong_email.status_code == 404
    assert without_tokens_and_input(wrong_number.text) == without_tokens_and_input(wrong_email.text)
    assert "could not find a return with this number and e-mail address" in wrong_number.text


@pytest.mark.parametrize(
    ("number", "email"),
    [("", "a@example.com"), ("RMA-1", "nope"), ("X" * 5000, "a@example.com"), ("A\x00", "a@b.c")],
)
def test_bad_input_is_refused_without_an_error_page(client, number, email):
    assert look_up(client, number, email).status_code == 400


def test_lookups_of_one_rma_are_limited_whichever_address_they_come_from(client, settings):
    settings.TRACK_RATE_PER_RMA = 3
    for n in range(3):
        look_up(client, "RMA-5001", f"guess{n}@example.com", REMOTE_ADDR=f"10.0.0.{n}")

    response = look_up(client, "RMA-5001", "guess9@example.com", REMOTE_ADDR="10.0.0.9")

    assert response.status_code == 429
    assert "Too many attempts" in response.text


def test_lookups_from_one_address_are_limited(client, settings, received):
    settings.TRACK_RATE_PER_IP = 2
    look_up(client, "RMA-1", "a@example.com")
    look_up(client, "RMA-2", "a@example.com")

    # Even the right answer waits once the address has used up its lookups.
    response = look_up(client, "RMA-5001", "olga@example.com")

    assert response.status_code == 429
    assert "Electric kettle" not in response.text


def test_the_proxy_header_names_the_client_when_configured(client, settings):
    settings.TRACK_RATE_PER_IP = 1
    settings.TRACK_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    look_up(client, "RMA-1", "a@example.com", HTTP_X_FORWARDED_FOR="1.1.1.1")

    other_client = look_up(client, "RMA-2", "a@example.com", HTTP_X_FORWARDED_FOR="2.2.2.2")

    assert other_client.status_code == 404


def test_the_tracking_form_is_csrf_protected(received):
    client = Client(enforce_csrf_checks=True)

    assert look_up(client, "RMA-5001", "olga@example.com").status_code == 403
