"""The station screens at the sizes they run at, and by keyboard.

Focus always shows; nothing scrolls sideways; the scan field and the main buttons are on screen.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import choose_station, log_in, wait_for_htmx
from tests.factories import ProductFactory, StationFactory, UserFactory, make_rma, make_unit_at

pytestmark = pytest.mark.django_db(transaction=True)

# A station PC, a tablet held upright, the same tablet on its side.
SIZES = [(1280, 800), (768, 1024), (1024, 768)]


@pytest.fixture
def supervisor_at_station(page, live_server):
    StationFactory(code="MIX-01", kind="both")
    sam = UserFactory(username="sam", role="supervisor")
    jacket = ProductFactory(sku="AP-JKT-M", name="Rain jacket M")
    rma = make_rma((jacket, 2), number="RMA-200001")
    # A row in the inspection queue, received at another station so this one has no parcel open.
    make_unit_at("received", station=StationFactory(code="RCV-09"), user=sam)
    log_in(page, live_server, "sam")
    page.goto(f"{live_server.url}/station/")
    choose_station(page, "LON · MIX-01")
    return rma


def focus_ring(page) -> dict:
    """The focused element's name and the computed outline that makes it visible."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return {
            what: el.tagName + " " + (el.name || (el.textContent || "").trim().slice(0, 30)),
            style: style.outlineStyle,
            width: parseFloat(style.outlineWidth),
            colour: style.outlineColor,
            body: el === document.body,
          };
        }"""
    )


def test_tabbing_through_the_receiving_desk_shows_a_focus_outline_on_every_control(
    page, live_server, supervisor_at_station
):
    page.goto(f"{live_server.url}/receiving/")
    scan_field = page.get_by_label("Scan a parcel")
    expect(scan_field).to_be_focused()
    page.keyboard.type(supervisor_at_station.number)
    page.keyboard.press("Enter")
    wait_for_htmx(page)
    expect(page.get_by_label("Scan a unit")).to_be_focused()

    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        ring = focus_ring(page)
        if ring["body"]:
            continue
        seen.append(ring)
    missing = [ring["what"] for ring in seen if ring["style"] == "none" or ring["width"] < 2]
    assert len({ring["what"] for ring in seen}) >= 8, seen  # nav links, parcel actions, ...
    assert missing == []
    assert {ring["colour"] for ring in seen} == {"rgb(240, 165, 0)"}


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_desks_and_a_queue_fit_the_screen_without_sideways_scrolling(
    page, live_server, supervisor_at_station, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    screens = {
        "/receiving/": ("Scan a parcel (RMA, tracking or order number)", "Enter"),
        "/inspection/": ("Scan a unit's LPN label", "Enter"),
        "/disposition/": ("Scan a unit's LPN", "Scan"),
        "/supervisor/queues/awaiting_inspection/": (
            "Find an LPN, RMA, order, tracking or serial",
            "Filter",
        ),
    }
    for path, (field, button) in screens.items():
        page.goto(f"{live_server.url}{path}")
        if path == "/receiving/":  # with a parcel open: its lines table is the widest part
            expect(page.get_by_label(field)).to_be_focused()
            page.keyboard.type(supervisor_at_station.number)
            page.keyboard.press("Enter")
            wait_for_htmx(page)
            field = "Scan a unit (SKU, barcode or serial)"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} at {width}x{height} scrolls {overflow}px sideways"
        expect(page.get_by_label(field, exact=True)).to_be_in_viewport()
        expect(page.get_by_role("button", name=button, exact=True)).to_be_in_viewport()
