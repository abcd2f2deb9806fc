"""Two supervisors resolve the same exception at the same instant: exactly one wins."""

import pytest

from returns_desk import services
from returns_desk.exceptions import ExceptionNotOpen
from returns_desk.models import ItemEvent, ReturnItem
from tests.factories import UserFactory, make_unit_at
from tests.returns_desk.test_concurrency import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data_restored"),
]


def test_a_held_unit_released_and_written_off_at_once_is_resolved_once(station, clerk):
    item = make_unit_at(ReturnItem.Status.HELD, station=station, user=clerk)
    exception = item.exceptions.get()
    sam, sue = UserFactory(role="supervisor"), UserFactory(role="supervisor")

    results = run_together(
        lambda: services.release_exception(exception=exception, reason="ok", user=sam),
        lambda: services.write_off_exception(exception=exception, reason="no", user=sue),
    )

    assert sum(isinstance(result, ExceptionNotOpen) for result in results) == 1
    assert ItemEvent.objects.filter(item=item, action="exception_resolved").count() == 1
