"""Small helpers shared by the receiving tests."""

from django.db import OperationalError
from django.db.models import Sum

from returns_desk.models import ItemEvent, Parcel, ReceivingException, ReturnItem, RMALine


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
