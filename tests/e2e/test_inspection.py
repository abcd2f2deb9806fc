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


def test_clerk_grades_a_unit_by_keyboard_and_sees_the_grade_change_live(page, live_server):
    receiving = StationFactory(code="RCV-01", kind="receiving")
    StationFactory(code="INS-01", kind="inspection")
    clara = UserFactory(username="clara", role="clerk")
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
    phone = ProductFactory(sku="EL-PHONE-1", name="Phone", category=electronics)
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
