"""Junk posted to every form endpoint: never a 500, and a refused post changes no row.

The endpoints come from the permission matrix's enumeration of the URL resolver, so a form
added later is fuzzed the day it is added. A supervisor at a station posts, so the role check
lets every request through to the form; field names are those the project's forms declare,
values are long, binary, unicode, malformed numbers, and ids of objects at another site.
"""

import inspect

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth import forms as auth_forms
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disposition import forms as disposition_forms
from inspection import forms as inspection_forms
from inspection.models import GradingCriterion
from returns_desk import forms as receiving_forms
from returns_desk import supervisor_forms, track
from returns_desk.models import ReturnItem
from tests import test_permission_matrix as matrix
from tests.conftest import client_at_station
from tests.factories import (
    CategoryFactory,
    CriterionFactory,
    ProductFactory,
    SiteFactory,
    StationFactory,
    UserFactory,
    make_unit_at,
)

pytestmark = pytest.mark.django_db

world = matrix.world

# Logging out would end the run's session; it takes no input worth fuzzing.
NOT_FUZZED = {"logout"}
FORM_ENDPOINTS = sorted(
    route.name
    for route in matrix.all_routes()
    if "POST" in matrix.EXPECTED[route.name].methods
    and matrix.EXPECTED[route.name].role != matrix.API  # the API has its own fuzz test
    and route.name not in NOT_FUZZED
)
EXAMPLES_PER_ENDPOINT = 20
# Models whose rows a refused post must leave alone: every table of the three apps, and users.
COUNTED = [
    model
    for label in ("returns_desk", "inspection", "disposition", "auth")
    for model in apps.get_app_config(label).get_models()
]
# Names the bulk actions and inspection answers read straight from the POST.
EXTRA_FIELDS = {"select", "action", "note", "next", "q"}


def declared_fields() -> set[str]:
    modules = (receiving_forms, supervisor_forms, track, inspection_forms, disposition_forms)
    names = set(EXTRA_FIELDS)
    for module in (*modules, auth_forms):
        for _, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, forms.BaseForm):
                names |= set(form.base_fields)
    return names


FIELDS = sorted(declared_fields())
MALFORMED = [
    "",
    " ",
    "\x00",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1e999",
    "9" * 40,
    "-9" * 20,
    "0x1F",
    "1,5",
    "٣",  # a digit Python's int() reads
    "\u202eLPN",
    "😀" * 64,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "2026-02-30",
]


def junk(ids: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),
        st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
        st.builds(
            lambda text, times: text * times,
            st.text(min_size=1, max_size=4),
            st.integers(500, 5000),
        ),
        st.sampled_from(MALFORMED),
        st.sampled_from(ids),
    )


@pytest.fixture
def foreign(db) -> dict:
    """Objects of another site and category, whose ids a forged post may name."""
    elsewhere = StationFactory(site=SiteFactory(code="par", name="Paris DC"), code="RCV-99")
    stranger = UserFactory(username="fuzz-foreign", role="clerk")
    criterion = CriterionFactory(category=CategoryFactory(code="foreign"))
    unit = make_unit_at(
        ReturnItem.Status.INSPECTING,
        station=elsewhere,
        user=stranger,
        product=ProductFactory(category=criterion.category),
    )
    return {
        "lpn": unit.lpn,
        "parcel": unit.parcel_id,
        "inspection": unit.inspections.get().pk,
        "station": elsewhere.pk,
        "criterion": criterion.pk,
        "number": unit.rma_line.rma.number,
    }


def row_counts() -> dict[str, int]:
    # One round trip for every table, so counting before and after each post stays cheap.
    tables = [connection.ops.quote_name(model._meta.db_table) for model in COUNTED]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))
        counts = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(COUNTED, counts, strict=True)}


def fuzz_endpoint(client, route: matrix.Route, world: dict, foreign: dict) -> None:
    criteria = GradingCriterion.objects.values_list("pk", flat=True)
    ids = [str(value) for value in (*world.values(), *foreign.values())]
    field_names = [*FIELDS, *(f"c-{pk}" for pk in criteria)]
    paths = [matrix.path_for(route, world)]
    if route.params:  # the same endpoint about the other site's object, or one that is not there
        paths += [
            matrix.path_for(route, {**world, **foreign}),
            matrix.path_for(route, {key: "999999999" for key in world}),
        ]

    @settings(
        max_examples=EXAMPLES_PER_ENDPOINT,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        path=st.sampled_from(paths),
        data=st.dictionaries(st.sampled_from(field_names), junk(ids), max_size=6),
        htmx=st.booleans(),
    )
    def post_junk(path, data, htmx):
        before = row_counts()
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(path, data, headers=headers)

        assert response.status_code < 500, f"{path} {data!r}: {response.status_code}"
        if response.status_code >= 400:
            assert row_counts() == before, f"{path} {data!r} refused but changed rows"

    post_junk()


def test_junk_posted_to_any_form_never_fails_the_server_and_a_refusal_changes_nothing(
    client, world, foreign, station
):
    # One world for every endpoint keeps the run short; what one endpoint's accepted post
    # changed is simply the next endpoint's starting point.
    client_at_station(client, UserFactory(username="fuzz-supervisor", role="supervisor"), station)
    routes = {route.name: route for route in matrix.all_routes()}
    assert len(FORM_ENDPOINTS) > 20  # the enumeration found the forms
    for name in FORM_ENDPOINTS:
        fuzz_endpoint(client, routes[name], world, foreign)
