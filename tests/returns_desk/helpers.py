"""Small helpers shared by the receiving tests."""

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
