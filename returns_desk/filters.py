"""The supervisor queues' shared filters, and the exception queue's filter set.

Every queue offers the same filters, each reaching its field through the queue's own path
(`paths`); a filter a queue has no path for is left off its form. Free text is a scan: it
matches an LPN, RMA number, order reference, tracking or serial exactly, on indexed columns.
"""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .configcache import cached
from .forms import ScanCodeField, date_picker
from .models import (
    Parcel,
    Program,
    ReasonCode,
    ReceivingException,
    ReturnAuthorization,
    ReturnItem,
    Site,
    Station,
    TrackingNumber,
)
from .scanning import canonical


def matching_rmas(code: str) -> list[int]:
    """Ids of the RMAs whose number, order reference or tracking number is `code`.

    A UNION of three index lookups, read at once: an OR across the RMA and tracking tables
    makes PostgreSQL scan both (1.5 s at a million RMAs) for what is a handful of ids.
    """
    return union_ids(
        ReturnAuthorization.objects.filter(number=code),
        ReturnAuthorization.objects.filter(order_reference=code),
        TrackingNumber.objects.filter(number=code).values_list("rma_id", flat=True),
    )


def union_ids(*querysets: QuerySet) -> list[int]:
    """The ids the querysets select (their pk unless they say otherwise), in one query."""
    first, *others = (
        (queryset if queryset._fields else queryset.values_list("pk", flat=True)).order_by()
        for queryset in querysets
    )
    return list(first.union(*others).order_by())


def unit_matches(code: str, prefix: str = "") -> Q:
    """Units (at `prefix`, e.g. "item__") named by an LPN, serial, or their RMA's codes.

    The units are looked up first, by index, and the queue filtered by their ids: an OR over
    columns of joined tables would walk the whole queue, a hundred thousand rows.
    """
    units = union_ids(
        ReturnItem.objects.filter(lpn=code),
        ReturnItem.objects.filter(serial_number=code),
        ReturnItem.objects.filter(rma_line__rma__in=matching_rmas(code)),
    )
    return Q(**{f"{prefix}pk__in": units})


class ConfigChoiceFilter(django_filters.ModelChoiceFilter):
    """A choice among configuration rows (sites, stations, programs, reasons).

    The options come from the configuration cache: read for every queue page, they were four
    queries (and four server-side cursors) a page for rows that change a few times a day. A
    chosen value is still checked against the database.
    """

    @property
    def field(self):
        field = super().field
        if not hasattr(field, "_choices"):
            key = ("filter choices", field.queryset.model._meta.label, field.empty_label)
            choices = cached(key, lambda: [(str(value), label) for value, label in field.choices])
            # forms.ChoiceField's setter: django-filter's would wrap the list in a queryset
            # iterator again.
            forms.ChoiceField.choices.fset(field, choices)
        return field


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
    site = ConfigChoiceFilter(queryset=Site.objects.all(), method="by_path", label=_("Site"))
    station = ConfigChoiceFilter(
        queryset=Station.objects.select_related("site"), method="by_path", label=_("Station")
    )
    program = ConfigChoiceFilter(
        queryset=Program.objects.all(), method="by_path", label=_("Program")
    )
    reason = ConfigChoiceFilter(
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
        if name == "site" and "station" in self.paths:
            # A site is its stations: by their ids the queue's station index answers, where a
            # join to the stations walks the whole queue (a site with none of it: 50-350 ms).
            stations = cached(
                ("station ids of site", value.pk),
                lambda: list(Station.objects.filter(site=value).values_list("pk", flat=True)),
            )
            return queryset.filter(**{f"{self.paths['station']}__in": stations})
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


class UnitRegisterFilterSet(QueueFilterSet):
    paths = {
        "site": "station__site",
        "station": "station",
        "program": "program",
        "reason": "reason",
        "date": "received_at",
    }
    status = django_filters.ChoiceFilter(choices=ReturnItem.Status.choices, label=_("Status"))


class ExceptionFilterSet(QueueFilterSet):
    paths = {
        "site": "station__site",
        "station": "station",
        "program": "program",
        "date": "raised_at",
    }
    kind = django_filters.ChoiceFilter(choices=ReceivingException.Kind.choices, label=_("Kind"))

    def matches(self, code: str) -> Q:
        parcels = union_ids(
            Parcel.objects.filter(scanned_code=code),
            Parcel.objects.filter(rma__in=matching_rmas(code)),
        )
        units = ReturnItem.objects.filter(lpn=code).values("pk")
        return Q(scanned_code=code) | Q(parcel__in=parcels) | Q(item__in=units)
