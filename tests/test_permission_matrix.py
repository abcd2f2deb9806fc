"""Every URL the project serves, asked by every role: who gets in, who is refused, and how.

The URL list comes from the resolver, so a page added without a line in EXPECTED fails
`test_every_url_has_an_expectation` the day it is added. Django admin's own model pages are
left to Django (its index is in); the API's pages answer to keys, never sessions.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from disposition.models import Lot, Outcome, Partner
from disposition.services import decide_disposition
from inspection.models import Photo
from returns_desk import services
from tests.conftest import client_at_station
from tests.disposition.helpers import inspected_unit, make_checklist, make_rules
from tests.factories import CategoryFactory, UserFactory, make_rma, open_parcel

pytestmark = pytest.mark.django_db

PUBLIC, USER, CLERK, SUPERVISOR, ADMIN, API = (
    "public",
    "user",
    "clerk",
    "supervisor",
    "admin",
    "api",
)
RANK = {None: 0, USER: 1, CLERK: 2, SUPERVISOR: 3, ADMIN: 4}
ROLES = [None, CLERK, SUPERVISOR, ADMIN]
GET, POST, BOTH = {"GET"}, {"POST"}, {"GET", "POST"}


@dataclass(frozen=True)
class Expect:
    """Who may use a URL (the lowest role), which methods it answers, and its happy status."""

    role: str
    methods: frozenset = frozenset(GET)
    ok: int = 200
    # Path parameters filled with an existing object's value, by the name of the object.
    pk: str = ""


def page(role, **kw) -> Expect:
    return Expect(role, frozenset(GET), **kw)


def action(role, **kw) -> Expect:
    return Expect(role, frozenset(POST), **kw)


def form(role, **kw) -> Expect:
    return Expect(role, frozenset(BOTH), **kw)


EXPECTED = {
    "home": page(CLERK, ok=302),
    "station": form(CLERK),
    "receiving:desk": page(CLERK),
    "receiving:scan": action(CLERK),
    "receiving:park": action(CLERK),
    "receiving:unannounced": action(CLERK),
    "receiving:close": action(CLERK, pk="parcel"),
    "receiving:exception_unit": action(CLERK, pk="parcel"),
    "receiving:label": page(CLERK),
    "inspection:desk": page(CLERK),
    "inspection:scan": action(CLERK),
    "inspection:preview": action(CLERK, pk="inspection"),
    "inspection:complete": action(CLERK, pk="inspection"),
    "inspection:reopen": action(SUPERVISOR),
    "inspection:photo": page(CLERK, pk="photo"),
    "disposition:desk": page(CLERK),
    "disposition:scan": action(CLERK),
    "disposition:decide": form(CLERK),
    "disposition:approve": action(SUPERVISOR),
    "disposition:reject": action(SUPERVISOR),
    "disposition:label": page(CLERK),
    "disposition:lots": page(SUPERVISOR),
    "disposition:close_lot": action(SUPERVISOR, pk="lot"),
    "disposition:manifest": page(SUPERVISOR, pk="lot"),
    "disposition:manifest_csv": page(SUPERVISOR, pk="lot"),
    "disposition:repairs": page(CLERK),
    "disposition:complete_repair": action(CLERK, pk="repair"),
    "supervisor:queue": form(SUPERVISOR),
    "supervisor:queue_csv": page(SUPERVISOR),
    "supervisor:exception": page(SUPERVISOR, pk="exception"),
    "supervisor:exception_link": action(SUPERVISOR, pk="exception"),
    "supervisor:exception_create_rma": action(SUPERVISOR, pk="exception"),
    "supervisor:exception_resolve": action(SUPERVISOR, pk="exception"),
    "supervisor:rma": page(SUPERVISOR),
    "supervisor:rma_cancel": action(SUPERVISOR),
    # Without a query the search says what to type, as a 400.
    "supervisor:search": page(SUPERVISOR, ok=400),
    "supervisor:dashboard": page(SUPERVISOR),
    "supervisor:units": page(SUPERVISOR),
    "supervisor:units_csv": page(SUPERVISOR),
    "supervisor:unit": page(SUPERVISOR),
    "track": form(PUBLIC),
    "healthz": page(PUBLIC),
    "login": form(PUBLIC),
    "logout": action(USER, ok=302),
    "password_change": form(USER),
    "password_change_done": page(USER),
    "password_reset": form(PUBLIC),
    "password_reset_done": page(PUBLIC),
    "password_reset_confirm": page(PUBLIC),
    "password_reset_complete": page(PUBLIC),
    "admin:index": page(ADMIN),  # Django admin has its own login page
    # The API's description is public; its data answers to keys only.
    "api:openapi-json": page(PUBLIC),
    "api:openapi-view": page(PUBLIC),
    "api:create_rma": Expect(API, frozenset(POST)),
    "api:cancel_rma": Expect(API, frozenset(POST)),
    "api:list_changed_rmas": page(API),
    "api:read_rma": page(API),
    "api:read_unit": page(API),
    "api:api-root": page(PUBLIC, ok=404),
}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    params: tuple[str, ...]


def _routes(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[Route]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            found += _routes(pattern, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            params = tuple(pattern.pattern.regex.groupindex)
            found.append(Route(name, prefix + str(pattern.pattern), params))
    return found


def all_routes() -> list[Route]:
    # Django admin's own pages below its index are Django's to test.
    return [
        route
        for route in _routes(get_resolver())
        if (route.name == "admin:index" or not route.name.startswith("admin:"))
        and not route.route.startswith("static")
    ]


def test_every_url_has_an_expectation():
    names = {route.name for route in all_routes()}
    assert names - EXPECTED.keys() == set(), "add the new URLs to EXPECTED"
    assert EXPECTED.keys() - names == set(), "EXPECTED names URLs that no longer exist"


@pytest.fixture
def world(station, clerk, tmp_path, settings):
    """One of each object a path names, so pages answer about something that exists."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    partner = Partner.objects.create(code="green", name="Green", kind=Partner.Kind.RECYCLER)
    make_rules(partner)
    item = inspected_unit(
        "C",
        checklist=make_checklist(CategoryFactory(code="electronics")),
        station=station,
        user=clerk,
    )
    decided, _ = decide_disposition(item=item, station=station, user=clerk)
    inspection = item.inspections.get()
    image = tmp_path / "evidence.png"
    Image.new("RGB", (4, 4)).save(image)
    photo = Photo.objects.create(
        inspection=inspection, image=SimpleUploadedFile("evidence.png", image.read_bytes())
    )
    parcel = open_parcel(make_rma((item.product, 2)), station, clerk)
    parked = services.park_parcel(parcel=parcel, station=station, user=clerk, reason="Torn")
    lot = Lot.objects.create(code="LOT-000001", partner=partner, outcome=Outcome.RECYCLE)
    return {
        "lpn": item.lpn,
        "number": item.rma_line.rma.number,
        "key": "awaiting_inspection",
        "uidb64": "MQ",
        "token": "set-password",
        "parcel": parcel.pk,
        "inspection": inspection.pk,
        "photo": photo.pk,
        "lot": lot.pk,
        "repair": decided.repair_order.pk,
        "exception": parked.exceptions.get().pk,
    }


def path_for(route: Route, world: dict) -> str:
    path = route.route.replace("^", "").replace("$", "")
    for param in route.params:
        value = world[EXPECTED[route.name].pk] if param == "pk" else world[param]
        path = re.sub(rf"<(\w+:)?{param}>", str(value), path)
    return "/" + path


def expected_status(expect: Expect, role: str | None, method: str) -> int | str:
    if expect.role == API:
        # A method the endpoint lacks is 405 before any key is read, unless another endpoint
        # answers it on the same path (GET /rmas lists, POST /rmas creates): then that one's 401.
        return 401 if method in expect.methods else "401 or 405"
    if role is None and expect.role == ADMIN:
        return "admin login"
    if role is None and expect.role != PUBLIC:
        return "login"
    if method not in expect.methods:
        return 405
    if expect.role == PUBLIC or RANK[role] >= RANK[expect.role]:
        return expect.ok
    # Django admin sends signed-in non-staff to its own login page instead of refusing.
    return "admin login" if expect.role == ADMIN else 403


def test_each_role_gets_the_expected_answer_from_every_url(client, world, station):
    users = {role: UserFactory(username=f"matrix-{role}", role=role) for role in ROLES if role}
    failures = []
    for role in ROLES:
        client.logout()
        if role:
            client_at_station(client, users[role], station)
        for route in all_routes():
            expect = EXPECTED[route.name]
            path = path_for(route, world)
            for method in ("GET", "POST"):
                if method == "POST" and method not in expect.methods:
                    continue
                wanted = expected_status(expect, role, method)
                response = getattr(client, method.lower())(path)
                got = response.status_code
                if wanted == "login":
                    ok = got == 302 and response["Location"].startswith("/accounts/login/")
                elif wanted == "401 or 405":
                    ok = got in {401, 405}
                elif wanted == "admin login":
                    ok = got == 302 and response["Location"].startswith("/admin/login/")
                elif method == "POST" and wanted == expect.ok:
                    # An empty form is refused in the view's own words, never by the door.
                    ok = got < 500 and got not in {401, 403, 405}
                else:
                    ok = got == wanted
                if not ok:
                    failures.append(f"{role or 'anonymous'} {method} {path}: {got}, not {wanted}")
                if role and "_auth_user_id" not in client.session:
                    client_at_station(client, users[role], station)  # after logging out
    assert failures == [], "\n".join(failures)


RUNNABLE = {"", "text/javascript", "module", "application/javascript"}


class _InlineCode(HTMLParser):
    """Collects what a strict CSP blocks: inline scripts and styles without a nonce, style=""."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # A JSON data block (<script type="application/json">) is never run, so CSP allows it.
        runs = tag == "style" or attrs.get("type", "text/javascript") in RUNNABLE
        if runs and tag in {"script", "style"} and "src" not in attrs and "nonce" not in attrs:
            self.blocked.append(f"<{tag}> without a nonce")
        if "style" in attrs:
            self.blocked.append(f'<{tag} style="{attrs["style"]}">')


def test_every_page_keeps_to_the_content_security_policy_and_refuses_framing(
    client, world, station
):
    failures = []
    for role in (CLERK, SUPERVISOR, ADMIN):
        client_at_station(client, UserFactory(username=f"csp-{role}", role=role), station)
        for route in all_routes():
            expect = EXPECTED[route.name]
            if "GET" not in expect.methods or expect.role == API:
                continue
            response = client.get(path_for(route, world))
            if response.status_code != 200:
                continue
            where = f"{role} {route.name}"
            if response["X-Frame-Options"] != "DENY":
                failures.append(f"{where}: X-Frame-Options {response['X-Frame-Options']}")
            if not response["Content-Type"].startswith("text/html"):
                continue
            if "Content-Security-Policy" not in response:
                failures.append(f"{where}: no Content-Security-Policy header")
            parser = _InlineCode()
            parser.feed(response.content.decode())
            failures += [f"{where}: {blocked}" for blocked in parser.blocked]
    assert failures == [], "\n".join(failures)


def test_evidence_photos_are_served_as_images_that_browsers_must_not_sniff(
    client, world, station, clerk
):
    client_at_station(client, clerk, station)

    response = client.get(f"/inspection/photos/{world['photo']}/")

    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
