"""Every page a role can open, read as a screen reader would: labelled controls, images with words.

The pages come from the permission matrix, so a new page is checked the day it is added.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from returns_desk import queues
from returns_desk.models import QueueSLA, ReturnItem
from tests.conftest import client_at_station
from tests.factories import UserFactory, make_unit_at
from tests.test_permission_matrix import (  # noqa: F401 (world is a fixture)
    ADMIN,
    API,
    CLERK,
    EXPECTED,
    PUBLIC,
    RANK,
    SUPERVISOR,
    all_routes,
    path_for,
    world,
)

pytestmark = pytest.mark.django_db

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Audit(HTMLParser):
    """Collects form controls with no label, images without alt, and the page's landmarks."""

    def __init__(self):
        super().__init__()
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.controls: list[tuple[str, dict, bool]] = []
        self.images_without_alt: list[str] = []
        self.header_cells_without_scope: list[str] = []
        self.html_lang = None
        self.skip_link = False
        self.main_id = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"}:
            if attrs.get("type") not in UNLABELLED_TYPES or tag != "input":
                self.controls.append((tag, attrs, self.open_labels > 0))
        elif tag == "img" and attrs.get("alt") is None:
            self.images_without_alt.append(attrs.get("src", "?"))
        elif tag == "a" and attrs.get("href") == "#main" and "skip-link" in attrs.get("class", ""):
            self.skip_link = True
        elif tag == "main":
            self.main_id = attrs.get("id")
        elif tag == "th" and attrs.get("scope") not in {"col", "row", "colgroup", "rowgroup"}:
            self.header_cells_without_scope.append(self.getpos()[0])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} name={attrs.get('name')!r}>"
            for tag, attrs, wrapped in self.controls
            if not wrapped
            and attrs.get("id") not in self.label_for
            and not attrs.get("aria-label")
            and not attrs.get("aria-labelledby")
        ]


def _pages(client, world, station):  # noqa: F811
    """(where, html) for every HTML page each role may open."""
    for role in (CLERK, SUPERVISOR):
        client_at_station(client, UserFactory(username=f"a11y-{role}", role=role), station)
        for route in all_routes():
            expect = EXPECTED[route.name]
            # The API's Swagger page and Django admin are third-party screens.
            if "GET" not in expect.methods or expect.role in {API, ADMIN}:
                continue
            if route.name.startswith("api:"):
                continue
            if expect.role != PUBLIC and RANK[role] < RANK[expect.role]:
                continue
            response = client.get(path_for(route, world))
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                yield f"{role} {route.name}", response.content.decode()


def test_every_page_labels_its_controls_and_gives_images_a_text_alternative(
    client,
    world,  # noqa: F811
    station,
):
    failures = []
    for where, html in _pages(client, world, station):
        audit = _Audit()
        audit.feed(html)
        failures += [f"{where}: unlabelled {control}" for control in audit.unlabelled()]
        failures += [f"{where}: <img src={src}> has no alt" for src in audit.images_without_alt]
        if audit.header_cells_without_scope:
            failures.append(
                f"{where}: <th> without scope on lines {audit.header_cells_without_scope}"
            )
        if not audit.html_lang:
            failures.append(f"{where}: <html> has no lang")
        # Django admin's templates draw the password pages; every other page is ours.
        ours = " password_" not in where
        if ours and not (audit.skip_link and audit.main_id == "main"):
            failures.append(f"{where}: no skip link to <main id=main>")
    assert failures == [], "\n".join(failures)


def _row_text(html: str, lpn: str) -> str:
    row = next(row for row in html.split("<tr")[1:] if f"/supervisor/units/{lpn}/" in row)
    return re.sub(r"<[^>]+>", " ", row.split(">", 1)[1])


def test_a_queue_row_past_its_sla_says_late_in_words_not_only_in_red(client, station, clerk):
    late, fresh = (make_unit_at("received", station=station, user=clerk) for _ in range(2))
    ReturnItem.objects.filter(pk=late.pk).update(
        status_changed_at=timezone.now() - timedelta(hours=3)
    )
    QueueSLA.objects.create(queue="awaiting_inspection", hours=2)
    client_at_station(client, UserFactory(username="sam", role="supervisor"), station)

    html = client.get("/supervisor/queues/awaiting_inspection/").content.decode()

    assert "⚠ late" in _row_text(html, late.lpn)
    assert "late" not in _row_text(html, fresh.lpn)


def test_every_empty_queue_says_what_will_appear_there_and_when(client, station):
    client_at_station(client, UserFactory(username="sam", role="supervisor"), station)
    for queue in queues.registered():
        html = client.get(f"/supervisor/queues/{queue.key}/").content.decode()
        empty = html.split('class="empty">', 1)[1].split("</td>", 1)[0]
        assert re.search(r"appears? here (after|once|when)", empty), f"{queue.key}: {empty}"
