"""Importing RMAs from CSV: our own columns, or another system's export through a saved mapping.

Our own format (UTF-8, comma- or tab-separated, one header row; a sample ships in
returns_desk/import_samples/rmas.csv). One row per RMA line; rows with the same `rma_number`
make one RMA, whose own fields come from its first row.

| column           | required | meaning                                                       |
| ---------------- | -------- | ------------------------------------------------------------- |
| rma_number       | yes      | the RMA number (a prefix from the mapping is put before it;   |
|                  |          | at most 40 characters with the prefix)                        |
| sku              | yes      | product SKU                                                   |
| quantity         | yes      | units expected (negative in sources that write credits so)    |
| reason           |          | reason code or name; else the mapping's default reason        |
| price_paid       |          | unit price paid, e.g. 12.50                                   |
| serial_number    |          | the serial authorised, where known (its row's quantity is 1)  |
| customer_comment |          |                                                               |
| product_name     |          | names the product created for an unknown SKU (if allowed)     |
| order_reference  |          |                                                               |
| customer_name    |          |                                                               |
| customer_email   |          |                                                               |
| channel          |          | web, store, marketplace, phone, b2b; else the mapping's       |
| program          |          | program code; else the mapping's default program              |
| issued_on        |          | date (mapping's format, or ISO 8601); else today              |
| purchased_on     |          | date                                                          |
| tracking_number  |          | a carrier tracking number or license plate to scan at receipt |

An ImportMapping names, per column of ours, the header of the source's column, and says how
to read it (negative quantities, date format, reason names, charges that are not goods).

Rules: the import is all-or-nothing (one transaction); a dry run is the same import rolled
back, so it reports exactly what a real one would do. Every row is accounted for: imported,
an error (with its line number), a non-product row (postage, fees: reported, not imported),
or part of an RMA that already exists (skipped, so loading the same file twice is harmless).
Unknown SKUs are created when the mapping allows it (named from `product_name`, valued at the
price paid, in the category "Imported, not yet categorised" for an admin to sort), because a
retailer's export names products the desk has not seen yet; otherwise they are errors.
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import services
from .exceptions import DomainError
from .models import (
    Channel,
    ImportMapping,
    Product,
    ProductCategory,
    Program,
    ReasonCode,
    ReturnAuthorization,
    RMALine,
)
from .scanning import canonical

COLUMNS = [
    "rma_number",
    "sku",
    "quantity",
    "reason",
    "price_paid",
    "serial_number",
    "customer_comment",
    "product_name",
    "order_reference",
    "customer_name",
    "customer_email",
    "channel",
    "program",
    "issued_on",
    "purchased_on",
    "tracking_number",
]
REQUIRED = ["rma_number", "sku", "quantity"]
SAMPLE_FILE = Path(__file__).parent / "import_samples" / "rmas.csv"
MAX_ROWS = 100_000
IMPORTED_CATEGORY = ("imported", "Imported, not yet categorised")
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
# Spreadsheets write whole-number identifiers as floats: customer 16321 arrives as "16321.0".
FLOAT_ID = re.compile(r"^(\d+)\.0+$")
PRINTABLE = re.compile(r"^[ -~]*$")
LIMITS = {
    "rma_number": 40,
    "sku": 40,
    "serial_number": 60,
    "order_reference": 40,
    "customer_name": 200,
    "customer_email": 254,
    "product_name": 200,
    "tracking_number": 60,
    "customer_comment": 2000,
}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, header); the message says why."""


@dataclass
class Problem:
    line: int  # the line of the file, counting the header as line 1
    message: str


@dataclass
class Line:
    line: int
    sku: str
    quantity: int
    price_paid: Decimal
    reason: ReasonCode
    serial_number: str
    customer_comment: str
    product_name: str


@dataclass
class PlannedRma:
    number: str
    line: int
    program: Program
    channel: str
    order_reference: str
    customer_name: str
    customer_email: str
    issued_on: date | None
    purchased_on: date | None
    tracking: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    rmas_created: list[str] = field(default_factory=list)
    lines_created: int = 0
    products_created: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    non_product_rows: list[tuple[int, str, str]] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def non_product_counts(self) -> dict[str, int]:
        return dict(Counter(sku for _, sku, _ in self.non_product_rows).most_common())


def read_rows(data: bytes) -> list[dict[str, str]]:
    """The file's rows as dicts by header; raises ImportFileError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not UTF-8 text. Save it as CSV (UTF-8).")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    read_up_to = 0  # the last line of the last row read, so an error names where its row starts
    try:
        if not reader.fieldnames:
            raise ImportFileError(_("The file is empty."))
        read_up_to = reader.line_num
        for row in reader:
            if len(rows) == MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than %(max)s rows; split it.")
                    % {"max": number_format(MAX_ROWS, force_grouping=True)}
                )
            rows.append(row)
            read_up_to = reader.line_num
    except csv.Error as error:
        # Mostly a quote opened and never closed: the csv module then reads on to the end of
        # the file as one field and gives up at its field size limit, far below the culprit.
        raise ImportFileError(
            _(
                'Line %(line)s cannot be read as CSV (%(error)s). Look there for a quote (")'
                " that is opened and never closed."
            )
            % {"line": read_up_to + 1, "error": error}
        ) from None
    return rows


class _RowReader:
    """Reads our columns from one source row through the mapping, collecting what is wrong."""

    def __init__(self, mapping: ImportMapping | None, row: dict[str, str | None]):
        self.columns = mapping.columns if mapping else {}
        self.mapping = mapping
        self.row = row
        self.errors: list[str] = []

    def text(self, column: str) -> str:
        value = (self.row.get(self.columns.get(column, column)) or "").strip()
        value = " ".join(value.split()) if column != "customer_comment" else value
        if match := FLOAT_ID.match(value):
            value = match.group(1)
        if "\x00" in value:
            self.errors.append(_("%(column)s holds a NUL character.") % {"column": column})
            return ""
        if len(value) > (most := LIMITS.get(column, 100)):
            self.errors.append(
                ngettext(
                    "%(column)s is longer than %(most)s character.",
                    "%(column)s is longer than %(most)s characters.",
                    most,
                )
                % {"column": column, "most": most}
            )
            return ""
        return value

    def code(self, column: str) -> str:
        value = self.text(column)
        if not PRINTABLE.match(value):
            self.errors.append(
                _("%(column)s '%(value)s' has characters a barcode cannot hold.")
                % {"column": column, "value": value}
            )
            return ""
        return canonical(value)

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        day = None
        for parse in (self._with_format, self._iso):
            try:
                day = parse(value)
                break
            except ValueError:
                continue
        if day is None or not EARLIEST <= day <= LATEST:
            self.errors.append(
                _("%(column)s '%(value)s' is not a date.") % {"column": column, "value": value}
            )
            return None
        return day

    def _with_format(self, value: str) -> date:
        return datetime.strptime(
            value, self.mapping.date_format if self.mapping else "%Y-%m-%d"
        ).date()

    @staticmethod
    def _iso(value: str) -> date:
        return datetime.fromisoformat(value).date()

    def quantity(self) -> int:
        value = self.text("quantity")
        try:
            quantity = int(value)
        except ValueError:
            self.errors.append(
                _("%(column)s '%(value)s' is not a whole number.")
                % {"column": "quantity", "value": value}
            )
            return 0
        if self.mapping and self.mapping.negative_quantities:
            quantity = -quantity
        if not 1 <= quantity <= 1_000_000:
            self.errors.append(
                _("%(column)s %(value)s is not a number of units returned.")
                % {"column": "quantity", "value": value}
            )
        return quantity

    def price(self) -> Decimal:
        value = self.text("price_paid").lstrip("£$€")
        try:
            price = Decimal(value or "0")
        except InvalidOperation:
            price = Decimal(-1)
        if not price.is_finite() or not 0 <= price < Decimal("100000000"):
            self.errors.append(
                _("%(column)s '%(value)s' is not an amount.")
                % {"column": "price_paid", "value": value}
            )
            return Decimal(0)
        return price.quantize(Decimal("0.01"))


class _Lookups:
    """Reference data read once per import, so a file of any length costs a few queries."""

    def __init__(self, mapping: ImportMapping | None):
        self.mapping = mapping
        self.programs = {program.code: program for program in Program.objects.filter(active=True)}
        self.reasons: dict[str, ReasonCode] = {}
        for reason in ReasonCode.objects.filter(active=True):
            self.reasons[reason.code.lower()] = reason
            self.reasons.setdefault(reason.name.lower(), reason)

    def reason(self, raw: str) -> ReasonCode | None:
        reason_map = self.mapping.reason_map if self.mapping else {}
        raw = reason_map.get(raw, raw) or (self.mapping.default_reason if self.mapping else "")
        return self.reasons.get(raw.lower())


def _plan(
    rows: list[dict], mapping: ImportMapping | None, report: ImportReport
) -> dict[str, PlannedRma]:
    lookups = _Lookups(mapping)
    non_product = {canonical(code) for code in (mapping.non_product_codes if mapping else [])}
    prefix = mapping.rma_number_prefix if mapping else ""
    default_program = mapping.default_program if mapping else "customer-return"
    default_channel = mapping.default_channel if mapping else Channel.WEB
    plans: dict[str, PlannedRma] = {}
    for line_no, row in enumerate(rows, start=2):
        read = _RowReader(mapping, row)
        sku = read.code("sku")
        if sku in non_product:
            report.non_product_rows.append((line_no, sku, read.text("product_name")))
            continue
        number = read.code("rma_number")
        for column, value in (("rma_number", number), ("sku", sku)):
            if not value and not read.errors:
                read.errors.append(_("%(column)s is empty.") % {"column": column})
        number = canonical(prefix + number) if number else ""
        # The prefix counts against the column too; text() could only check the source's part.
        if len(number) > (most := LIMITS["rma_number"]):
            read.errors.append(
                ngettext(
                    "%(column)s %(value)s is longer than %(most)s character with the prefix"
                    " %(prefix)s.",
                    "%(column)s %(value)s is longer than %(most)s characters with the prefix"
                    " %(prefix)s.",
                    most,
                )
                % {"column": "rma_number", "value": number, "most": most, "prefix": prefix}
            )
            number = ""
        raw_reason = read.text("reason")
        line = Line(
            line=line_no,
            sku=sku,
            quantity=read.quantity(),
            price_paid=read.price(),
            reason=lookups.reason(raw_reason),
            serial_number=read.code("serial_number"),
            customer_comment=read.text("customer_comment"),
            product_name=read.text("product_name"),
        )
        if problem := RMALine.serial_problem(line.serial_number, line.quantity):
            read.errors.append(problem)
        if line.reason is None:
            read.errors.append(
                _("%(column)s '%(value)s' is not a reason code or name we know.")
                % {"column": "reason", "value": raw_reason}
            )
        plan = plans.get(number)
        if plan is None and number:
            plan = _plan_rma(read, number, line_no, lookups, default_program, default_channel)
            plans[number] = plan
        if plan is not None and (tracking := read.code("tracking_number")):
            plan.tracking.append(tracking)
        if read.errors:
            report.errors.extend(Problem(line_no, message) for message in read.errors)
        elif plan is not None:
            plan.lines.append(line)
    return plans


def _plan_rma(read, number, line_no, lookups, default_program, default_channel) -> PlannedRma:
    program_code = read.text("program") or default_program
    program = lookups.programs.get(program_code)
    if program is None:
        read.errors.append(
            _("%(column)s '%(value)s' is not an active program code.")
            % {"column": "program", "value": program_code}
        )
    channel = read.text("channel").lower() or default_channel
    if channel not in Channel.values:
        read.errors.append(
            _("%(column)s '%(value)s' is not one of %(choices)s.")
            % {"column": "channel", "value": channel, "choices": ", ".join(Channel.values)}
        )
    email = read.text("customer_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            read.errors.append(
                _("%(column)s '%(value)s' is not an e-mail address.")
                % {"column": "customer_email", "value": email}
            )
    return PlannedRma(
        number=number,
        line=line_no,
        program=program,
        channel=channel,
        order_reference=canonical(read.text("order_reference")),
        customer_name=read.text("customer_name"),
        customer_email=email,
        issued_on=read.day("issued_on"),
        purchased_on=read.day("purchased_on"),
    )


def _products(
    plans: list[PlannedRma], mapping: ImportMapping | None, report: ImportReport
) -> dict[str, Product]:
    lines = [line for plan in plans for line in plan.lines]
    products = {p.sku: p for p in Product.objects.filter(sku__in={line.sku for line in lines})}
    unknown: dict[str, Line] = {}  # the first line naming an unknown SKU names its product
    for line in lines:
        if line.sku not in products:
            unknown.setdefault(line.sku, line)
    if not unknown:
        return products
    if not (mapping and mapping.create_unknown_products):
        report.errors.extend(
            Problem(line.line, _("SKU %(sku)s is not a product we know.") % {"sku": sku})
            for sku, line in unknown.items()
        )
        return products
    category, _created = ProductCategory.objects.get_or_create(
        code=IMPORTED_CATEGORY[0], defaults={"name": IMPORTED_CATEGORY[1]}
    )
    # bulk_create skips Product.save(); the SKUs are canonical already.
    created = Product.objects.bulk_create(
        Product(
            sku=sku,
            name=line.product_name or sku,
            category=category,
            unit_value=line.price_paid,
        )
        for sku, line in sorted(unknown.items())
    )
    report.products_created = [product.sku for product in created]
    return products | {product.sku: product for product in created}


def import_rmas(*, data: bytes, mapping: ImportMapping | None, dry_run: bool) -> ImportReport:
    """Import the RMAs of a CSV file, or only check them (`dry_run`): all or nothing.

    Raises ImportFileError when the file cannot be read at all.
    """
    rows = read_rows(data)
    columns = mapping.columns if mapping else {}
    headers = set(rows[0]) if rows else set()
    missing = [columns.get(c, c) for c in REQUIRED if rows and columns.get(c, c) not in headers]
    if missing:
        raise ImportFileError(
            _("The file has no column %(columns)s.") % {"columns": ", ".join(missing)}
        )
    report = ImportReport(dry_run=dry_run, rows=len(rows))
    with transaction.atomic():
        plans = _plan(rows, mapping, report)
        existing = set(
            ReturnAuthorization.objects.filter(number__in=plans).values_list("number", flat=True)
        )
        report.already_imported = sorted(existing)
        to_create = [plan for plan in plans.values() if plan.number not in existing and plan.lines]
        products = _products(to_create, mapping, report)
        if report.ok:
            _create(to_create, products, report)
        if not report.written:
            transaction.set_rollback(True)
    return report


def _create(plans: list[PlannedRma], products: dict[str, Product], report: ImportReport) -> None:
    for plan in plans:
        try:
            # A savepoint per RMA, so one refusal still lets the rest be checked.
            with transaction.atomic():
                services.create_rma(
                    number=plan.number,
                    program=plan.program,
                    channel=plan.channel,
                    order_reference=plan.order_reference,
                    customer_name=plan.customer_name,
                    customer_email=plan.customer_email,
                    issued_on=plan.issued_on,
                    purchased_on=plan.purchased_on,
                    tracking=plan.tracking,
                    lines=[
                        services.NewLine(
                            product=products[line.sku],
                            quantity=line.quantity,
                            reason=line.reason,
                            price_paid=line.price_paid,
                            serial_number=line.serial_number,
                            customer_comment=line.customer_comment,
                        )
                        for line in plan.lines
                    ],
                )
        except DomainError as error:
            report.errors.append(Problem(plan.line, error.message))
            continue
        report.rmas_created.append(plan.number)
        report.lines_created += len(plan.lines)
