"""Labels print whole on one 4 x 6 in label: Chromium's PDF, read back with poppler-utils.

F8 prints the page the clerk is on, so the receiving desk itself is printed as well as the
label pages: only the label may come out, on exactly one label-sized page, at full size.
"""

import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from disposition.services import decide_disposition
from returns_desk.models import Station
from tests.e2e.conftest import choose_station, log_in, wait_for_htmx
from tests.e2e.test_screenshots import PASSWORD, inspected
from tests.e2e.test_unit_journey import scan

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which("pdftoppm"), reason="needs poppler-utils (scripts/test.sh installs it)"
    ),
]

LABEL_POINTS = (288.0, 432.0)  # 4 x 6 in
DPI = 100


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def printed(page, path: Path) -> tuple[dict[str, str], str, Image.Image]:
    """Print the page as Chromium does for F8; return pdfinfo's fields, the text and the PNG."""
    page.pdf(path=path, prefer_css_page_size=True, print_background=True)
    info = dict(
        line.split(":", 1) for line in run("pdfinfo", str(path)).splitlines() if ":" in line
    )
    text = run("pdftotext", "-layout", str(path), "-")
    run("pdftoppm", "-png", "-r", str(DPI), "-singlefile", str(path), str(path.with_suffix("")))
    return (
        {key.strip(): value.strip() for key, value in info.items()},
        text,
        Image.open(path.with_suffix(".png")).convert("L"),
    )


def barcode_rows(image: Image.Image) -> list[tuple[int, int, int]]:
    """Rows that cross a barcode: (y, first dark x, last dark x) where bars alternate often."""
    rows = []
    for y in range(image.height):
        dark = [image.getpixel((x, y)) < 128 for x in range(image.width)]
        edges = sum(1 for left, right in zip(dark, dark[1:], strict=False) if left != right)
        if edges >= 40:
            rows.append((y, dark.index(True), len(dark) - 1 - dark[::-1].index(True)))
    return rows


def assert_one_whole_label(info, text, image, *, shows: list[str]) -> None:
    assert info["Pages"] == "1"
    width, height = (float(n) for n in info["Page size"].split(" pts")[0].split(" x "))
    assert (round(width), round(height)) == LABEL_POINTS
    for words in shows:
        assert words in text
    # The header, scan fields, buttons and panels around the label on the desks and label pages.
    chrome = ["Returns Desk", "Log out", "Scan a ", "Scan the", "Enter", "Print label"]
    for words in [*chrome, "Recent", "Put away", "Back to"]:
        assert words not in text
    bars = barcode_rows(image)
    # The barcode is printed, at the top of the label and nearly its full width, not shrunk.
    assert len(bars) >= 0.6 * DPI
    assert bars[0][0] < image.height / 4
    assert max(right - left for _, left, right in bars) > 0.8 * image.width
    # Nothing of the page around it: below the label's text, the last quarter is blank paper.
    darkest, _ = image.crop((0, image.height * 3 // 4, image.width, image.height)).getextrema()
    assert darkest > 200


@pytest.fixture
def clerk_at_desk(page, live_server):
    # The configuration and RMAs: the clerk's flow needs none of the past weeks' work.
    call_command("seed_demo", activity_days=0, stdout=StringIO())
    log_in(page, live_server, "clerk", password=PASSWORD)
    choose_station(page, "LON · MIX-01")
    expect(page.get_by_label("Scan a parcel")).to_be_focused()
    return page


def test_the_receiving_desk_prints_only_the_label(clerk_at_desk, live_server, tmp_path):
    page = clerk_at_desk
    scan(page, "RMA-100009")
    scan(page, "AP-JKT-M")
    lpn = page.locator(".lpn-label").get_attribute("data-lpn")

    info, text, image = printed(page, tmp_path / "desk.pdf")
    assert_one_whole_label(info, text, image, shows=[lpn, "AP-JKT-M", "RMA-100009"])

    page.goto(f"{live_server.url}/receiving/units/{lpn}/label/")
    wait_for_htmx(page)
    info, text, image = printed(page, tmp_path / "label-page.pdf")
    assert_one_whole_label(info, text, image, shows=[lpn, "AP-JKT-M", "RMA-100009"])


def test_the_disposition_label_prints_whole(clerk_at_desk, live_server, tmp_path):
    station = Station.objects.get(site__code="lon", code="MIX-01")
    kettle = inspected("RMA-100002", "SN-KTL-7731")
    decide_disposition(item=kettle, station=station, user=User.objects.get(username="clerk"))

    shows = [kettle.lpn, "QUARANTINE", "EL-KTL-17", "SN-KTL-7731"]
    # The put-away screen, where F8 prints straight from the desk, and the label page.
    for path, name in [("", "disposition-desk"), ("label/", "disposition")]:
        clerk_at_desk.goto(f"{live_server.url}/disposition/units/{kettle.lpn}/{path}")
        expect(clerk_at_desk.locator(".disposition-label")).to_be_visible()
        info, text, image = printed(clerk_at_desk, tmp_path / f"{name}.pdf")
        assert_one_whole_label(info, text, image, shows=shows)
