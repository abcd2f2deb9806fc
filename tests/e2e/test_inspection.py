"""An inspection clerk grades a unit in Chromium with the keyboard alone."""

import pytest
from playwright.sync_api import expect

from returns_desk.models import ReturnItem
from tests.e2e.conftest import choose_station, log_in, wait_for_htmx
from tests.factories import (
    CategoryFactory,
    CriterionFactory,
    GradeScaleFactory,
    ProductFactory,
    StationFactory,
    UserFactory,
    make_unit_at,
)

pytestmark = pytest.mark.django_db(transaction=True)


def electronics_checklist():
    GradeScaleFactory()
    electronics = CategoryFactory(code="electronics", name="Electronics")
    CriterionFactory(category=electronics, question="Powers on", weight=3, critical=True, order=1)
    CriterionFactory(
        category=electronics,
        question="Cosmetic condition",
        kind="scale",
        scale_max=4,
        weight=2,
        order=2,
    )
    CriterionFactory(
        category=electronics,
        question="Accessories",
        kind="choice",
        order=3,
        options=[{"label": "All there", "points": 2}, {"label": "Some missing", "points": 1}],
    )
    return ProductFactory(sku="EL-PHONE-1", name="Phone", category=electronics)


def test_clerk_grades_a_unit_by_keyboard_and_sees_the_grade_change_live(page, live_server):
    receiving = StationFactory(code="RCV-01", kind="receiving")
    StationFactory(code="INS-01", kind="inspection")
    clara = UserFactory(username="clara", role="clerk")
    phone = electronics_checklist()
    unit = make_unit_at("received", station=receiving, user=clara, product=phone)

    log_in(page, live_server, "clara")
    choose_station(page, "LON · INS-01")
    page.goto(f"{live_server.url}/inspection/")
    scan_field = page.get_by_label("Scan a unit's LPN label")
    expect(scan_field).to_be_focused()

    page.keyboard.type(unit.lpn)
    page.keyboard.press("Enter")
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text(f"{unit.lpn}: EL-PHONE-1 Phone")
    expect(page.get_by_role("group", name="Powers on")).to_be_visible()
    grade = page.locator("#score .grade-badge")
    expect(grade).to_have_text("–")

    page.keyboard.press("y")  # powers on: pass
    wait_for_htmx(page)
    expect(grade).to_have_text("A")
    expect(
        page.get_by_role("group", name="Cosmetic condition").get_by_role("radio").first
    ).to_be_focused()

    page.keyboard.press("1")  # cosmetic 1 of 4: (3 + 0.5) / 5 = 70
    wait_for_htmx(page)
    expect(grade).to_have_text("C")
    expect(page.locator("#score")).to_contain_text("Score 70.00")

    page.keyboard.press("1")  # accessories all there: (3 + 0.5 + 1) / 6 = 75
    wait_for_htmx(page)
    expect(grade).to_have_text("B")

    page.keyboard.press("F10")
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text(f"{unit.lpn} graded B (good), score 75.00")
    expect(page.locator("#result")).to_contain_text("graded B")
    expect(scan_field).to_be_focused()
    unit.refresh_from_db()
    assert unit.status == ReturnItem.Status.INSPECTED
    assert unit.inspections.get().grade_code == "B"


def test_a_scan_fired_into_the_checklist_opens_that_unit_instead_of_answering(page, live_server):
    receiving = StationFactory(code="RCV-01", kind="receiving")
    StationFactory(code="INS-01", kind="inspection")
    clara = UserFactory(username="clara", role="clerk")
    phone = electronics_checklist()
    first = make_unit_at("received", station=receiving, user=clara, product=phone)
    second = make_unit_at("received", station=receiving, user=clara, product=phone)
    log_in(page, live_server, "clara")
    choose_station(page, "LON · INS-01")
    page.goto(f"{live_server.url}/inspection/")
    expect(page.get_by_label("Scan a unit's LPN label")).to_be_focused()
    page.keyboard.type(first.lpn)
    page.keyboard.press("Enter")
    wait_for_htmx(page)
    powers_on = page.get_by_role("group", name="Powers on").get_by_role("radio").first
    expect(powers_on).to_be_focused()

    # The scanner types "LPN-0000000N" and Enter at machine speed while a question has focus.
    page.keyboard.type(second.lpn)
    page.keyboard.press("Enter")
    wait_for_htmx(page)

    expect(page.get_by_role("status")).to_contain_text(f"{second.lpn}: EL-PHONE-1 Phone")
    page.keyboard.type(first.lpn)
    page.keyboard.press("Enter")
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text(first.lpn)
    for question in ("Powers on", "Cosmetic condition", "Accessories"):
        expect(
            page.get_by_role("group", name=question).get_by_role("radio", checked=True)
        ).to_have_count(0)
