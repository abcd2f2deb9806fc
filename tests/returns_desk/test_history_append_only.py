"""History rows cannot be changed: the model refuses, and on PostgreSQL so does the database."""

import pytest
from django.db import IntegrityError, connection, transaction

from returns_desk.models import ItemEvent, ReturnItem
from tests.factories import make_unit_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(station, clerk):
    item = make_unit_at(ReturnItem.Status.RECEIVED, station=station, user=clerk)
    return item.events.get(action="received")


def test_the_model_refuses_to_change_or_delete_an_event(event):
    event.action = "forged"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        lambda events: events.update(action="forged"),
        lambda events: events.delete(),
        lambda events: connection.cursor().execute(
            "UPDATE returns_desk_itemevent SET details = '{}' WHERE id = %s", [events.get().pk]
        ),
    ],
    ids=["queryset update", "queryset delete", "raw sql"],
)
def test_postgresql_refuses_to_change_or_delete_an_event(event, change):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        change(ItemEvent.objects.filter(pk=event.pk))

    assert ItemEvent.objects.get(pk=event.pk).action == "received"
