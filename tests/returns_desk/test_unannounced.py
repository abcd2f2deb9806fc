"""A parcel that comes without an RMA, under a program whose policy requires none: the carrier's
undeliverable parcels, devices dropped off for take-back. The desk authorises it on the spot."""

import pytest

from returns_desk import integrity, services
from returns_desk.exceptions import NoPolicy, SerialRequired, UnknownCode
from returns_desk.models import (
    ItemEvent,
    Parcel,
    ReturnAuthorization,
    ReturnItem,
    RMALine,
)
from tests.conftest import client_at_station
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    make_rma,
)

pytestmark = pytest.mark.django_db

DESK = "/receiving/"
UNANNOUNCED = "/receiving/unannounced/"


@pytest.fixture
def returned_to_sender():
    program = ProgramFactory(code="delivery-failure", name="Delivery failure")
    PolicyFactory(name="Return to sender", rma_required=False).programs.add(program)
    return program


@pytest.fixture
def customer_return():
    """A program whose policy requires an RMA, as every policy does unless told otherwise."""
    program = ProgramFactory()
    PolicyFactory(name="Standard 30 days").programs.add(program)
    return program


@pytest.fixture
def undeliverable():
    return ReasonFactory(code="undeliverable", name="Undeliverable")


@pytest.fixture
def kettle():
    return ProductFactory(sku="EL-KTL-17", name="Electric kettle", gtin="5012345000059")


def open_unannounced(station, clerk, program, reason, code="JD000123GB"):
    return services.receive_without_rma(
        code=code, program=program, reason=reason, station=station, user=clerk
    )


def scan_unit(parcel, station, clerk, code, serial=""):
    item, _ = services.receive_unit(
        parcel=parcel, code=code, serial=serial, station=station, user=clerk
    )
    return item


def test_an_unknown_parcel_is_authorised_on_the_spot_under_its_program(
    returned_to_sender, undeliverable, station, clerk
):
    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)

    rma = parcel.rma
    assert parcel.status == Parcel.Status.OPEN
    assert rma.number == f"UNANNOUNCED-{parcel.pk:06d}"
    assert (rma.program, rma.policy.name) == (returned_to_sender, "Return to sender")
    assert rma.unannounced_reason == undeliverable
    assert list(rma.tracking.values_list("number", flat=True)) == ["JD000123GB"]
    opened = ItemEvent.objects.get(parcel=parcel, action="parcel_received")
    assert opened.details["without_rma"] is True
    assert opened.details["reason"] == "undeliverable"


def test_each_unit_scanned_is_added_to_the_return(
    returned_to_sender, undeliverable, station, clerk, kettle
):
    jacket = ProductFactory(sku="AP-JKT-M")
    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)

    units = [
        scan_unit(parcel, station, clerk, "EL-KTL-17"),
        scan_unit(parcel, station, clerk, "AP-JKT-M"),
        scan_unit(parcel, station, clerk, "5012345000059"),  # the kettle's GTIN
    ]

    lines = RMALine.objects.filter(rma=parcel.rma).order_by("line_no")
    assert [(line.line_no, line.product.sku, line.quantity_expected) for line in lines] == [
        (1, "EL-KTL-17", 2),
        (2, "AP-JKT-M", 1),
    ]
    assert all(line.quantity_received == line.quantity_expected for line in lines)
    assert all(line.reason == undeliverable for line in lines)
    assert [unit.rma for unit in units] == [parcel.rma] * 3
    assert [unit.reason for unit in units] == [undeliverable] * 3
    assert {unit.product for unit in units} == {kettle, jacket}
    parcel.rma.refresh_from_db()
    assert parcel.rma.status == ReturnAuthorization.Status.RECEIVED
    assert list(integrity.received_counts_match_units()) == []


def test_a_serialised_product_asks_for_its_serial_before_it_is_added(
    returned_to_sender, undeliverable, station, clerk
):
    ProductFactory(sku="EL-PHN-X12", serialised=True)
    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)

    with pytest.raises(SerialRequired):
        scan_unit(parcel, station, clerk, "EL-PHN-X12")
    assert not RMALine.objects.filter(rma=parcel.rma).exists()

    phone = scan_unit(parcel, station, clerk, "EL-PHN-X12", serial="SN-1")
    assert phone.serial_number == "SN-1"
    assert RMALine.objects.get(rma=parcel.rma).quantity_expected == 1


def test_a_code_that_is_no_product_adds_nothing(returned_to_sender, undeliverable, station, clerk):
    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)

    with pytest.raises(UnknownCode, match="NOT-A-SKU"):
        scan_unit(parcel, station, clerk, "NOT-A-SKU")

    assert not RMALine.objects.exists()
    assert not ReturnItem.objects.exists()


def test_a_program_whose_policy_requires_an_rma_is_refused_and_nothing_is_made(
    customer_return, undeliverable, station, clerk
):
    with pytest.raises(NoPolicy, match="need an RMA"):
        open_unannounced(station, clerk, customer_return, undeliverable)

    assert not Parcel.objects.exists()
    assert not ReturnAuthorization.objects.exists()


def test_the_same_box_scanned_again_is_the_same_return(
    returned_to_sender, undeliverable, station, clerk, kettle
):
    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)
    assert open_unannounced(station, clerk, returned_to_sender, undeliverable) == parcel
    scan_unit(parcel, station, clerk, "EL-KTL-17")
    services.close_parcel(parcel=parcel, station=station, user=clerk)

    # A second box under the same carrier label: it opens against the same return.
    again = services.receive_parcel(code="JD000123GB", station=station, user=clerk)
    scan_unit(again, station, clerk, "EL-KTL-17")

    assert again.pk != parcel.pk and again.rma == parcel.rma
    assert ReturnAuthorization.objects.count() == 1
    assert RMALine.objects.get().quantity_expected == 2


def test_a_code_that_matches_an_rma_is_received_against_it(
    returned_to_sender, undeliverable, station, clerk, kettle
):
    rma = make_rma((kettle, 1), number="RMA-1")

    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable, code="RMA-1")

    assert parcel.rma == rma
    assert ReturnAuthorization.objects.count() == 1


# The receiving desk ---------------------------------------------------------------------------


def desk_client(client, clerk, station):
    return client_at_station(client, clerk, station)


def test_the_desk_offers_it_for_an_unknown_code_with_only_the_programs_that_allow_it(
    client, clerk, station, returned_to_sender, customer_return, undeliverable
):
    desk_client(client, clerk, station)

    answer = client.post(f"{DESK}scan/", {"code": "JD000123GB"})

    page = answer.content.decode()
    assert answer.status_code == 404
    assert "Receive without an RMA" in page
    offer = page[page.index('id="unannounced-offer"') :]
    offer = offer[: offer.index("</form>")]
    assert "Delivery failure" in offer
    assert "Customer return" not in offer
    assert 'name="code" value="JD000123GB"' in offer


def test_the_desk_does_not_offer_it_where_every_policy_requires_an_rma(
    client, clerk, station, customer_return
):
    desk_client(client, clerk, station)

    page = client.post(f"{DESK}scan/", {"code": "JD000123GB"}).content.decode()

    assert "Park as exception" in page
    assert "Receive without an RMA" not in page


def test_receiving_it_opens_the_parcel_and_the_next_offer_remembers_the_choice(
    client, clerk, station, returned_to_sender, undeliverable, kettle
):
    ReasonFactory(code="another", name="Another reason")
    desk_client(client, clerk, station)

    answer = client.post(
        UNANNOUNCED,
        {
            "code": "JD000123GB",
            "program": returned_to_sender.pk,
            "reason": undeliverable.pk,
            "packaging": "damaged",
        },
    )

    assert answer.status_code == 200
    assert "Receiving without an RMA as Delivery failure" in answer.content.decode()
    parcel = Parcel.objects.get()
    assert parcel.packaging == "damaged"
    scanned = client.post(f"{DESK}scan/", {"code": "EL-KTL-17", "parcel_shown": parcel.pk})
    assert "Received LPN-" in scanned.content.decode()
    assert "EL-KTL-17" in scanned.content.decode()
    client.post(f"/receiving/parcels/{parcel.pk}/close/")

    page = client.post(f"{DESK}scan/", {"code": "ANOTHER-BOX"}).content.decode()
    assert f'<option value="{undeliverable.pk}" selected>' in page


@pytest.mark.parametrize(
    "post, status, message",
    [
        ({"code": "JD1", "reason": "undeliverable"}, 422, "Choose the program"),
        ({"code": "JD1", "program": "delivery-failure"}, 422, "Choose why the parcel"),
        ({"code": "", "program": "delivery-failure", "reason": "undeliverable"}, 422, ""),
        (
            {"code": "JD1", "program": "customer-return", "reason": "undeliverable"},
            422,
            "need an RMA",
        ),
    ],
)
def test_bad_input_is_refused_and_makes_nothing(
    client,
    clerk,
    station,
    returned_to_sender,
    customer_return,
    undeliverable,
    post,
    status,
    message,
):
    ids = {"delivery-failure": returned_to_sender.pk, "customer-return": customer_return.pk}
    post = {**post}
    if "program" in post:
        post["program"] = ids[post["program"]]
    if "reason" in post:
        post["reason"] = undeliverable.pk
    desk_client(client, clerk, station)

    answer = client.post(UNANNOUNCED, post)

    assert answer.status_code == status
    assert message in answer.content.decode()
    assert not Parcel.objects.exists()
    assert not ReturnAuthorization.objects.exists()


def test_a_parcel_already_open_is_closed_first(
    client, clerk, station, returned_to_sender, undeliverable, kettle
):
    services.receive_parcel(code=make_rma((kettle, 1)).number, station=station, user=clerk)
    desk_client(client, clerk, station)

    answer = client.post(
        UNANNOUNCED,
        {"code": "JD1", "program": returned_to_sender.pk, "reason": undeliverable.pk},
    )

    assert answer.status_code == 409
    assert "Close this parcel (F9)" in answer.content.decode()
    assert Parcel.objects.count() == 1


def test_the_rma_page_says_the_parcel_came_without_one(
    client, supervisor, station, clerk, returned_to_sender, undeliverable
):
    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)
    client_at_station(client, supervisor, station)

    page = client.get(f"/supervisor/rmas/{parcel.rma.number}/").content.decode()

    assert "The parcel came without one; receiving authorised it. Reason: Undeliverable" in page


def test_the_api_tells_integrations_the_return_came_without_an_rma(
    client, station, clerk, returned_to_sender, undeliverable, kettle
):
    from returns_desk import apikeys
    from returns_desk.models import ApiKey

    parcel = open_unannounced(station, clerk, returned_to_sender, undeliverable)
    scan_unit(parcel, station, clerk, "EL-KTL-17")
    key = apikeys.issue_key(name="ERP", scope=ApiKey.Scope.READ)[1]

    body = client.get(
        f"/api/v1/rmas/{parcel.rma.number}", HTTP_AUTHORIZATION=f"Bearer {key}"
    ).json()

    assert body["received_without_rma"] is True
    assert body["tracking_numbers"] == ["JD000123GB"]
    assert [(line["sku"], line["reason"]) for line in body["lines"]] == [
        ("EL-KTL-17", "undeliverable")
    ]


def test_until_the_clerk_chooses_the_reason_offered_is_not_stated(
    client, clerk, station, returned_to_sender
):
    from returns_desk.models import ReasonCode

    not_stated = ReasonCode.objects.get(code="unspecified")  # made by a migration
    ReasonFactory(code="changed-mind", name="Changed mind")  # first by name
    desk_client(client, clerk, station)

    page = client.post(f"{DESK}scan/", {"code": "JD000123GB"}).content.decode()

    assert f'<option value="{not_stated.pk}" selected>' in page
    assert "Or, if it came back unasked, receive it without an RMA (F6)." in page
