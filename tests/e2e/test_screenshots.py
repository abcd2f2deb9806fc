"""Every screen a user meets, walked on the demo data, each pictured for the user guide.

Each step asserts that the screen is the one the guide describes (not an error page), so this is
a test like the others. Pictures go to a temporary directory; `make screenshots` sets
SCREENSHOT_DIR=docs/img and refreshes the guide's pictures from the code as it is.
"""

import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from disposition.services import decide_disposition
from inspection import services as inspection
from inspection.models import GradeScale
from inspection.selectors import best_answer, checklist_for
from returns_desk import services
from returns_desk.models import ProductCategory, ReturnItem, ReturnPolicy, Station
from tests.e2e.conftest import choose_station, lines_of_text, log_in, wait_for_htmx
from tests.e2e.test_unit_journey import press, scan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "returns-demo"


@pytest.fixture
def shoot(tmp_path):
    """Save the visible 1280x800 screen as <name>.png once it has settled."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        if page.evaluate("() => Boolean(window.htmx)"):  # Django admin has no htmx
            wait_for_htmx(page)
        expect(page.locator("body")).not_to_contain_text("Server Error")
        page.screenshot(path=folder / f"{name}.png", animations="disabled", caret="initial")

    return shoot


def inspected(rma: str, code: str, serial: str = "") -> ReturnItem:
    """Receive one unit of a demo RMA at LON · MIX-01 and grade it with the best answers."""
    station = Station.objects.get(site__code="lon", code="MIX-01")
    user = User.objects.get(username="inspector")
    parcel = services.receive_parcel(code=rma, station=station, user=user)
    item, _ = services.receive_unit(
        parcel=parcel, code=code, serial=serial, station=station, user=user
    )
    started = inspection.start_inspection(lpn=item.lpn, station=station, user=user)
    answers = {criterion.pk: best_answer(criterion) for criterion in checklist_for(item)}
    inspection.record_answers(inspection=started, answers=answers, station=station, user=user)
    inspection.complete_inspection(inspection=started, station=station, user=user)
    item.refresh_from_db()
    return item


@pytest.fixture
def demo(live_server):
    """The demo as `make run` loads it, with its weeks of work (so the dashboard, queues, lots and
    repair bench look lived in), and the README's units in every state the guide describes.
    """
    call_command("seed_demo", stdout=StringIO())
    call_command("process_demo_units", count=8, stdout=StringIO())
    station = Station.objects.get(site__code="lon", code="MIX-01")
    user = User.objects.get(username="inspector")

    for rma, code in [("RMA-100002", "SN-KTL-7731"), ("RMA-100001", "SN-X12-0001")]:
        decide_disposition(item=inspected(rma, code), station=station, user=user)
    decide_disposition(
        item=inspected("RMA-100014", "AP-JKT-L"),
        station=station,
        user=user,
        outcome="donate",
        override_reason="worse_than_graded",
        override_note="Seam torn at the cuff",
    )
    inspected("RMA-100008", "AP-SNK-42")
    parcel = services.receive_parcel(code="RMA-100006", station=station, user=user)
    for serial in ("SN-TAB-R1", "SN-TAB-R2"):
        services.receive_unit(
            parcel=parcel, code="EL-TAB-10", serial=serial, station=station, user=user
        )
    services.park_unmatched_parcel(
        code="1Z999AA10199999999", station=station, user=user, reason="No paperwork in the box"
    )
    return live_server


def test_the_clerks_screens(page, demo, shoot):
    page.goto(f"{demo.url}/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    shoot(page, "login")

    log_in(page, demo, "clerk", password=PASSWORD)
    expect(page.get_by_label("LON · RCV-01")).to_be_visible()
    shoot(page, "station-picker")

    choose_station(page, "LON · MIX-01")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()
    # Empty, the outcome box keeps its place, so the parcel card does not jump at the first scan.
    expect(page.locator("#outcome")).to_be_empty()
    expect(page.locator("#outcome")).to_be_visible()
    shoot(page, "receiving-desk")

    scan(page, "RMA-100009")
    expect(page.locator("#parcel")).to_contain_text("Joe Bloggs")
    expect(page.get_by_label("Scan a unit")).to_be_focused()
    shoot(page, "receiving-rma-open")

    scan(page, "AP-JKT-M")
    label = page.locator(".lpn-label")
    expect(label).to_contain_text("AP-JKT-M")
    jacket = label.get_attribute("data-lpn")
    shoot(page, "receiving-label")

    scan(page, "AP-SNK-42")
    expect(page.get_by_role("button", name="Label it as wrong item")).to_be_visible()
    shoot(page, "receiving-wrong-item")

    scan(page, "AP-TEE-S")
    expect(label).to_contain_text("AP-TEE-S")
    shirt = label.get_attribute("data-lpn")
    press(page, "F9")
    expect(page.get_by_role("status")).to_contain_text("Short: 1 × AP-TEE-S")
    shoot(page, "receiving-parcel-closed")

    scan(page, "NO-SUCH-PARCEL-42")
    expect(page.get_by_role("alert")).to_contain_text("NO-SUCH-PARCEL-42")
    expect(page.get_by_role("button", name="Park as exception")).to_be_visible()
    shoot(page, "receiving-unknown-code")
    # The side column is narrow: an RMA number or LPN split at its hyphen reads as two codes.
    recent_codes = page.locator("#recent-scans .code")
    expect(recent_codes.first).to_be_visible()
    for code in recent_codes.all():
        assert lines_of_text(code) == 1, code.inner_text()

    page.goto(f"{demo.url}/receiving/units/{jacket}/label/")
    expect(page.locator(".lpn-text")).to_have_text(jacket)
    shoot(page, "receiving-label-page")

    page.get_by_role("link", name="Inspection").click()
    expect(page.get_by_label("Scan a unit's LPN label")).to_be_focused()
    shoot(page, "inspection-desk")
    scan(page, jacket)
    expect(page.get_by_role("group", name="Tags attached")).to_be_visible()
    press(page, "y", "y")
    expect(page.locator("#score")).to_contain_text("Score")
    shoot(page, "inspection-checklist")
    press(page, "3", "y", "F10")
    expect(page.get_by_role("status")).to_contain_text(f"{jacket} graded A")
    expect(page.locator("#result .recommended-outcome")).to_have_text("Restock → RESTOCK-A")
    shoot(page, "inspection-graded")

    press(page, "F2")
    expect(page.locator(".recommended-outcome")).to_have_text("Restock → RESTOCK-A")
    shoot(page, "disposition-decide")
    press(page, "Enter")
    expect(page.locator(".put-away")).to_contain_text("RESTOCK-A")
    expect(page.get_by_label("Scan the location label")).to_be_focused()
    shoot(page, "disposition-put-away")
    scan(page, "RESTOCK-A")
    expect(page.get_by_role("status")).to_contain_text(f"{jacket} put away in RESTOCK-A")

    page.goto(f"{demo.url}/disposition/units/{jacket}/label/")
    expect(page.locator(".label-outcome")).to_have_text("RESTOCK")
    shoot(page, "disposition-label-page")

    page.goto(f"{demo.url}/inspection/")
    expect(page.get_by_label("Scan a unit's LPN label")).to_be_focused()
    scan(page, shirt)
    expect(page.get_by_role("group", name="Tags attached")).to_be_visible()
    press(page, "y", "n", "2", "y", "F10")
    expect(page.get_by_role("status")).to_contain_text(f"{shirt} graded")
    press(page, "F2")
    expect(page.locator(".recommended-outcome")).to_be_visible()
    page.keyboard.press("F4")
    expect(page.get_by_label("Outcome")).to_be_focused()
    page.get_by_label("Outcome").select_option("quarantine")
    page.get_by_label("Reason").select_option("worse_than_graded")
    page.get_by_label("Note", exact=True).fill("Smells of smoke")
    shoot(page, "disposition-override")
    page.keyboard.press("Enter")
    wait_for_htmx(page)
    expect(page.locator("#unit-disposition")).to_contain_text("Waiting for a supervisor")
    shoot(page, "disposition-override-waiting")

    # The carrier brings back a parcel it could not deliver: no RMA, so the desk authorises one.
    page.goto(f"{demo.url}/receiving/")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()
    scan(page, "JJD0099887766")
    offer = page.locator("#unannounced-offer")
    offer.locator("select[name=program]").select_option(label="Delivery failure (return to sender)")
    offer.locator("select[name=reason]").select_option(
        label="Undeliverable (refused or no one home)"
    )
    press(page, "F6")
    expect(page.get_by_role("status")).to_contain_text("Receiving without an RMA")
    scan(page, "AP-TEE-S")
    scan(page, "EL-CHG-65")
    expect(page.locator(".lpn-label")).to_contain_text("EL-CHG-65")
    shoot(page, "receiving-without-rma")


QUEUE_FILTERS = [
    # queue, its filter, the option chosen, a row the filtered queue shows
    ("awaiting_inspection", "program", "Rental or lease return", "EL-TAB-10"),
    ("awaiting_disposition", "site", "London DC", "AP-SNK-42"),
    ("awaiting_approval", "outcome", "Donate", "AP-JKT-L"),
    ("exceptions", "kind", "Unmatched parcel", "1Z999AA10199999999"),
    ("open_lots", "outcome", "Quarantine / destroy", "GreenCycle"),
    ("repairs", "program", "Warranty repair or replacement", "EL-PHN-X12"),
]


def test_the_supervisors_screens(page, demo, shoot):
    log_in(page, demo, "supervisor", password=PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("img", name="Units received", exact=True)).to_be_visible()
    shoot(page, "supervisor-dashboard")

    for key, field, choice, row in QUEUE_FILTERS:
        page.goto(f"{demo.url}/supervisor/queues/{key}/")
        page.locator(f"form select[name={field}]").select_option(label=choice)
        page.get_by_role("button", name="Filter").click()
        wait_for_htmx(page)
        expect(page.locator("#queue-table tbody")).to_contain_text(row)
        shoot(page, f"queue-{key.replace('_', '-')}")

    page.get_by_role("link", name="Units", exact=True).click()
    page.locator("form select[name=status]").select_option(label="Inspected, awaiting disposition")
    page.get_by_role("button", name="Filter").click()
    wait_for_htmx(page)
    expect(page.locator("#queue-table tbody")).to_contain_text("AP-SNK-42")
    received = page.locator("#queue-table tbody tr td").first
    assert lines_of_text(received) == 1
    shoot(page, "units-register")

    page.goto(f"{demo.url}/supervisor/queues/exceptions/")
    unmatched = page.get_by_role("row").filter(has_text="1Z999AA10199999999")
    unmatched.get_by_role("link", name="Resolve #").click()
    page.get_by_label("Find by RMA, order, tracking or customer e-mail").fill(
        "tom.evans@example.com"
    )
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("button", name="Link to RMA-100002")).to_be_visible()
    assert lines_of_text(page.get_by_role("cell", name="RMA-100002", exact=True)) == 1
    shoot(page, "exception-resolution")

    page.get_by_label("Find an LPN, RMA, order, tracking or serial").fill("1Z999AA10123456784")
    shoot(page, "global-search")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="RMA-100001")).to_be_visible()
    shoot(page, "rma-page")

    kettle = ReturnItem.objects.get(serial_number="SN-KTL-7731").lpn
    page.get_by_label("Find an LPN, RMA, order, tracking or serial").fill("SN-KTL-7731")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=kettle)).to_be_visible()
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Disposition decided")
    shoot(page, "unit-timeline")

    waiting = ReturnItem.objects.get(rma_line__rma__number="RMA-100014").lpn
    page.goto(f"{demo.url}/disposition/units/{waiting}/")
    expect(page.get_by_role("button", name="Approve override")).to_be_visible()
    shoot(page, "override-approval")

    page.goto(f"{demo.url}/disposition/lots/")
    expect(page.locator("main")).to_contain_text("GreenCycle Recycling Ltd")
    assert lines_of_text(page.get_by_role("cell", name=re.compile(r"^LOT-\d+$")).first) == 1
    shoot(page, "lots")

    page.goto(f"{demo.url}/disposition/repairs/")
    expect(page.locator("main")).to_contain_text("EL-PHN-X12 Smartphone X12 128 GB")
    assert lines_of_text(page.get_by_role("cell", name=re.compile(r"^RO-\d+$")).first) == 1
    shoot(page, "repairs")


def test_the_admins_and_customers_screens(page, demo, shoot):
    log_in(page, demo, "admin", password=PASSWORD)
    page.goto(f"{demo.url}/admin/")
    expect(page.get_by_role("link", name="Return policies")).to_be_visible()
    shoot(page, "admin-index")

    page.goto(f"{demo.url}/admin/returns_desk/program/")
    expect(page.locator("#result_list")).to_contain_text("End of life / take-back")
    shoot(page, "admin-programs")

    policy = ReturnPolicy.objects.get(name="Standard 30 days")
    page.goto(f"{demo.url}/admin/returns_desk/returnpolicy/{policy.pk}/change/")
    expect(page.get_by_label("Window days")).to_have_value("30")
    shoot(page, "admin-policy")

    electronics = ProductCategory.objects.get(code="electronics")
    page.goto(f"{demo.url}/admin/inspection/checklistcategory/{electronics.pk}/change/")
    expect(page.locator("main")).to_contain_text("Battery health")
    shoot(page, "admin-checklist")

    scale = GradeScale.objects.get(is_default=True)
    page.goto(f"{demo.url}/admin/inspection/gradescale/{scale.pk}/change/")
    expect(page.locator("main")).to_contain_text("like new")
    shoot(page, "admin-grade-scale")

    page.goto(f"{demo.url}/admin/disposition/dispositionrule/")
    expect(page.locator("#result_list")).to_contain_text("Recall: quarantine for destruction")
    shoot(page, "admin-disposition-rules")

    page.goto(f"{demo.url}/admin/disposition/dispositionrule/try/")
    page.get_by_label("Program").select_option(label="Warranty repair or replacement")
    page.get_by_label("Grade").fill("D")
    page.get_by_label("Critical failure").check()
    page.get_by_label("Unit value").fill("499")
    page.get_by_role("button", name="Try the rules").click()
    expect(page.locator("main")).to_contain_text("Warranty, critical fault: back to the vendor")
    shoot(page, "admin-try-rules")

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{demo.url}/track/")
    page.get_by_label("Return number").fill("RMA-100002")
    page.get_by_label("E-mail").fill("tom.evans@example.com")
    page.get_by_role("button", name="Show my return").click()
    expect(page.get_by_role("heading", name="Return RMA-100002")).to_be_visible()
    shoot(page, "tracking-page")
