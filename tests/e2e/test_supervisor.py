"""A supervisor works the queues: filters, approves in bulk, resolves a parcel, reads a unit."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from disposition import services as disposition
from returns_desk import services
from returns_desk.models import Parcel, ReturnItem, Station
from tests.e2e.conftest import lines_of_text, log_in, wait_for_htmx
from tests.e2e.test_disposition import make_inspected  # noqa: F401 (a shared fixture)
from tests.factories import ProductFactory, UserFactory, make_rma

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def floor(make_inspected):  # noqa: F811
    """Two overrides waiting for approval, one unit to restock, one unmatched parcel."""
    station, clara = Station.objects.get(code="MIX-01"), User.objects.get(username="clara")
    UserFactory(username="sam", role="supervisor")
    waiting = [
        disposition.decide_disposition(
            item=make_inspected("A", value="250.00"),
            station=station,
            user=clara,
            outcome=outcome,
            override_reason="worse_than_graded",
        )[0]
        for outcome in ("liquidate", "donate")
    ]
    services.park_unmatched_parcel(code="1Z-NOLABEL", station=station, user=clara)
    rma = make_rma((ProductFactory(), 1), customer_email="ann@example.com")
    return {"waiting": waiting, "rma": rma}


def test_supervisor_filters_approves_resolves_and_reads_a_timeline(page, live_server, floor):
    liquidate, donate = floor["waiting"]
    log_in(page, live_server, "sam")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("img", name="Units received", exact=True)).to_be_visible()

    page.get_by_role("link", name="Overrides awaiting approval 2").click()
    page.get_by_label("Outcome").select_option("liquidate")
    page.get_by_role("button", name="Filter").click()
    wait_for_htmx(page)
    expect(page.locator("#queue-table tbody tr")).to_have_count(1)
    expect(page.locator("#queue-table")).to_contain_text(liquidate.item.lpn)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert liquidate.item.lpn in download.value.path().read_text()
    assert donate.item.lpn not in download.value.path().read_text()

    page.get_by_label("Select every row on this page").check()
    page.get_by_role("button", name="Apply to ticked rows").click()
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text("Approve: 1 done.")
    liquidate.item.refresh_from_db()
    assert liquidate.item.status == ReturnItem.Status.DISPOSED

    page.get_by_role("link", name="Exceptions 1").click()
    page.get_by_role("link", name="Resolve #").click()
    page.get_by_label("Find by RMA, order, tracking or customer e-mail").fill("ann@example.com")
    page.get_by_role("button", name="Search").click()
    rma = floor["rma"]
    row = page.get_by_role("row").filter(has_text=rma.number)
    row.get_by_label("Reason").fill("customer phoned")
    row.get_by_role("button", name=f"Link to {rma.number}").click()
    wait_for_htmx(page)
    expect(page.get_by_role("status")).to_contain_text(f"Linked to RMA {rma.number}")
    assert Parcel.objects.get(scanned_code="1Z-NOLABEL").status == Parcel.Status.OPEN

    page.get_by_label("Find an LPN, RMA, order, tracking or serial").fill(liquidate.item.lpn)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=liquidate.item.lpn)).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Override approved")
    expect(timeline).to_contain_text("sam")


def test_a_wide_queue_keeps_each_code_on_one_line(page, live_server, floor):
    """Twelve columns at 1280 px: the note and reason wrap, an LPN or a station does not
    break at its hyphen."""
    unit = floor["waiting"][0].item
    log_in(page, live_server, "sam")
    page.get_by_role("link", name="Overrides awaiting approval 2").click()
    row = page.locator("#queue-table tbody tr", has_text=unit.lpn)
    for code in (unit.lpn, "MIX-01"):
        cell = row.locator("td", has_text=code).first
        assert "-" in code
        assert lines_of_text(cell) == 1, code
