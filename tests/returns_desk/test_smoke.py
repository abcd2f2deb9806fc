import pytest

from returns_desk import services
from tests.factories import ProductFactory, make_rma, open_parcel

pytestmark = pytest.mark.django_db


def test_a_clerk_receives_a_unit_against_the_rma(station, clerk):
    rma = make_rma((ProductFactory(), 2))
    parcel = open_parcel(rma, station, clerk)
    item, created = services.receive_unit(
        parcel=parcel, code=rma.lines.get().product.sku, station=station, user=clerk
    )
    assert created and item.lpn == "LPN-00000001"
