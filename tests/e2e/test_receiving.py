"""A receiving clerk's shift, end to end in Chromium, by keyboard alone."""

import pytest
from playwright.sync_api import expect

from returns_desk.models import ReturnItem
from tests.e2e.conftest import choose_station, heard, listen, log_in, wait_for_htmx
from tests.factories import ProductFactory, StationFactory, UserFactory, make_rma

pytestmark = pytest.mark.django_db(transaction=True)


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into the focused field and press Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    wait_for_htmx(page)


def test_clerk_receives_two_units_by_keyboard_and_sees_an_unknown_code_refused(page, live_server):
    StationFactory(code="RCV-01")
    UserFactory(username="clara", role="clerk")
    jacket = ProductFactory(sku="AP-JKT-M", name="Rain jacket M")
    shirt = ProductFactory(sku="AP-TEE-S", name="T-shirt S")
    rma = make_rma((jacket, 1), (shirt, 1), number="RMA-200001")

    log_in(page, live_server, "clara")
    choose_station(page, "LON · RCV-01")
    expect(page.locator("header")).to_contain_text("LON · RCV-01")
    scan_field = page.get_by_label("Scan a parcel")
    expect(scan_field).to_be_focused()

    scan(page, rma.number)
    expect(page.get_by_role("status")).to_contain_text("RMA-200001")
    expect(page.get_by_role("table")).to_contain_text("Rain jacket M")

    scan(page, "AP-JKT-M")
    expect(page.locator(".lpn-label")).to_contain_text("LPN-00000001")
    expect(page.get_by_label("Scan a unit")).to_be_focused()
    scan(page, "AP-TEE-S")
    expect(page.locator(".lpn-label")).to_contain_text("LPN-00000002")
    expect(page.locator("#parcel")).to_contain_text("Labelled in this parcel (2)")
    expect(page.locator(".lpn-label svg.barcode")).to_be_visible()

    page.keyboard.press("F9")  # close the parcel: nothing is short
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text("nothing short")

    scan(page, "NO-SUCH-CODE-42")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("No return authorisation matches 'NO-SUCH-CODE-42'")
    expect(alert).to_have_class("outcome outcome-error")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    assert sorted(ReturnItem.objects.values_list("lpn", "product__sku")) == [
        ("LPN-00000001", "AP-JKT-M"),
        ("LPN-00000002", "AP-TEE-S"),
    ]


def test_a_scan_that_lost_a_race_is_said_aloud_and_the_clerk_scans_again(
    page, live_server, monkeypatch
):
    import psycopg

    from returns_desk import services
    from tests.returns_desk.helpers import raising

    station = StationFactory(code="RCV-01")
    clara = UserFactory(username="clara", role="clerk")
    rma = make_rma((ProductFactory(sku="AP-JKT-M", name="Rain jacket M"), 1), number="RMA-200001")
    services.receive_parcel(code=rma.number, station=station, user=clara)
    log_in(page, live_server, "clara")
    choose_station(page, "LON · RCV-01")
    # Focused by desk.js, which runs after htmx: a scan before it would be a plain form post.
    expect(page.get_by_label("Scan a unit")).to_be_focused()

    with monkeypatch.context() as patched:
        # The live server runs in this process: its next scan meets a deadlock in its transaction.
        patched.setattr(
            services, "record_event", raising("deadlock", psycopg.errors.DeadlockDetected())
        )
        scan(page, "AP-JKT-M")
        alert = page.locator("#network-error")
        expect(alert).to_be_visible()
        expect(alert).to_have_text(
            "Another station changed this at the same moment, so nothing was saved. Try again."
        )
        expect(alert).to_have_class("outcome outcome-error")
        expect(page.get_by_label("Scan a unit")).to_be_focused()
        assert not ReturnItem.objects.exists()

    scan(page, "AP-JKT-M")
    expect(page.locator(".lpn-label")).to_contain_text("LPN-00000001")
    expect(alert).to_be_hidden()
    assert ReturnItem.objects.get().product.sku == "AP-JKT-M"


def test_each_scan_sounds_once_and_the_desk_shows_what_it_changed(page, live_server, settings):
    settings.RECENT_SCANS_SHOWN = 3
    StationFactory(code="RCV-01")
    UserFactory(username="clara", role="clerk")
    shirt = ProductFactory(sku="AP-TEE-S", name="T-shirt S")
    rma = make_rma((shirt, 4), (ProductFactory(sku="AP-CAP"), 1), number="RMA-200001")
    listen(page)
    log_in(page, live_server, "clara")
    choose_station(page, "LON · RCV-01")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    scan(page, rma.number)
    for n in range(1, 5):
        scan(page, "AP-TEE-S")
        expect(page.locator(".lpn-label")).to_contain_text(f"LPN-0000000{n}")
        expect(page.locator('#parcel-lines [data-line="1"]')).to_contain_text(str(n))
        expect(page.locator("#parcel")).to_contain_text(f"Labelled in this parcel ({n})")
        expect(page.locator("#recent-list li").first).to_contain_text(f"LPN-0000000{n}")
        expect(page.get_by_label("Scan a unit")).to_be_focused()
    scan(page, "AP-TEE-S")  # one too many
    expect(page.get_by_role("alert")).to_contain_text("AP-TEE-S")

    # The parcel opened, four units, one refusal: one sound each, and no more.
    assert heard(page) == ["done"] * 5 + ["error"]
    # The newest three rows, as a reload shows them too.
    rows = page.locator("#recent-list li")
    expect(rows).to_have_count(3)
    shown = rows.all_inner_texts()
    assert [row.split()[2] for row in shown] == ["LPN-00000004", "LPN-00000003", "LPN-00000002"]
    page.reload()
    expect(page.locator("#recent-list li")).to_have_text(shown)
    expect(page.locator('#parcel-lines [data-line="1"]')).to_contain_text("4")


def test_a_scan_fired_before_the_scripts_ran_is_answered_by_a_whole_page_with_its_sound(
    page, live_server
):
    StationFactory(code="RCV-01")
    UserFactory(username="clara", role="clerk")
    rma = make_rma((ProductFactory(sku="AP-TEE-S"), 1), number="RMA-200001")
    listen(page)
    log_in(page, live_server, "clara")
    choose_station(page, "LON · RCV-01")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    # A slow network: the desk is drawn and its field focused, but htmx has not arrived yet.
    held = []

    def hold_the_first_download(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/htmx-2.min.js", hold_the_first_download)
    page.reload(wait_until="commit")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()
    assert page.evaluate("typeof window.htmx") == "undefined"
    with page.expect_navigation():
        page.keyboard.type(rma.number)
        page.keyboard.press("Enter")
        # The script arrives late: the answer's page may be waiting on that same download.
        held[0].continue_()

    expect(page.get_by_role("status")).to_contain_text("RMA-200001")
    expect(page.get_by_label("Scan a unit")).to_be_focused()
    assert heard(page) == ["done"]


def test_clerk_receives_a_parcel_that_came_without_an_rma_by_keyboard(page, live_server):
    """The carrier brings back an undeliverable parcel: its label is known to nobody."""
    from tests.factories import PolicyFactory, ProgramFactory, ReasonFactory

    StationFactory(code="RCV-01")
    UserFactory(username="clara", role="clerk")
    program = ProgramFactory(code="delivery-failure", name="Delivery failure")
    PolicyFactory(name="Return to sender", rma_required=False).programs.add(program)
    ReasonFactory(code="undeliverable", name="Undeliverable")
    ProductFactory(sku="AP-JKT-M", name="Rain jacket M")
    log_in(page, live_server, "clara")
    choose_station(page, "LON · RCV-01")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    scan(page, "JD000123GB")
    expect(page.get_by_role("alert")).to_contain_text("No return authorisation matches")
    expect(page.get_by_role("button", name="Receive without an RMA")).to_be_visible()
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    # Every installation has a reason "Not stated", first by name: the clerk picks the right one.
    page.locator("#unannounced-offer select[name=reason]").focus()
    page.keyboard.type("Und")
    page.keyboard.press("F6")
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text(
        "Receiving without an RMA as Delivery failure"
    )
    expect(page.locator("#parcel")).to_contain_text("No RMA: each unit scanned is added")
    expect(page.get_by_label("Scan a unit")).to_be_focused()

    scan(page, "AP-JKT-M")
    scan(page, "AP-JKT-M")
    expect(page.locator(".lpn-label")).to_contain_text("LPN-00000002")
    expect(page.locator('#parcel-lines [data-line="1"]')).to_contain_text("2")
    expect(page.locator("#parcel-lines")).to_contain_text("Undeliverable")

    page.keyboard.press("F9")
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text("nothing short")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    # The next unknown parcel: the desk offers what the clerk chose last, so F6 is all it takes.
    scan(page, "JD000124GB")
    page.keyboard.press("F6")
    wait_for_htmx(page)
    scan(page, "AP-JKT-M")
    expect(page.locator("#parcel-lines")).to_contain_text("Undeliverable")
    units = ReturnItem.objects.order_by("lpn")
    assert [(unit.rma.tracking.get().number, unit.reason.code) for unit in units] == [
        ("JD000123GB", "undeliverable"),
        ("JD000123GB", "undeliverable"),
        ("JD000124GB", "undeliverable"),
    ]
