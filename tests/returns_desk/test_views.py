import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from returns_desk.models import (
    Parcel,
    Program,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
)
from tests.conftest import client_at_station
from tests.factories import PolicyFactory, ProductFactory, UserFactory, make_rma, open_parcel
from tests.returns_desk.helpers import receiving_counts

pytestmark = pytest.mark.django_db

DESK = reverse("receiving:desk")
SCAN = reverse("receiving:scan")
PARK = reverse("receiving:park")


def scan(client, code: str, **data):
    return client.post(SCAN, {"code": code, "token": str(uuid.uuid4()), **data})


def html(response) -> str:
    return response.content.decode()


def outcome(response) -> str:
    """The message the clerk reads after a scan."""
    page = html(response)
    start = page.index('<div id="outcome"')
    return page[start : page.index("</div>", start)]


# --- who may use the desk -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/receiving/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_anonymous_scans_are_sent_to_log_in_and_open_nothing(client):
    make_rma((ProductFactory(), 1), number="RMA-1")

    response = scan(client, "RMA-1")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert not Parcel.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/receiving/"),
        ("post", "/receiving/scan/"),
        ("post", "/receiving/park/"),
        ("post", "/receiving/parcels/1/close/"),
        ("post", "/receiving/parcels/1/exception-units/"),
        ("get", "/receiving/units/LPN-00000001/label/"),
    ],
)
def test_a_user_without_a_role_is_refused_the_receiving_screens(client, station, method, path):
    client_at_station(client, UserFactory(username="norole"), station)

    response = getattr(client, method)(path, {"code": "RMA-1"} if method == "post" else {})

    assert response.status_code == 403
    assert not Parcel.objects.exists()


def test_a_user_without_a_role_is_told_to_ask_for_one(client, station):
    client_at_station(client, UserFactory(username="norole"), station)

    response = client.get("/")

    assert "No role yet" in html(response)


def test_a_clerk_lands_on_the_receiving_desk(clerk_client):
    assert clerk_client.get("/").url == DESK


def test_a_supervisor_may_receive_too(client, supervisor, station):
    client_at_station(client, supervisor, station)

    assert client.get(DESK).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/receiving/scan/",
        "/receiving/park/",
        "/receiving/parcels/1/close/",
        "/receiving/parcels/1/exception-units/",
    ],
)
def test_receiving_actions_refuse_a_get(clerk_client, path):
    assert clerk_client.get(path).status_code == 405


# --- the station --------------------------------------------------------------------------------


def test_the_desk_sends_a_clerk_without_a_station_to_choose_one(client, clerk):
    client.force_login(clerk)

    response = client.get(DESK)

    assert response.status_code == 302
    assert response.url == "/station/?next=/receiving/"


def test_a_scan_without_a_station_is_refused(client, clerk):
    client.force_login(clerk)
    make_rma((ProductFactory(), 1), number="RMA-1")

    response = scan(client, "RMA-1")

    assert response.status_code == 403
    assert "Choose a station first" in outcome(response)
    assert not Parcel.objects.exists()


def test_an_inspection_station_cannot_receive(client, clerk, inspection_station):
    client_at_station(client, clerk, inspection_station)
    make_rma((ProductFactory(), 1), number="RMA-1")

    assert client.get(DESK).url == "/station/?next=/receiving/"
    response = scan(client, "RMA-1")

    assert response.status_code == 403
    assert "INS-01 is not a receiving station" in outcome(response)
    assert not Parcel.objects.exists()


def test_choosing_a_station_keeps_it_and_shows_it_in_the_header(client, clerk, station):
    client.force_login(clerk)

    response = client.post("/station/", {"station": station.pk, "next": DESK})

    assert response.status_code == 302
    assert response.url == DESK
    assert client.session["station_id"] == station.pk
    page = html(client.get(DESK))
    badge = page[page.index('class="station-badge"') :]
    assert "RCV-01" in badge[: badge.index("</a>")]


def test_choosing_a_station_that_does_not_exist_says_so(client, clerk, station):
    client.force_login(clerk)

    response = client.post("/station/", {"station": station.pk + 999})

    assert response.status_code == 422
    assert "That station does not exist or is closed" in html(response)
    assert "station_id" not in client.session


def test_choosing_a_station_never_redirects_off_site(client, clerk, station):
    client.force_login(clerk)

    response = client.post("/station/", {"station": station.pk, "next": "https://evil.example/"})

    assert response.url == "/"


# --- the happy path -----------------------------------------------------------------------------


def test_a_clerk_opens_a_parcel_and_receives_a_unit(clerk_client, clerk, station):
    product = ProductFactory(name="Stand mixer")
    rma = make_rma((product, 2), number="RMA-1")

    opened = scan(clerk_client, "rma-1")

    assert opened.status_code == 200
    assert "RMA RMA-1 (Customer return) open. Scan each unit." in outcome(opened)
    parcel = Parcel.objects.get()
    assert (parcel.rma, parcel.station, parcel.received_by) == (rma, station, clerk)
    assert parcel.status == Parcel.Status.OPEN

    received = scan(clerk_client, product.sku)

    assert received.status_code == 200
    assert f"Received LPN-00000001: {product.sku} Stand mixer." in outcome(received)
    item = ReturnItem.objects.get()
    assert (item.lpn, item.parcel, item.product) == ("LPN-00000001", parcel, product)
    line = rma.lines.get()
    assert line.quantity_received == 1
    page = html(received)
    assert 'data-lpn="LPN-00000001"' in page
    assert "<svg" in page


def test_each_scan_shows_its_unit_counted_on_its_line(clerk_client, station, clerk):
    first, second = ProductFactory(), ProductFactory()
    rma = make_rma((first, 2), (second, 1), number="RMA-1")
    open_parcel(rma, station, clerk)

    once = html(scan(clerk_client, first.sku))

    assert 'data-line="1">1</td>' in once
    assert 'data-line="2">0</td>' in once
    assert f"<td>{rma.lines.get(line_no=1).reason.name}</td>" in once
    assert f"<small>{rma.program.name}</small>" in once

    done = html(scan(clerk_client, second.sku))

    # The line this scan completed is ticked; the other keeps its count.
    assert 'data-line="2">1 <span title="all received">' in done
    assert 'data-line="1">1</td>' in done


def test_a_program_written_without_signals_still_shows_on_the_desk(clerk_client, station, clerk):
    product = ProductFactory()
    open_parcel(make_rma((product, 1), number="RMA-1"), station, clerk)
    scan(clerk_client, product.sku)  # the desk's configuration is now cached
    # As a bulk load or raw SQL would write it: no model signal tells the cache.
    [wholesale] = Program.objects.bulk_create(
        [Program(code="wholesale", name="Wholesale returns", kind=Program.Kind.CUSTOMER_RETURN)]
    )
    open_parcel(make_rma((product, 1), number="RMA-2", program=wholesale), station, clerk)

    response = scan(clerk_client, product.sku)

    assert response.status_code == 200
    assert "<small>Wholesale returns</small>" in html(response)


def test_the_desk_keeps_the_open_parcel_across_a_reload(clerk_client, station, clerk):
    product = ProductFactory(name="Stand mixer")
    open_parcel(make_rma((product, 2), number="RMA-1"), station, clerk)

    page = html(clerk_client.get(DESK))

    assert "RMA RMA-1" in page
    assert "Stand mixer" in page
    assert "Scan a unit" in page


def test_a_late_parcel_is_opened_with_a_warning(clerk_client):
    product = ProductFactory()
    make_rma((product, 1), number="RMA-1", issued_on=timezone.localdate() - timedelta(days=40))

    response = scan(clerk_client, "RMA-1")

    assert response.status_code == 200
    assert "Late: the window closed on" in outcome(response)
    assert Parcel.objects.get().is_late


def test_a_late_parcel_under_a_hold_policy_is_parked(clerk_client):
    hold = PolicyFactory(name="Hold late", late_arrival=ReturnPolicy.LateArrival.HOLD)
    make_rma(
        (ProductFactory(), 1),
        number="RMA-1",
        policy=hold,
        issued_on=timezone.localdate() - timedelta(days=40),
    )

    response = scan(clerk_client, "RMA-1")

    assert response.status_code == 202
    assert "its policy holds late returns" in outcome(response)
    assert Parcel.objects.get().status == Parcel.Status.PARKED
    assert "No parcel open" in html(response)


def test_an_htmx_scan_answers_with_the_desk_partial_only(clerk_client):
    product = ProductFactory()
    make_rma((product, 1), number="RMA-1")
    scan(clerk_client, "RMA-1")

    response = clerk_client.post(
        SCAN, {"code": product.sku, "token": str(uuid.uuid4())}, HTTP_HX_REQUEST="true"
    )

    page = html(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="desk"')
    assert "<html" not in page
    assert 'class="topbar"' not in page
    assert "Received LPN-00000001" in page
    assert "unitReceived" in response["HX-Trigger"]
    assert "HX-Request" in response["Vary"]


def htmx_scan(client, code: str, parcel: Parcel | None, token: str | None = None):
    """A scan from a desk page that shows `parcel` (none: the page shows no parcel)."""
    data = {
        "code": code,
        "token": token or str(uuid.uuid4()),
        "parcel_shown": parcel.pk if parcel else "",
    }
    return client.post(SCAN, data, HTTP_HX_REQUEST="true")


def oob(page: str, element_id: str) -> str:
    """The element an answer sends out of band to replace or fill the one with this id."""
    start = page.index(f'id="{element_id}"')
    tag = page[page.rindex("<", 0, start) : page.index(">", start)]
    assert 'hx-swap-oob="true"' in tag, tag
    return page[start : page.index(f"</{tag[1 : tag.index(' ')]}>", start)]


def test_a_unit_scan_on_a_page_showing_its_parcel_answers_with_what_changed(
    clerk_client, station, clerk, settings
):
    first, second = ProductFactory(name="Stand mixer"), ProductFactory()
    rma = make_rma((first, 2), (second, 1), number="RMA-1")
    parcel = open_parcel(rma, station, clerk)

    response = htmx_scan(clerk_client, first.sku, parcel)

    page = html(response)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#scan-panel"
    assert page.lstrip().startswith('<section id="scan-panel"')
    assert f"Received LPN-00000001: {first.sku} Stand mixer." in outcome(response)
    assert f'name="parcel_shown" value="{parcel.pk}"' in page
    # Out of band: the lines with this unit counted, the parcel's units, the label, and the
    # unit's receipt on top of the station's recent list.
    lines = oob(page, "parcel-lines")
    assert 'data-line="1">1</td>' in lines
    assert 'data-line="2">0</td>' in lines
    assert f"<td>{rma.lines.get(line_no=1).reason.name}</td>" in lines
    assert "Labelled in this parcel (1)" in oob(page, "parcel-units")
    assert 'data-lpn="LPN-00000001"' in oob(page, "label")
    recent = page[page.index('hx-swap-oob="afterbegin:#recent-list"') :]
    assert recent.count("<li>") == 1
    assert "Received" in recent
    assert "LPN-00000001" in recent
    assert clerk.username in recent
    # What the desk shows anyway is not sent again.
    assert 'id="desk"' not in page
    assert "Customer" not in page
    assert "unitReceived" in response["HX-Trigger"]


def test_the_recent_row_a_scan_sends_is_the_one_a_reload_shows(clerk_client, station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)

    sent = html(htmx_scan(clerk_client, product.sku, parcel))

    row = sent[sent.index("<li>", sent.index("afterbegin:#recent-list")) :]
    row = row[: row.index("</li>") + 5]
    reloaded = html(clerk_client.get(DESK))
    recent = reloaded[reloaded.index('id="recent-list"') :]
    assert recent[recent.index("<li>") :].startswith(row)


def test_a_scan_sent_twice_from_a_page_showing_its_parcel_answers_with_its_label_only(
    clerk_client, station, clerk
):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 2)), station, clerk)
    token = str(uuid.uuid4())
    htmx_scan(clerk_client, product.sku, parcel, token)

    again = htmx_scan(clerk_client, product.sku, parcel, token)

    page = html(again)
    assert "Already received as LPN-00000001: that scan was sent twice." in outcome(again)
    assert 'data-lpn="LPN-00000001"' in oob(page, "label")
    assert 'id="parcel-lines"' not in page
    assert "afterbegin:#recent-list" not in page
    assert ReturnItem.objects.count() == 1


def test_a_refused_unit_scan_answers_with_the_scan_panel_only(clerk_client, station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)

    response = htmx_scan(clerk_client, "NOT-ON-THIS-RMA", parcel)

    page = html(response)
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#scan-panel"
    assert page.lstrip().startswith('<section id="scan-panel"')
    assert "hx-swap-oob" not in page
    assert "Label it as wrong item" in outcome(response)
    assert not ReturnItem.objects.exists()


@pytest.mark.parametrize("shown", ["another", "none", "forged"])
def test_a_page_that_no_longer_shows_the_open_parcel_gets_the_whole_desk(
    clerk_client, station, clerk, shown
):
    """The page shows another parcel (closed since, say from another tab), none at all, or a
    forged value: only the whole desk puts it right."""
    product = ProductFactory()
    earlier = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    earlier.status = Parcel.Status.CLOSED
    earlier.save()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)
    value = {"another": earlier.pk, "none": "", "forged": "1 OR 1=1"}[shown]

    response = clerk_client.post(
        SCAN,
        {"code": product.sku, "token": str(uuid.uuid4()), "parcel_shown": value},
        HTTP_HX_REQUEST="true",
    )

    page = html(response)
    assert response.status_code == 200
    assert "HX-Retarget" not in response
    assert page.lstrip().startswith('<div id="desk"')
    assert f'name="parcel_shown" value="{parcel.pk}"' in page
    assert "Labelled in this parcel (1)" in page


def test_an_htmx_error_also_answers_with_the_partial(clerk_client):
    response = clerk_client.post(SCAN, {"code": "NOPE"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert "<html" not in html(response)
    assert "No return authorisation matches" in outcome(response)


# --- scans the desk refuses ---------------------------------------------------------------------


def test_an_unknown_parcel_code_is_refused_with_an_offer_to_park_it(clerk_client):
    response = scan(clerk_client, "nope-404")

    assert response.status_code == 404
    message = outcome(response)
    assert "No return authorisation matches" in message
    assert "Park as exception" in message
    assert 'name="code" value="NOPE-404"' in message
    assert not Parcel.objects.exists()


def test_a_cancelled_rma_is_refused_with_an_offer_to_park_it(clerk_client):
    make_rma((ProductFactory(), 1), number="RMA-1", status=ReturnAuthorization.Status.CANCELLED)

    response = scan(clerk_client, "RMA-1")

    assert response.status_code == 409
    assert "RMA RMA-1 is cancelled" in outcome(response)
    assert "Park as exception" in outcome(response)
    assert not Parcel.objects.exists()


def test_a_product_not_on_the_rma_is_refused_with_an_offer_to_label_it(
    clerk_client, station, clerk
):
    rma = make_rma((ProductFactory(), 1), number="RMA-1")
    stranger = ProductFactory(name="Garden hose")
    parcel = open_parcel(rma, station, clerk)

    response = scan(clerk_client, stranger.sku)

    assert response.status_code == 409
    message = outcome(response)
    assert "Garden hose is not on RMA RMA-1" in message
    assert "Label it as wrong item" in message
    assert reverse("receiving:exception_unit", args=[parcel.pk]) in message
    assert not ReturnItem.objects.exists()


def test_an_unknown_unit_code_offers_to_label_it_as_a_wrong_item(clerk_client, station, clerk):
    open_parcel(make_rma((ProductFactory(), 1), number="RMA-1"), station, clerk)

    response = scan(clerk_client, "MYSTERY")

    assert response.status_code == 404
    assert "neither a SKU nor a serial number on RMA RMA-1" in outcome(response)
    assert "Label it as wrong item" in outcome(response)


def test_one_unit_too_many_is_refused_with_an_offer_to_label_it(clerk_client, station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 1), number="RMA-1")
    open_parcel(rma, station, clerk)
    scan(clerk_client, product.sku)
    before = receiving_counts()

    response = scan(clerk_client, product.sku)

    assert response.status_code == 409
    assert "is already received. Label this one as an over-receipt (F4)" in outcome(response)
    assert "Label it as over-receipt" in outcome(response)
    assert receiving_counts() == before


def test_labelling_a_wrong_item_holds_it_under_its_own_lpn(clerk_client, station, clerk):
    rma = make_rma((ProductFactory(), 1), number="RMA-1")
    stranger = ProductFactory()
    parcel = open_parcel(rma, station, clerk)

    response = clerk_client.post(
        reverse("receiving:exception_unit", args=[parcel.pk]),
        {"code": stranger.sku, "kind": "wrong_item", "token": str(uuid.uuid4())},
    )

    assert response.status_code == 200
    assert "Labelled LPN-00000001 as wrong item" in outcome(response)
    item = ReturnItem.objects.get()
    assert item.status == ReturnItem.Status.HELD
    assert item.exceptions.get().kind == ReceivingException.Kind.WRONG_ITEM
    assert rma.lines.get().quantity_received == 0


def test_labelling_the_same_wrong_item_twice_makes_one_unit(clerk_client, station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    data = {"code": "MYSTERY", "kind": "wrong_item", "token": str(uuid.uuid4())}
    url = reverse("receiving:exception_unit", args=[parcel.pk])
    clerk_client.post(url, data)

    response = clerk_client.post(url, data)

    assert "Already labelled LPN-00000001" in outcome(response)
    assert ReturnItem.objects.count() == 1


def test_a_serialised_product_prompts_for_its_serial_and_the_next_scan_receives_it(
    clerk_client, station, clerk
):
    phone = ProductFactory(name="Phone", serialised=True)
    rma = make_rma((phone, 1), number="RMA-1")
    open_parcel(rma, station, clerk)

    prompt = scan(clerk_client, phone.sku)

    assert prompt.status_code == 422
    assert f"Scan the serial number of {phone.sku} Phone." in outcome(prompt)
    assert f'name="serial_for" value="{phone.sku}"' in html(prompt)
    assert not ReturnItem.objects.exists()

    received = scan(clerk_client, "sn-0042", serial_for=phone.sku)

    assert received.status_code == 200
    assert "Received LPN-00000001" in outcome(received)
    item = ReturnItem.objects.get()
    assert item.serial_number == "SN-0042"
    assert item.rma_line == rma.lines.get()


def test_a_scan_sent_twice_makes_one_unit_and_says_so(clerk_client, station, clerk):
    product = ProductFactory()
    rma = make_rma((product, 2))
    open_parcel(rma, station, clerk)
    data = {"code": product.sku, "token": str(uuid.uuid4())}
    clerk_client.post(SCAN, data)

    again = clerk_client.post(SCAN, data)

    assert again.status_code == 200
    assert "Already received as LPN-00000001: that scan was sent twice." in outcome(again)
    assert ReturnItem.objects.count() == 1
    assert rma.lines.get().quantity_received == 1


def test_scanning_another_rma_while_a_parcel_is_open_says_to_close_it_first(
    clerk_client, station, clerk
):
    open_parcel(make_rma((ProductFactory(), 1), number="RMA-1"), station, clerk)
    make_rma((ProductFactory(), 1), number="RMA-2")
    before = receiving_counts()

    response = scan(clerk_client, "RMA-2")

    assert response.status_code == 409
    assert "That is RMA RMA-2. Close this parcel (F9)" in outcome(response)
    assert receiving_counts() == before


def test_scanning_the_open_parcels_own_code_asks_for_a_unit(clerk_client, station, clerk):
    open_parcel(make_rma((ProductFactory(), 1), number="RMA-1"), station, clerk)

    response = scan(clerk_client, "RMA-1")

    assert response.status_code == 409
    assert "own code (RMA-1). Scan a unit" in outcome(response)


# --- closing and parking ------------------------------------------------------------------------


def test_closing_a_parcel_reports_what_is_short(clerk_client, station, clerk):
    kettle, toaster = ProductFactory(sku="KETTLE"), ProductFactory(sku="TOASTER")
    parcel = open_parcel(make_rma((kettle, 2), (toaster, 1)), station, clerk)
    scan(clerk_client, "KETTLE")

    response = clerk_client.post(reverse("receiving:close", args=[parcel.pk]))

    assert response.status_code == 200
    assert "Parcel closed. Short: 1 × KETTLE, 1 × TOASTER." in outcome(response)
    assert "No parcel open" in html(response)
    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.CLOSED


def test_closing_a_complete_parcel_says_nothing_is_short(clerk_client, station, clerk):
    product = ProductFactory()
    parcel = open_parcel(make_rma((product, 1)), station, clerk)
    scan(clerk_client, product.sku)

    response = clerk_client.post(reverse("receiving:close", args=[parcel.pk]))

    assert "Parcel closed, nothing short." in outcome(response)


def test_closing_a_parcel_twice_is_refused_and_changes_nothing(clerk_client, station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    url = reverse("receiving:close", args=[parcel.pk])
    clerk_client.post(url)
    before = receiving_counts()

    response = clerk_client.post(url)

    assert response.status_code == 409
    assert "This parcel is closed" in outcome(response)
    assert receiving_counts() == before


def test_parking_the_open_parcel_with_a_reason(clerk_client, station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)

    response = clerk_client.post(PARK, {"reason": "Box empty"})

    assert response.status_code == 200
    assert "Parcel parked: put it on the exception shelf." in outcome(response)
    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.PARKED
    assert parcel.exceptions.get().message == "Box empty"


def test_parking_the_open_parcel_without_a_reason_asks_for_one(clerk_client, station, clerk):
    parcel = open_parcel(make_rma((ProductFactory(), 1)), station, clerk)
    before = receiving_counts()

    response = clerk_client.post(PARK, {"reason": ""})

    assert response.status_code == 422
    assert "Say why the parcel is parked" in outcome(response)
    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.OPEN
    assert receiving_counts() == before


def test_parking_an_unknown_code_without_a_reason_puts_it_in_the_queue(clerk_client):
    response = clerk_client.post(PARK, {"code": "NOPE-404"})

    assert response.status_code == 200
    parcel = Parcel.objects.get()
    assert (parcel.scanned_code, parcel.status, parcel.rma) == ("NOPE-404", "parked", None)
    assert parcel.exceptions.get().kind == ReceivingException.Kind.UNMATCHED


def test_parking_the_same_unknown_code_twice_parks_one_parcel(clerk_client):
    clerk_client.post(PARK, {"code": "NOPE-404", "reason": "No paperwork"})

    response = clerk_client.post(PARK, {"code": "NOPE-404", "reason": "No paperwork"})

    assert response.status_code == 200
    assert Parcel.objects.count() == 1
    assert ReceivingException.objects.count() == 1


def test_parking_with_nothing_to_park_says_so(clerk_client):
    response = clerk_client.post(PARK, {})

    assert response.status_code == 422
    assert "There is no parcel to park." in outcome(response)
    assert not Parcel.objects.exists()


def test_parking_the_code_of_a_receivable_rma_is_refused_without_offering_to_park(clerk_client):
    make_rma((ProductFactory(), 1), number="RMA-1")

    response = clerk_client.post(PARK, {"code": "RMA-1"})

    assert response.status_code == 409
    assert "which can be received" in outcome(response)
    assert "Park as exception" not in outcome(response)
    assert not Parcel.objects.exists()


# --- CSRF and labels ----------------------------------------------------------------------------


def test_a_scan_without_a_csrf_token_is_refused(clerk, station):
    csrf_client = client_at_station(Client(enforce_csrf_checks=True), clerk, station)
    make_rma((ProductFactory(), 1), number="RMA-1")

    response = scan(csrf_client, "RMA-1")

    assert response.status_code == 403
    assert not Parcel.objects.exists()


def test_the_label_page_shows_the_lpn_and_its_barcode(clerk_client, station, clerk):
    product = ProductFactory(name="Stand mixer")
    open_parcel(make_rma((product, 1), number="RMA-1"), station, clerk)
    scan(clerk_client, product.sku)

    response = clerk_client.get(reverse("receiving:label", args=["LPN-00000001"]))

    page = html(response)
    assert response.status_code == 200
    assert "LPN-00000001" in page
    assert '<svg class="barcode"' in page
    assert 'aria-label="Barcode LPN-00000001"' in page
    assert "Stand mixer" in page


def test_the_label_page_of_an_unknown_lpn_is_not_found(clerk_client):
    assert clerk_client.get(reverse("receiving:label", args=["LPN-99999999"])).status_code == 404


def test_a_clerk_taking_over_the_station_carries_on_with_the_parcel_left_open(
    client, station, clerk
):
    product = ProductFactory()
    rma = make_rma((product, 2))
    left = open_parcel(rma, station, clerk)  # opened by the clerk whose shift has ended
    bob = client_at_station(client, UserFactory(username="bob", role="clerk"), station)

    shown = scan(bob, rma.number)
    received = scan(bob, product.sku, parcel_shown=str(left.pk))

    assert f'name="parcel_shown" value="{left.pk}"' in html(shown)
    assert received.status_code == 200
    assert "Received LPN-" in outcome(received)
    assert rma.lines.get().quantity_received == 1


def test_two_clerks_at_one_station_each_receive_their_own_parcel(client, station, clerk):
    first, second = ProductFactory(), ProductFactory()
    clara_rma, bob_rma = make_rma((first, 1)), make_rma((second, 1))
    clara = client_at_station(Client(), clerk, station)
    bob = client_at_station(client, UserFactory(username="bob", role="clerk"), station)

    scan(clara, clara_rma.number)
    scan(bob, bob_rma.number)
    scan(clara, first.sku)
    scan(bob, second.sku)

    assert clara_rma.lines.get().quantity_received == bob_rma.lines.get().quantity_received == 1
