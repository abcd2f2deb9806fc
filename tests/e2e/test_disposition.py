"""A disposition clerk decides units by keyboard; a supervisor approves an override."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from disposition import services
from disposition.models import Partner
from returns_desk.models import ReturnItem, Station
from tests.disposition.helpers import configure, inspected_unit, make_checklist, make_rules
from tests.e2e.conftest import (
    choose_station,
    heard,
    lines_of_text,
    listen,
    log_in,
    wait_for_htmx,
)
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    StationFactory,
    UserFactory,
    make_unit_at,
)

pytestmark = pytest.mark.django_db(transaction=True)


def scan(page, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    wait_for_htmx(page)


def override_to_liquidate(page) -> None:
    """Override the scanned unit's recommendation by keyboard: F4, then the form, then Enter."""
    page.keyboard.press("F4")
    expect(page.get_by_label("Outcome")).to_be_focused()
    page.get_by_label("Outcome").select_option("liquidate")
    page.get_by_label("Reason").select_option("worse_than_graded")
    page.get_by_label("Note", exact=True).fill("Lid dented")
    page.keyboard.press("Enter")
    wait_for_htmx(page)


@pytest.fixture
def make_inspected(db):
    """Rules and settings as in the disposition tests; units graded through inspection."""
    station = StationFactory(code="MIX-01", kind="both")
    clara = UserFactory(username="clara", role="clerk")
    checklist = make_checklist(CategoryFactory(code="electronics", name="Electronics"))
    make_rules(Partner.objects.create(code="greencycle", name="GreenCycle", kind="recycler"))
    configure()

    def make(grade: str, **fields) -> ReturnItem:
        return inspected_unit(grade, checklist=checklist, station=station, user=clara, **fields)

    return make


@pytest.fixture
def desk(page, live_server, make_inspected):
    log_in(page, live_server, "clara")
    choose_station(page, "LON · MIX-01")
    page.goto(f"{live_server.url}/disposition/")
    expect(page.get_by_label("Scan a unit's LPN")).to_be_focused()
    return page


def test_clerk_confirms_a_recommendation_with_enter_and_puts_the_unit_away(desk, make_inspected):
    page = desk
    unit = make_inspected("A")

    scan(page, unit.lpn)
    expect(page.locator(".recommended-outcome")).to_have_text("Restock → RESTOCK-A")
    expect(page.get_by_role("list", name="Why this rule fired")).to_contain_text(
        "grade A is one of A"
    )
    page.keyboard.press("Enter")
    wait_for_htmx(page)

    expect(page.get_by_role("status")).to_contain_text("Restock → RESTOCK-A")
    expect(page.locator(".put-away")).to_contain_text("scan RESTOCK-A there")
    expect(page.locator(".disposition-label svg.barcode")).to_be_visible()
    expect(page.get_by_label("Scan the location label")).to_be_focused()
    scan(page, "RESTOCK-A")
    expect(page.get_by_role("status")).to_contain_text(f"{unit.lpn} put away in RESTOCK-A")
    unit.refresh_from_db()
    assert unit.status == ReturnItem.Status.PUT_AWAY


def test_an_override_waits_for_a_supervisor_who_approves_it(desk, live_server, make_inspected):
    page = desk
    UserFactory(username="sam", role="supervisor")
    unit = make_inspected("A", value="250.00")

    scan(page, unit.lpn)
    override_to_liquidate(page)
    expect(page.get_by_role("status")).to_contain_text("waits for a supervisor")
    expect(page.locator("#unit-disposition")).to_contain_text("Waiting for a supervisor")

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "sam")
    page.goto(f"{live_server.url}/disposition/units/{unit.lpn}/")
    expect(page.locator(".chosen-outcome")).to_contain_text("Liquidate")
    page.get_by_role("button", name="Approve override").click()
    wait_for_htmx(page)

    expect(page.get_by_role("status")).to_contain_text(f"Override of {unit.lpn} approved")
    unit.refresh_from_db()
    assert unit.status == ReturnItem.Status.DISPOSED


def test_the_recent_decisions_card_keeps_its_heading_and_tags_on_one_line(desk, make_inspected):
    """At 1280 px the side column is a third of the screen: the station code must not break at
    its hyphen ("MIX-" / "01"), nor a tag ("awaiting" / "approval") read as two."""
    page = desk
    unit = make_inspected("A", value="250.00")
    scan(page, unit.lpn)
    override_to_liquidate(page)

    recent = page.get_by_role("region", name="Recent decisions at this station")
    heading = recent.get_by_role("heading", name="Recent decisions at MIX-01")
    tag = recent.locator(".tag", has_text="awaiting approval")
    expect(tag).to_be_visible()
    assert lines_of_text(heading) == 1
    assert lines_of_text(tag) == 1


def test_after_a_put_away_the_next_unit_scanned_opens_its_checklist(desk, make_inspected):
    page = desk
    graded = make_inspected("A")
    clara, station = graded.events.first().user, graded.events.first().station
    waiting = make_unit_at(
        ReturnItem.Status.RECEIVED,
        station=station,
        user=clara,
        product=ProductFactory(category=graded.product.category, name="Phone"),
    )
    listen(page)
    scan(page, graded.lpn)
    page.keyboard.press("Enter")
    wait_for_htmx(page)
    scan(page, "RESTOCK-A")
    expect(page.get_by_role("status")).to_contain_text("put away in RESTOCK-A")

    with page.expect_navigation():
        scan(page, waiting.lpn)

    expect(page).to_have_url(re.compile(r"/inspection/"))
    expect(page.get_by_role("status")).to_contain_text(f"{waiting.lpn}: ")
    assert heard(page) == ["check or next"]
    # The keyboard is on the checklist: a key answers its first question.
    expect(page.locator("#score .grade-badge")).not_to_have_text("A")
    page.keyboard.press("4")
    expect(page.locator("#score .grade-badge")).to_have_text("A")


def test_technician_finds_a_unit_on_the_bench_by_scanning_it_and_finishes_it_by_keyboard(
    page, live_server, make_inspected
):
    clara, station = get_user_model().objects.get(username="clara"), Station.objects.get()
    waiting, on_bench = make_inspected("C"), make_inspected("C")
    for item in (waiting, on_bench):
        services.decide_disposition(item=item, station=station, user=clara)
    services.put_away(item=on_bench, code="REPAIR-BENCH", station=station, user=clara)
    listen(page)
    log_in(page, live_server, "clara")
    choose_station(page, "LON · MIX-01")
    page.goto(f"{live_server.url}/disposition/repairs/")
    scan_field = page.get_by_label("Scan the LPN label of a unit on the bench")
    expect(scan_field).to_be_focused()

    scan(page, "LPN-00099999")
    expect(page.locator("#outcome")).to_contain_text("LPN-00099999 has no repair order")
    assert heard(page) == ["error"]
    expect(scan_field).to_be_focused()

    scan(page, on_bench.lpn)
    rows = page.locator("#repairs tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(on_bench.lpn)
    expect(page.get_by_label("Notes")).to_be_focused()
    page.keyboard.type("New battery")
    page.keyboard.press("Tab")
    page.keyboard.type("18.50")
    page.keyboard.press("Enter")
    wait_for_htmx(page)

    expect(page.locator("#outcome")).to_contain_text(
        f"{on_bench.lpn} repaired: take it back to inspection."
    )
    assert heard(page) == ["done"]
    expect(scan_field).to_be_focused()
    expect(page.locator("#repairs tbody tr")).to_have_count(1)  # the one not yet on the bench
    expect(page.locator("#repairs tbody")).to_contain_text(waiting.lpn)
    on_bench.refresh_from_db()
    assert on_bench.status == ReturnItem.Status.RECEIVED
