"""The supervisor queues' shared filters, and the exception queue's filter set.

Every queue offers the same filters, each reaching its field through the queue's own path
(`paths`); a filter a queue has no path for is left off its form. Free text is a scan: it
matches an LPN, RMA number, order reference, tracking or serial exactly, on indexed columns.
"""

from datetime import datetime, time, timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import ScanCodeField, date_picker
from .models import (
    Program,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    RMALine,
    Site,
    Station,
)
from .scanning import canonical


def matching_rmas(code: str) -> QuerySet:
    """RMAs whose number, order reference or tracking number is `code` (for subqueries)."""
    return ReturnAuthorization.objects.filter(
        Q(number=code) | Q(order_reference=code) | Q(tracking__number=code)
    ).values("pk")


def unit_matches(code: str, prefix: str = "") -> Q:
    """Units (at `prefix`, e.g. "item__") named by an LPN, serial, or their RMA's codes."""
    lines = RMALine.objects.filter(rma__in=matching_rmas(code)).values("pk")
    return (
        Q(**{f"{prefix}lpn": code})
        | Q(**{f"{prefix}serial_number": code})
        | Q(**{f"{prefix}rma_line__in": lines})
    )


class ScanFilter(django_filters.CharFilter):
    """Free text held to what a scanner can send, so a forged value gets a message, not a 500."""

    field_class = ScanCodeField

    def __init__(self, **kwargs):
        super().__init__(blank_allowed=True, **kwargs)


def start_of(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class QueueFilterSet(django_filters.FilterSet):
    # filter name -> lookup path from the queue's rows; "date" is the timestamp the range uses,
    # "unit" the path to the unit that free text matches.
    paths: dict[str, str] = {}
    # Filters left off the form of a queue that gives them no path.
    optional = ("site", "station", "program", "reason", "since", "until")

    q = ScanFilter(method="search", label=_("LPN, RMA, order, tracking or serial"))
    site = django_filters.ModelChoiceFilter(
        queryset=Site.objects.all(), method="by_path", label=_("Site")
    )
    station = django_filters.ModelChoiceFilter(
        queryset=Station.objects.select_related("site"), method="by_path", label=_("Station")
    )
    program = django_filters.ModelChoiceFilter(
        queryset=Program.objects.all(), method="by_path", label=_("Program")
    )
    reason = django_filters.ModelChoiceFilter(
        queryset=ReasonCode.objects.all(), method="by_path", label=_("Reason")
    )
    since = django_filters.DateFilter(method="by_date", label=_("From"), widget=date_picker())
    until = django_filters.DateFilter(method="by_date", label=_("To"), widget=date_picker())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.optional:
            if self.paths.get("date" if name in {"since", "until"} else name) is None:
                del self.filters[name]

    def by_path(self, queryset, name, value):
        return queryset.filter(**{self.paths[name]: value})

    def by_date(self, queryset, name, value):
        if name == "since":
            return queryset.filter(**{f"{self.paths['date']}__gte": start_of(value)})
        return queryset.filter(**{f"{self.paths['date']}__lt": start_of(value + timedelta(1))})

    def search(self, queryset, name, value):
        code = canonical(value)
        return queryset.filter(self.matches(code)) if code else queryset

    def matches(self, code: str) -> Q:
        return unit_matches(code, self.paths.get("unit", ""))


class ExceptionFilterSet(QueueFilterSet):
    paths = {
        "site": "station__site",
        "station": "station",
        "program": "parcel__rma__program",
        "date": "raised_at",
    }
    kind = django_filters.ChoiceFilter(choices=ReceivingException.Kind.choices, label=_("Kind"))

    def matches(self, code: str) -> Q:
        return (
            Q(scanned_code=code)
            | Q(parcel__scanned_code=code)
            | Q(parcel__rma__in=matching_rmas(code))
            | Q(item__lpn=code)
        )
