"""One returned unit's whole journey through the three station screens, on the demo data."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from returns_desk.models import ReturnItem
from tests.e2e.conftest import choose_station, heard, listen, log_in, wait_for_htmx

pytestmark = pytest.mark.django_db(transaction=True)

# A person, not a scanner: answer keys further apart than the inspection screen's scanner window.
HUMAN_PAUSE_MS = 120


def scan(page, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    wait_for_htmx(page)


def press(page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(HUMAN_PAUSE_MS)
    wait_for_htmx(page)


def test_a_tshirt_goes_from_parcel_to_restock_shelf_by_keyboard_alone(page, live_server):
    # The configuration and RMAs: the clerk's flow needs none of the past weeks' work.
    call_command("seed_demo", activity_days=0, stdout=StringIO())
    listen(page)
    log_in(page, live_server, "clerk", password="returns-demo")
    choose_station(page, "LON · MIX-01")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()

    scan(page, "RMA-100009")
    scan(page, "AP-TEE-S")
    label = page.locator(".lpn-label")
    expect(label).to_contain_text("AP-TEE-S")
    lpn = label.get_attribute("data-lpn")
    press(page, "F9")
    expect(page.get_by_role("status")).to_contain_text("Short: 1 × AP-JKT-M, 1 × AP-TEE-S")

    # Each message with its sound: opened, received, then the check of what is short.
    assert heard(page) == ["done", "done", "check or next"]
    page.get_by_role("link", name="Inspection").click()
    expect(page.get_by_label("Scan a unit's LPN label")).to_be_focused()
    scan(page, lpn)
    expect(page.get_by_role("group", name="Tags attached")).to_be_visible()
    press(page, "y", "y", "3", "y")
    expect(page.locator("#score .grade-badge")).to_have_text("A")
    press(page, "F10")
    expect(page.get_by_role("status")).to_contain_text(f"{lpn} graded A")

    # The checklist asked for, then graded; answering it is silent.
    assert heard(page) == ["check or next", "done"]
    # The grade comes with the disposition it leads to, confirmed with one key.
    expect(page.locator("#result .recommended-outcome")).to_have_text("Restock → RESTOCK-A")
    expect(page.locator("#result")).to_contain_text("Refund minus restocking fee · 17.10")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".put-away")).to_contain_text("RESTOCK-A")
    scan(page, "RESTOCK-A")
    expect(page.get_by_role("status")).to_contain_text(lpn)
    assert heard(page) == ["done", "done"]  # decided, put away

    unit = ReturnItem.objects.get(lpn=lpn)
    assert unit.status == ReturnItem.Status.PUT_AWAY
    assert [e.action for e in unit.events.order_by("created_at", "pk")] == [
        "received",
        "inspection_started",
        "inspected",
        "disposition_decided",
        "refund_released",
        "put_away",
    ]
    # Standard policy: 10 % restocking fee on a changed mind, grade A keeps the rest.
    assert unit.refund.amount == Decimal("17.10")
