"""A serialised unit restocked, sold again and sent back is received again under its serial."""

import pytest

from disposition import services
from disposition.models import DispositionRule
from returns_desk import services as receiving
from returns_desk.exceptions import SerialAlreadyReceived
from returns_desk.models import ItemEvent, ReturnItem
from tests.conftest import client_at_station
from tests.factories import make_rma, open_parcel

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status


def decide_and_put_away(item, station, clerk) -> None:
    disposition, _ = services.decide_disposition(item=item, station=station, user=clerk)
    services.put_away(item=item, code=disposition.put_away_code, station=station, user=clerk)


def receive_again(earlier, station, clerk) -> ReturnItem:
    parcel = open_parcel(make_rma((earlier.product, 1)), station, clerk)
    unit, _ = receiving.receive_unit(
        parcel=parcel,
        code=earlier.product.sku,
        serial=earlier.serial_number,
        station=station,
        user=clerk,
    )
    return unit


def test_a_restocked_unit_sold_and_returned_again_is_received_and_its_first_story_closed(
    make_inspected, rules, station, clerk, config, client, supervisor
):
    earlier = make_inspected("A", serial="SN-77")
    decide_and_put_away(earlier, station, clerk)

    again = receive_again(earlier, station, clerk)

    earlier.refresh_from_db()
    assert again.pk != earlier.pk
    assert again.serial_number == "SN-77"
    assert again.status == Status.RECEIVED
    assert earlier.status == Status.CLOSED
    closing = ItemEvent.objects.get(item=earlier, action="returned_again")
    assert closing.details["returned_as"] == again.lpn
    receipt = ItemEvent.objects.get(item=again, action="received")
    assert receipt.details["returned_before"] == earlier.lpn
    client_at_station(client, supervisor, station)
    timeline = client.get(f"/supervisor/units/{earlier.lpn}/").content.decode()
    assert "Sold again and returned" in timeline
    assert again.lpn in timeline


# In a recycler's lot; on our repair bench; restocked through a partner's lot not yet shipped.
@pytest.mark.parametrize("grade", ["X", "C", "A"])
def test_a_serial_still_in_the_building_is_refused_however_far_its_unit_got(
    grade, make_inspected, rules, partner, station, clerk, config
):
    DispositionRule.objects.filter(pk=rules["restock"].pk).update(
        partner=partner, destination_bin=""
    )
    earlier = make_inspected(grade, serial="SN-78")
    decide_and_put_away(earlier, station, clerk)
    units = ReturnItem.objects.count()

    with pytest.raises(SerialAlreadyReceived, match=earlier.lpn):
        receive_again(earlier, station, clerk)

    earlier.refresh_from_db()
    assert earlier.status in {Status.PUT_AWAY, Status.IN_REPAIR}
    assert ReturnItem.objects.count() == units


def test_the_receiving_clerk_is_told_to_take_the_old_label_off(
    make_inspected, rules, station, clerk, config, clerk_client
):
    earlier = make_inspected("A", serial="SN-79")
    decide_and_put_away(earlier, station, clerk)
    receiving.close_parcel(parcel=earlier.parcel, station=station, user=clerk)
    rma = make_rma((earlier.product, 1))
    clerk_client.post("/receiving/scan/", {"code": rma.number})
    clerk_client.post("/receiving/scan/", {"code": earlier.product.sku})

    answer = clerk_client.post(
        "/receiving/scan/", {"code": "SN-79", "serial_for": earlier.product.sku}
    )

    html = answer.content.decode()
    assert answer.status_code == 200
    assert f"Returned before as {earlier.lpn}: take that old label off." in html
    assert ReturnItem.objects.get(pk=earlier.pk).status == Status.CLOSED
