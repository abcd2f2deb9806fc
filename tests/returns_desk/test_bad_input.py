import uuid

import pytest
from django.urls import reverse

from returns_desk.models import Parcel
from returns_desk.scanning import MAX_CODE_LENGTH, BadScan, parse_scan
from tests.factories import ProductFactory, make_rma, open_parcel
from tests.returns_desk.helpers import receiving_counts

pytestmark = pytest.mark.django_db

SCAN = reverse("receiving:scan")
NOT_A_BARCODE = "characters no barcode has"

# (what arrives, what the clerk reads with no parcel open, ... with a parcel open)
MALFORMED_SCANS = [
    pytest.param("", "Nothing was scanned", "Nothing was scanned", id="empty"),
    pytest.param("  \t  ", "Nothing was scanned", "Nothing was scanned", id="whitespace"),
    pytest.param("A" * 10_000, "10,000 characters long", "10,000 characters long", id="10k"),
    pytest.param("ABC\x00DEF", "Null characters are not allowed", "Null characters", id="nul"),
    pytest.param("📦🔥", NOT_A_BARCODE, NOT_A_BARCODE, id="emoji"),
    pytest.param("Crème brûlée", NOT_A_BARCODE, NOT_A_BARCODE, id="accented"),
    pytest.param("straße", NOT_A_BARCODE, NOT_A_BARCODE, id="upper-cases-to-ascii"),
    pytest.param("RMA-1\nRMA-2", NOT_A_BARCODE, NOT_A_BARCODE, id="two-lines"),
]
BAD_SCANS = [
    *MALFORMED_SCANS,
    # Well-formed, so it is looked up, as a value and never as SQL, and found nowhere.
    pytest.param(
        "'; DROP TABLE returns_desk_returnitem; --",
        "No return authorisation matches",
        "neither a SKU nor a serial number",
        id="sql",
    ),
]


def outcome(response) -> str:
    page = response.content.decode()
    start = page.index('<div id="outcome"')
    return page[start : page.index("</div>", start)]


@pytest.fixture
def rma(db):
    return make_rma((ProductFactory(sku="KETTLE"), 2), number="RMA-1")


@pytest.mark.parametrize(("raw", "message", "_"), BAD_SCANS)
def test_a_bad_parcel_scan_is_refused_with_a_message_and_changes_nothing(
    clerk_client, rma, raw, message, _
):
    before = receiving_counts()

    response = clerk_client.post(SCAN, {"code": raw, "token": str(uuid.uuid4())})

    assert 400 <= response.status_code < 500
    assert message in outcome(response)
    assert receiving_counts() == before


@pytest.mark.parametrize(("raw", "_", "message"), BAD_SCANS)
def test_a_bad_unit_scan_is_refused_with_a_message_and_changes_nothing(
    clerk_client, station, clerk, rma, raw, _, message
):
    open_parcel(rma, station, clerk)
    before = receiving_counts()

    response = clerk_client.post(SCAN, {"code": raw, "token": str(uuid.uuid4())})

    assert 400 <= response.status_code < 500
    assert message in outcome(response)
    assert receiving_counts() == before
    assert "RMA RMA-1" in response.content.decode()  # the parcel stays on screen


@pytest.mark.parametrize(("raw", "_", "message"), MALFORMED_SCANS)
def test_a_bad_serial_scan_is_refused_and_changes_nothing(
    clerk_client, station, clerk, raw, _, message
):
    phone = ProductFactory(sku="PHONE", serialised=True)
    open_parcel(make_rma((phone, 1)), station, clerk)
    before = receiving_counts()

    response = clerk_client.post(SCAN, {"code": raw, "serial_for": "PHONE"})

    assert response.status_code == 422
    assert message in outcome(response)
    assert receiving_counts() == before


def test_a_forged_serial_prompt_is_refused(clerk_client, station, clerk, rma):
    open_parcel(rma, station, clerk)
    before = receiving_counts()

    response = clerk_client.post(SCAN, {"code": "SN-1", "serial_for": "X" * 5_000})

    assert response.status_code == 422
    assert "at most 64 characters" in outcome(response)
    assert receiving_counts() == before


def test_an_unknown_packaging_is_refused(clerk_client, rma):
    response = clerk_client.post(SCAN, {"code": "RMA-1", "packaging": "crushed"})

    assert response.status_code == 422
    assert "Select a valid choice" in outcome(response)
    assert not Parcel.objects.exists()


@pytest.mark.parametrize("token", ["not-a-uuid", "1; DROP TABLE x", "0" * 1_000])
def test_a_garbage_scan_token_is_refused_and_changes_nothing(
    clerk_client, station, clerk, rma, token
):
    open_parcel(rma, station, clerk)
    before = receiving_counts()

    response = clerk_client.post(SCAN, {"code": "KETTLE", "token": token})

    assert response.status_code == 422
    assert "Enter a valid UUID" in outcome(response)
    assert receiving_counts() == before


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"code": "KETTLE", "kind": "wrong_item", "token": "not-a-uuid"}, id="token"),
        pytest.param({"code": "KETTLE", "kind": "lost_and_found"}, id="kind"),
        pytest.param({"code": "", "kind": "wrong_item"}, id="no-code"),
        pytest.param({"code": "ABC\x00", "kind": "wrong_item"}, id="nul"),
        pytest.param({"code": "Z" * 10_000, "kind": "wrong_item"}, id="10k"),
    ],
)
def test_a_bad_exception_unit_is_refused_and_changes_nothing(
    clerk_client, station, clerk, rma, data
):
    parcel = open_parcel(rma, station, clerk)
    before = receiving_counts()

    response = clerk_client.post(reverse("receiving:exception_unit", args=[parcel.pk]), data)

    assert response.status_code == 422
    assert 'data-outcome="error"' in outcome(response)
    assert receiving_counts() == before


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"code": "Q" * 10_000}, id="10k-code"),
        pytest.param({"code": "🚚"}, id="emoji-code"),
        pytest.param({"code": "NOPE", "reason": "r" * 201}, id="long-reason"),
    ],
)
def test_a_bad_park_request_is_refused_and_changes_nothing(clerk_client, data):
    before = receiving_counts()

    response = clerk_client.post(reverse("receiving:park"), data)

    assert response.status_code == 422
    assert 'data-outcome="error"' in outcome(response)
    assert receiving_counts() == before


# --- forged or stale parcel ids -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["receiving:close", "receiving:exception_unit"])
@pytest.mark.parametrize("pk", [999_999, 10**30])
def test_a_parcel_that_does_not_exist_is_not_found(clerk_client, name, pk):
    before = receiving_counts()

    response = clerk_client.post(reverse(name, args=[pk]), {"code": "KETTLE", "kind": "wrong_item"})

    assert response.status_code == 404
    assert receiving_counts() == before


def test_closing_another_stations_parcel_is_refused(clerk_client, clerk, rma, other_station):
    parcel = open_parcel(rma, other_station, clerk)
    before = receiving_counts()

    response = clerk_client.post(reverse("receiving:close", args=[parcel.pk]))

    assert response.status_code == 409
    assert "open at another station" in outcome(response)
    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.OPEN
    assert receiving_counts() == before


def test_labelling_a_unit_into_another_stations_parcel_is_refused(
    clerk_client, clerk, rma, other_station
):
    parcel = open_parcel(rma, other_station, clerk)
    before = receiving_counts()

    response = clerk_client.post(
        reverse("receiving:exception_unit", args=[parcel.pk]),
        {"code": "KETTLE", "kind": "over_receipt", "token": str(uuid.uuid4())},
    )

    assert response.status_code == 409
    assert "open at another station" in outcome(response)
    assert receiving_counts() == before


# --- parse_scan ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("RMA-1", "RMA-1"),
        ("  rma-1 ", "RMA-1"),
        ("rma-1\r\n", "RMA-1"),  # scanners end a read with Enter or Tab
        ("\tjd0002211334455\t", "JD0002211334455"),
        ("5012345678900", "5012345678900"),
        ("A B/C.d-e_f+%$", "A B/C.D-E_F+%$"),
        ("~" * MAX_CODE_LENGTH, "~" * MAX_CODE_LENGTH),
    ],
)
def test_parse_scan_returns_the_canonical_code(raw, code):
    assert parse_scan(raw) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Nothing was scanned"),
        (" \t\r\n", "Nothing was scanned"),
        ("X" * (MAX_CODE_LENGTH + 1), "65 characters long; codes are at most 64"),
        ("A" * 10_000, "10,000 characters long"),
        ("ABC\x00DEF", NOT_A_BARCODE),
        ("ABC\x1bDEF", NOT_A_BARCODE),
        ("DEL\x7f", NOT_A_BARCODE),
        ("📦", NOT_A_BARCODE),
        ("Crème", NOT_A_BARCODE),
        ("straße", NOT_A_BARCODE),  # would upper-case to the ASCII "STRASSE"
        ("ıtem", NOT_A_BARCODE),  # dotless i: would upper-case to "ITEM"
        ("ABC\u00a0DEF", NOT_A_BARCODE),  # a no-break space inside the code
    ],
)
def test_parse_scan_refuses_what_no_barcode_holds(raw, message):
    with pytest.raises(BadScan, match=message):
        parse_scan(raw)
