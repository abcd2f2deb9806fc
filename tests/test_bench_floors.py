"""The benchmark's floors measure a clerk's checked POST only while they answer like a scan does."""

import pytest
from django.test import override_settings

from returns_desk.models import ItemEvent

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]

FLOORS = ["/bench/floor/checks/", "/bench/floor/locked-row/"]


@pytest.mark.parametrize("path", FLOORS)
def test_a_clerk_at_a_receiving_station_passes_the_checks_and_nothing_is_written(
    clerk_client, clerk, station, path
):
    response = clerk_client.post(path, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.decode() in {f"ok {station.code}", f"ok {clerk.username}"}
    assert not ItemEvent.objects.exists()


@pytest.mark.parametrize("path", FLOORS)
def test_the_floors_refuse_what_a_scan_refuses(client, clerk, supervisor, path):
    assert client.post(path).status_code == 302  # to the login page
    client.force_login(clerk)
    assert client.post(path).status_code == 403  # no station chosen
    client.force_login(supervisor)
    assert client.post(path).status_code == 403  # may not receive


@override_settings(ROOT_URLCONF="returns_desk.urls")
@pytest.mark.parametrize("path", FLOORS)
def test_the_floors_are_not_served_by_the_app(clerk_client, path):
    assert clerk_client.post(path).status_code == 404
