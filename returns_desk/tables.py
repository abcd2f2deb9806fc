"""The supervisor queues' shared base table, and the exception queue's table."""

from datetime import timedelta

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import queues
from .models import ReceivingException


def format_age(age: timedelta) -> str:
    minutes = max(int(age.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


class AgeColumn(tables.Column):
    """How long the row has waited, from the timestamp its accessor names (and sorts by)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", gettext_lazy("Age"))
        kwargs.setdefault("attrs", {"td": {"class": "num age"}, "th": {"class": "num"}})
        super().__init__(**kwargs)

    def render(self, value, table, record):
        age = format_age(table.now - value)
        if table.is_late(record):
            # In words as well as red, so the mark survives a screen reader and a grey printout.
            return format_html('{} <span class="late-mark">⚠ {}</span>', age, _("late"))
        return age

    def value(self, value, table):
        # The CSV carries hours, a number a spreadsheet can sort and sum.
        return "" if value is None else round((table.now - value).total_seconds() / 3600, 1)


class LinkColumn(tables.Column):
    """A value linking to its page (a URL name taking the value); plain text in the CSV."""

    def __init__(self, url_name: str, **kwargs):
        self.url_name = url_name
        super().__init__(**kwargs)

    def render(self, value):
        return format_html('<a href="{}">{}</a>', reverse(self.url_name, args=[value]), value)

    def value(self, value):
        return value


class QueueTable(tables.Table):
    """Every queue: a selection box, the row's age, and rows past their site's SLA marked.

    A subclass names `queue_key`, declares `age = AgeColumn(accessor=...)` and says where the
    row's site is (`site_accessor`, e.g. "station__site_id"; empty for rows of no site).
    """

    queue_key = ""
    site_accessor = ""

    select = tables.CheckBoxColumn(
        accessor="pk",
        exclude_from_export=True,
        attrs={
            "th__input": {
                "data-select-all": "",
                "aria-label": gettext_lazy("Select every row on this page"),
            },
            "td__input": {"aria-label": gettext_lazy("Select this row")},
        },
    )

    class Meta:
        attrs = {"class": "lines queue-table"}
        row_attrs = {"class": lambda record, table: "past-sla" if table.is_late(record) else ""}
        empty_text = gettext_lazy("Nothing waits here.")
        template_name = "returns_desk/table.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = timezone.now()
        self._sla = None

    def is_late(self, record) -> bool:
        if self._sla is None:
            self._sla = queues.sla_hours(self.queue_key)
        if not self._sla:
            return False
        since = tables.A(self.columns["age"].accessor).resolve(record, quiet=True)
        site_id = (
            tables.A(self.site_accessor).resolve(record, quiet=True) if self.site_accessor else None
        )
        return queues.is_late(since, site_id, self._sla, self.now)


class ExceptionTable(QueueTable):
    queue_key = "exceptions"
    site_accessor = "station__site_id"

    age = AgeColumn(accessor="raised_at")
    kind = tables.Column(verbose_name=gettext_lazy("Kind"))
    ref = tables.Column(accessor="pk", verbose_name=gettext_lazy("Exception"), order_by="pk")
    rma = LinkColumn(
        "supervisor:rma",
        accessor="parcel__rma__number",
        verbose_name=gettext_lazy("RMA"),
        default="",
    )
    unit = LinkColumn(
        "supervisor:unit", accessor="item__lpn", verbose_name=gettext_lazy("Unit"), default=""
    )
    code = tables.Column(accessor="scanned_code", verbose_name=gettext_lazy("Scanned"))
    message = tables.Column(verbose_name=gettext_lazy("Message"), orderable=False)
    station = tables.Column(
        accessor="station__code", verbose_name=gettext_lazy("Station"), order_by="station__code"
    )

    class Meta(QueueTable.Meta):
        model = ReceivingException
        fields = ()
        sequence = ("select", "age", "ref", "kind", "rma", "unit", "code", "message", "station")
        empty_text = gettext_lazy(
            "No exceptions are open. Parcels and units appear here when a clerk parks them or a"
            " scan does not match its RMA."
        )

    def render_ref(self, value):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("supervisor:exception", args=[value]),
            _("Resolve #%(number)s") % {"number": value},
        )

    def value_ref(self, value):
        return value
