"""Small helpers shared by the receiving tests."""

from django.db import OperationalError
from django.db.models import Sum

from inspection.services import start_inspection
from returns_desk import services
from returns_desk.models import ItemEvent, Parcel, ReceivingException, ReturnItem, RMALine
from tests.disposition.helpers import make_checklist
from tests.factories import ProductFactory, make_rma, open_parcel


def receiving_counts() -> dict[str, int]:
    """Every row receiving writes, and the units counted on lines: a refusal changes none."""
    return {
        "parcels": Parcel.objects.count(),
        "units": ReturnItem.objects.count(),
        "events": ItemEvent.objects.count(),
        "exceptions": ReceivingException.objects.count(),
        "counted": RMALine.objects.aggregate(n=Sum("quantity_received"))["n"] or 0,
    }


def raising(message: str, cause: Exception | None):
    """A stand-in for a database call that fails as the driver's error, wrapped by Django."""

    def fail(*args, **kwargs):
        try:
            raise cause or RuntimeError(message)
        except Exception as error:
            raise OperationalError(message) from error

    return fail


def parked_kettles_one_being_inspected(*, station, clerk, inspecting_at, **rma_fields):
    """A parcel of two kettles parked after both were received, the second already being
    inspected: (parcel, the unit still with the box, the one that went on)."""
    kettle = ProductFactory(name="Electric kettle")
    make_checklist(kettle.category)
    parcel = open_parcel(make_rma((kettle, 2), **rma_fields), station, clerk)
    with_the_box, gone_on = (
        services.receive_unit(parcel=parcel, code=kettle.sku, station=station, user=clerk)[0]
        for _ in range(2)
    )
    start_inspection(lpn=gone_on.lpn, station=inspecting_at, user=clerk)
    services.park_parcel(parcel=parcel, station=station, user=clerk, reason="box was opened")
    return parcel, with_the_box, gone_on
