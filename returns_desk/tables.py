"""The supervisor queues' shared base table, and the exception queue's table."""

from collections.abc import Callable
from datetime import timedelta

import django_tables2 as tables
from django.template.base import render_value_in_context
from django.template.context import Context
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tables2.data import TableQuerysetData

from . import configcache, queues
from .models import ReceivingException, ReturnItem


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


class CodeColumn(tables.Column):
    """An identifier (LPN, RMA, SKU, station): on one line, as a code split at its hyphen
    ("LPN-" / "00000183") reads as two."""

    def __init__(self, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "code"}})
        super().__init__(**kwargs)


class LinkColumn(CodeColumn):
    """A value linking to its page (a URL name taking the value); plain text in the CSV."""

    def __init__(self, url_name: str, **kwargs):
        self.url_name = url_name
        super().__init__(**kwargs)

    def render(self, value):
        return format_html('<a href="{}">{}</a>', reverse(self.url_name, args=[value]), value)

    def value(self, value):
        return value


class PageByIds(TableQuerysetData):
    """A queue's rows, a page of them read in two steps: the page's ids, then those rows by id.

    Sorted by a column of a related table (a grade, a station, a clerk), one query would join
    every related table the row shows for the whole queue before sorting it: seconds at a million
    units. The ids are found with only the joins the filters and the sort need; the related
    tables are joined for the page's rows alone. Sorted by a column of the row's own table, the
    one query is fast already (an index serves the sort), so it stays one query.
    """

    def __init__(self, data, *, cached_relations: tuple[str, ...] = ()):
        super().__init__(data)
        self.cached_relations = cached_relations

    def _sorted_by_a_join(self) -> bool:
        meta = self.data.model._meta
        own = {"pk"} | {name for f in meta.concrete_fields for name in (f.name, f.attname)}
        return any(str(term).lstrip("-") not in own for term in self.data.query.order_by)

    def order_by(self, aliases):
        super().order_by(aliases)
        # Rows that tie on the sort key (a station, a grade) keep one order from page to page:
        # the id breaks the tie, the same way round so one index scan serves both.
        terms = self.data.query.order_by
        last = str(terms[-1]) if terms else "pk"
        if last.lstrip("-") not in {"pk", "id"}:
            self.data = self.data.order_by(*terms, "-pk" if last.startswith("-") else "pk")

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return super().__getitem__(key)
        if self._sorted_by_a_join():
            ids = list(self.data.values_list("pk", flat=True)[key])
            found = self.data.order_by().in_bulk(ids)
            # A row that left the queue between the two queries (approved meanwhile) is left out.
            rows = [found[pk] for pk in ids if pk in found]
        else:
            rows = list(super().__getitem__(key))
        for path in self.cached_relations:
            attach_configuration(rows, self.data.model, path)
        return rows


def attach_configuration(rows: list, model: type, path: str) -> None:
    """Give each row the configuration row its `path` names (a station, a program), from the cache.

    Joined into the page's query instead, every such table adds to what PostgreSQL plans for
    each page: a queue's nine-table join took 9 ms to plan for 1 ms of work.
    """
    *parents, name = path.split("__")
    for bit in parents:
        model = model._meta.get_field(bit).related_model
    related = model._meta.get_field(name).related_model
    by_id = configcache.cached(
        ("rows by id", related._meta.label),
        lambda: {row.pk: row for row in related._default_manager.all()},
    )
    targets = []
    for row in rows:
        parent = row
        for bit in parents:
            parent = getattr(parent, bit)
            if parent is None:
                break
        else:
            related_id = getattr(parent, f"{name}_id")
            if related_id is not None:
                targets.append((parent, related_id))
    # A row written without model signals (bulk_create, raw SQL) is not in the cache until the
    # next change: it is read from the database rather than failing the page.
    missing = {related_id for _, related_id in targets if related_id not in by_id}
    fetched = related._default_manager.in_bulk(missing) if missing else {}
    for parent, related_id in targets:
        setattr(parent, name, by_id.get(related_id) or fetched[related_id])


# Only what a render method asks for is passed, as django-tables2 does (its names for them).
_RENDER_ARGUMENTS = {"value", "record", "column", "bound_column", "bound_row", "table"}


def _cell_html(table, bound_column) -> Callable:
    """How a column's cell renders as `<td>` HTML for a row, worked out once per page.

    What django-tables2's BoundRow and table template do per cell (resolve the accessor, read a
    choice's label, fall back to the default on an empty value, call the render method, escape
    and localize as `{{ cell }}` would), with the per-page parts settled up front: the accessor
    split once, the choice labels translated once, the td attributes and the render method's
    arguments known before the first row.
    """
    column = bound_column.column
    bits = tables.A(bound_column.accessor).bits
    field = tables.A(bound_column.accessor).get_field(table.data.model)
    labels = (
        {key: str(label) for key, label in field.flatchoices} if field and field.choices else None
    )
    render = bound_column.render
    names, catch_all = queues.signature(render)
    wanted = _RENDER_ARGUMENTS if catch_all else _RENDER_ARGUMENTS.intersection(names)
    start = f"<td {bound_column.attrs['td'].as_html()}>"
    default = bound_column.default
    empty = column.empty_values
    context = Context()

    def cell(row) -> str:
        value = row.record
        for bit in bits:
            value = getattr(value, bit)
            if value is None:
                break
        if labels is not None:
            value = labels.get(value, value)
        if value in empty:
            value = default
        else:
            given = {
                "value": value,
                "record": row.record,
                "column": column,
                "bound_column": bound_column,
                "bound_row": row,
                "table": table,
            }
            value = render(**{name: given[name] for name in wanted})
        return start + render_value_in_context(value, context) + "</td>"

    return cell


def unit_columns(prefix: str = "") -> type[tables.Table]:
    """A mixin of the columns naming a unit reached through `prefix` (e.g. "item__")."""

    class UnitColumns(tables.Table):
        # Every queue's row carries its unit's LPN (a decision and a work order copy it), so
        # the sort needs no join.
        lpn = LinkColumn("supervisor:unit", accessor="lpn", verbose_name=gettext_lazy("LPN"))
        sku = CodeColumn(
            accessor=f"{prefix}product__sku",
            verbose_name=gettext_lazy("SKU"),
            default="",
            orderable=False,
        )
        rma = LinkColumn(
            "supervisor:rma",
            accessor=f"{prefix}rma_line__rma__number",
            verbose_name=gettext_lazy("RMA"),
            default="",
            orderable=False,
        )
        program = tables.Column(
            accessor=f"{prefix}rma_line__rma__program__name",
            verbose_name=gettext_lazy("Program"),
            default="",
            orderable=False,
        )
        reason = tables.Column(
            accessor=f"{prefix}rma_line__reason__name",
            verbose_name=gettext_lazy("Reason"),
            default="",
            orderable=False,
        )
        station = CodeColumn(
            accessor=f"{prefix}station__code",
            verbose_name=gettext_lazy("Station"),
            # A decision and a work order copy their unit's station: sorted without the unit.
            order_by="unit_station__code" if prefix else "station__code",
        )

        cached_relations = tuple(
            f"{prefix}{path}" for path in ("station", "rma_line__rma__program", "rma_line__reason")
        )

    return UnitColumns


UnitColumns = unit_columns()


class ListTable(tables.Table):
    """Every supervisor list: rows read a page at a time (PageByIds), the configuration they
    show taken from the cache, and each page's cells rendered without a template apiece."""

    # Relations to configuration (stations, programs, reasons) the rows show, taken from the
    # configuration cache rather than joined (see attach_configuration).
    cached_relations: tuple[str, ...] = ()

    class Meta:
        attrs = {"class": "lines queue-table"}
        template_name = "returns_desk/table.html"

    def __init__(self, data, **kwargs):
        super().__init__(PageByIds(data, cached_relations=self.cached_relations), **kwargs)

    def body_rows(self) -> list[SafeString]:
        """The page's rows as `<tr>` HTML, for the table template.

        django-tables2 renders every cell through its generic machinery and a template (and
        translates every choice label again for each cell): 2-3 ms a row, over 100 ms a page.
        Each column's cell is worked out once instead (see _cell_html); the HTML is the same.
        """
        cells = [_cell_html(self, column) for column in self.columns]
        return [
            mark_safe(  # noqa: S308 - every part is escaped or built by format_html
                f"<tr {row.attrs.as_html()}>" + "".join(cell(row) for cell in cells) + "</tr>"
            )
            for row in self.paginated_rows
        ]


class QueueTable(ListTable):
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

    class Meta(ListTable.Meta):
        row_attrs = {"class": lambda record, table: "past-sla" if table.is_late(record) else ""}
        empty_text = gettext_lazy("Nothing waits here.")

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.now = timezone.now()
        self._sla = None
        self._select_attrs = None

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

    def render_select(self, value):
        # CheckBoxColumn's box, but its fixed attributes (a translated label) joined once a page,
        # not worked out again for every row.
        if self._select_attrs is None:
            attrs = self.columns["select"].column.attrs["td__input"]
            self._select_attrs = tables.utils.AttributeDict(attrs).as_html()
        return format_html(
            '<input type="checkbox" name="select" value="{}" {} />', value, self._select_attrs
        )


class ExceptionTable(QueueTable):
    queue_key = "exceptions"
    site_accessor = "station__site_id"
    cached_relations = ("station",)

    age = AgeColumn(accessor="raised_at")
    kind = tables.Column(verbose_name=gettext_lazy("Kind"))
    ref = tables.Column(accessor="pk", verbose_name=gettext_lazy("Exception"), order_by="pk")
    # The exception's own copies of its RMA's number and its unit's LPN, which indexes sort.
    rma = LinkColumn(
        "supervisor:rma", accessor="rma_number", verbose_name=gettext_lazy("RMA"), default=""
    )
    unit = LinkColumn(
        "supervisor:unit", accessor="lpn", verbose_name=gettext_lazy("Unit"), default=""
    )
    code = CodeColumn(accessor="scanned_code", verbose_name=gettext_lazy("Scanned"))
    # Worded in the reader's language, not as the raising clerk read it; from the stored
    # wording alone, so the CSV export, which reads plain values, words it the same.
    message = tables.Column(
        accessor="wording", verbose_name=gettext_lazy("Message"), orderable=False
    )
    station = CodeColumn(
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

    def render_message(self, value):
        return ReceivingException.worded(value)

    def value_message(self, value):
        return ReceivingException.worded(value)


class MomentColumn(tables.Column):
    """A moment in local time: written as the desk writes dates, and in ISO 8601 in the CSV."""

    def __init__(self, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "moment"}})
        super().__init__(**kwargs)

    def render(self, value):
        return date_format(localtime(value), "DATETIME_FORMAT")

    def value(self, value):
        return localtime(value).isoformat(timespec="seconds")


class UnitRegisterTable(UnitColumns, ListTable):
    """Every unit received, newest first: the list a site reconciles its returns against."""

    received_at = MomentColumn(verbose_name=gettext_lazy("Received"))
    serial = CodeColumn(
        accessor="serial_number", verbose_name=gettext_lazy("Serial"), default="", orderable=False
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"), orderable=False)
    grade = tables.Column(
        accessor="grade_code", verbose_name=gettext_lazy("Grade"), default="", orderable=False
    )
    # Sorted by station, a million units would be joined to their stations and sorted whole.
    station = CodeColumn(
        accessor="station__code", verbose_name=gettext_lazy("Station"), orderable=False
    )

    class Meta(ListTable.Meta):
        model = ReturnItem
        fields = ()
        sequence = (
            "received_at",
            "lpn",
            "sku",
            "serial",
            "status",
            "grade",
            "rma",
            "program",
            "reason",
            "station",
        )
        empty_text = gettext_lazy(
            "No unit matches these filters. Every unit a receiving clerk labels is listed here."
        )
