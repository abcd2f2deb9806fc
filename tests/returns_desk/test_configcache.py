"""Configuration cached per process is never used once an admin's change has committed."""

import pytest
from django.contrib.auth.models import Group

from disposition.models import Disposition, DispositionSettings
from inspection.models import Inspection
from returns_desk import configcache
from returns_desk.models import ReturnItem, Station
from returns_desk.roles import CLERK
from tests.conftest import client_at_station
from tests.disposition.helpers import configure, inspected_unit, make_checklist, make_rules
from tests.factories import CategoryFactory, ProductFactory, make_unit_at

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


def test_a_clerk_taken_out_of_the_clerk_group_is_refused_on_the_next_request(clerk_client, clerk):
    assert clerk_client.get("/receiving/").status_code == 200

    clerk.groups.remove(Group.objects.get(name=CLERK))

    assert clerk_client.get("/receiving/").status_code == 403


def test_a_permission_taken_from_the_clerk_group_is_refused_on_the_next_request(clerk_client):
    assert clerk_client.get("/receiving/").status_code == 200

    group = Group.objects.get(name=CLERK)
    group.permissions.remove(group.permissions.get(codename="receive_returns"))

    assert clerk_client.get("/receiving/").status_code == 403


def test_a_station_made_inactive_is_no_longer_the_clerks_station(clerk_client, station):
    assert clerk_client.get("/receiving/").status_code == 200

    station.active = False
    station.save()

    response = clerk_client.get("/receiving/")
    assert response.status_code == 302
    assert response["Location"].startswith("/station/")


def test_a_station_turned_into_an_inspection_station_no_longer_receives(clerk_client, station):
    assert clerk_client.get("/receiving/").status_code == 200

    station.kind = Station.Kind.INSPECTION
    station.save()

    assert clerk_client.post("/receiving/scan/", {"code": "RMA-1"}).status_code == 403


def test_a_question_made_required_is_required_at_the_next_submit(client, clerk, station):
    category = CategoryFactory(code="audio", name="Audio")
    checklist = make_checklist(category)
    product = ProductFactory(category=category)
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    client_at_station(client, clerk, station)
    assert "Safe to use" in client.get("/inspection/").text  # the checklist is cached now

    safety = checklist["safe"]
    safety.required = True
    safety.save()
    inspection = Inspection.objects.get(item=item, finished_at__isnull=True)
    response = client.post(
        f"/inspection/inspections/{inspection.pk}/complete/",
        {f"c-{checklist['condition'].pk}": "4"},
    )

    assert response.status_code == 422
    item.refresh_from_db()
    assert item.status == Status.INSPECTING


def test_a_rule_changed_after_a_unit_was_shown_decides_by_the_new_rule(client, clerk, station):
    category = CategoryFactory(code="audio", name="Audio")
    rules = make_rules(partner=None)
    configure()
    unit = inspected_unit(
        "A", checklist=make_checklist(category), station=station, user=clerk, value="50.00"
    )
    client_at_station(client, clerk, station)
    assert "RESTOCK-A" in client.get(f"/disposition/units/{unit.lpn}/").text

    restock = rules["restock"]
    restock.destination_bin = "RESTOCK-B"
    restock.save()
    client.post(f"/disposition/units/{unit.lpn}/")

    assert Disposition.objects.get(item=unit).destination_bin == "RESTOCK-B"


def test_a_changed_approval_threshold_applies_to_the_next_override(client, clerk, station):
    category = CategoryFactory(code="audio", name="Audio")
    make_rules(partner=None)
    config = configure()
    unit = inspected_unit("A", checklist=make_checklist(category), station=station, user=clerk)
    client_at_station(client, clerk, station)
    client.get(f"/disposition/units/{unit.lpn}/")

    config.override_value_threshold = 10
    config.save()
    override = {"outcome": "liquidate", "override_reason": "missing_parts"}
    client.post(f"/disposition/units/{unit.lpn}/", override)

    assert Disposition.objects.get(item=unit).status == Disposition.Status.AWAITING_APPROVAL
    assert DispositionSettings.load().override_value_threshold == 10


def test_what_a_request_gets_from_the_cache_is_its_own_copy(station):
    first = configcache.cached(("test", station.pk), lambda: Station.objects.get(pk=station.pk))
    first.code = "CHANGED"

    again = configcache.cached(("test", station.pk), lambda: pytest.fail("computed twice"))

    assert again.code == station.code
