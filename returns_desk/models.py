"""The core of Returns Desk: where returns arrive, what is expected, and every unit's life.

`ReturnItem.status` is the one place a unit's lifecycle state lives; `ALLOWED` beside it is the
transition table every service checks. `ItemEvent` is the append-only chain of custody.
"""

import datetime
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from .scanning import canonical
from .wording import in_sentence


class Site(models.Model):
    code = models.SlugField(verbose_name=_("code"), max_length=20, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=100)
    time_zone = models.CharField(
        verbose_name=_("time zone"), max_length=50, default="Europe/London"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    class Kind(models.TextChoices):
        RECEIVING = "receiving", _("Receiving")
        INSPECTION = "inspection", _("Inspection")
        BOTH = "both", _("Receiving and inspection")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="stations"
    )
    code = models.CharField(
        verbose_name=_("code"),
        max_length=20,
        help_text=_("As printed on the station, e.g. RCV-01."),
    )
    name = models.CharField(verbose_name=_("name"), max_length=100, blank=True)
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind, default=Kind.BOTH)
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        ordering = ["site__code", "code"]
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="station_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code.upper()} · {self.code}"

    @property
    def can_receive(self) -> bool:
        return self.kind in {self.Kind.RECEIVING, self.Kind.BOTH}

    @property
    def can_inspect(self) -> bool:
        return self.kind in {self.Kind.INSPECTION, self.Kind.BOTH}


class Program(models.Model):
    """The kind of return: it decides which policy applies and, later, where units go."""

    class Kind(models.TextChoices):
        CUSTOMER_RETURN = "customer_return", _("Customer return")
        WARRANTY = "warranty", _("Warranty repair or replacement")
        RECALL = "recall", _("Product recall")
        TRADE_IN = "trade_in", _("Trade-in")
        RENTAL = "rental", _("Rental or lease return")
        B2B_EXCESS = "b2b_excess", _("B2B excess stock")
        DELIVERY_FAILURE = "delivery_failure", _("Delivery failure (return to sender)")
        END_OF_LIFE = "end_of_life", _("End of life / take-back")

    code = models.SlugField(verbose_name=_("code"), max_length=30, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=100)
    kind = models.CharField(verbose_name=_("kind"), max_length=30, choices=Kind)
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")

    def __str__(self) -> str:
        return self.name


class ReasonCode(models.Model):
    code = models.SlugField(verbose_name=_("code"), max_length=30, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=100)
    description = models.TextField(verbose_name=_("description"), blank=True)
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reason code")
        verbose_name_plural = _("reason codes")

    def __str__(self) -> str:
        return self.name


class ProductCategory(models.Model):
    code = models.SlugField(verbose_name=_("code"), max_length=30, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    gtin = models.CharField(
        _("GTIN / EAN"),
        max_length=14,
        blank=True,
        db_index=True,
        help_text=_("The retail barcode, so a clerk can scan the box instead of typing the SKU."),
    )
    name = models.CharField(verbose_name=_("name"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit_value = models.DecimalField(
        verbose_name=_("unit value"), max_digits=10, decimal_places=2, default=0
    )
    serialised = models.BooleanField(
        verbose_name=_("serialised"),
        default=False,
        help_text=_("Each unit carries a serial number that must be captured."),
    )
    weight_grams = models.PositiveIntegerField(verbose_name=_("weight (g)"), null=True, blank=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_value__gte=0), name="product_value_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.sku = canonical(self.sku)
        self.gtin = canonical(self.gtin)
        super().save(*args, **kwargs)


class Channel(models.TextChoices):
    WEB = "web", _("Web shop")
    STORE = "store", _("Store")
    MARKETPLACE = "marketplace", _("Marketplace")
    PHONE = "phone", _("Phone")
    B2B = "b2b", _("Business (B2B)")


def _is_percentage(value) -> bool:
    try:
        return 0 <= Decimal(str(value)) <= 100
    except ArithmeticError:
        return False


class ReturnPolicy(models.Model):
    class LateArrival(models.TextChoices):
        ACCEPT_AND_FLAG = "accept", _("Accept and flag")
        HOLD = "hold", _("Hold for a supervisor")

    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    programs = models.ManyToManyField(Program, verbose_name=_("programs"), related_name="policies")
    categories = models.ManyToManyField(
        ProductCategory,
        verbose_name=_("categories"),
        blank=True,
        related_name="policies",
        help_text=_("Empty means every category."),
    )
    channels = models.JSONField(
        verbose_name=_("channels"),
        default=list,
        blank=True,
        help_text=_("Channel codes covered; empty means every channel."),
    )
    window_days = models.PositiveIntegerField(
        verbose_name=_("window days"),
        default=30,
        help_text=_("Days from issue in which the parcel must arrive."),
    )
    restocking_fee_percent = models.DecimalField(
        verbose_name=_("restocking fee percent"), max_digits=5, decimal_places=2, default=0
    )
    fee_waived_for = models.ManyToManyField(
        ReasonCode,
        verbose_name=_("fee waived for"),
        blank=True,
        related_name="+",
        help_text=_("Reasons for which no restocking fee is charged (e.g. defect)."),
    )
    late_arrival = models.CharField(
        verbose_name=_("late arrival"),
        max_length=10,
        choices=LateArrival,
        default=LateArrival.ACCEPT_AND_FLAG,
    )
    grade_deductions = models.JSONField(
        verbose_name=_("grade deductions"),
        default=dict,
        blank=True,
        help_text=_('Percent of the price paid kept back per grade, e.g. {"B": "10", "C": "25"}.'),
    )
    rma_required = models.BooleanField(
        verbose_name=_("RMA required"),
        default=True,
        help_text=_("Parcels without an authorisation go to the exception queue."),
    )
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(restocking_fee_percent__gte=0) & Q(restocking_fee_percent__lte=100),
                name="policy_fee_is_a_percentage",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.channels or []) - set(Channel.values)
        if unknown:
            message = gettext("Unknown channels: %(channels)s.")
            raise ValidationError({"channels": message % {"channels": ", ".join(sorted(unknown))}})
        if not isinstance(self.grade_deductions, dict) or not all(
            _is_percentage(value) for value in self.grade_deductions.values()
        ):
            raise ValidationError(
                {
                    "grade_deductions": gettext(
                        'Give each grade a percentage 0..100, e.g. {"C": "25"}.'
                    )
                }
            )


class ReturnAuthorization(models.Model):
    class Status(models.TextChoices):
        AUTHORISED = "authorised", _("Authorised")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    RECEIVABLE = {Status.AUTHORISED, Status.PARTIALLY_RECEIVED, Status.RECEIVED, Status.EXPIRED}
    # Still awaited: nothing has arrived (services.cancel_rma also checks its parcels).
    CANCELLABLE = {Status.AUTHORISED, Status.EXPIRED}

    number = models.CharField(_("RMA number"), max_length=40, unique=True)
    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="rmas"
    )
    policy = models.ForeignKey(
        ReturnPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="rmas"
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("The site the return is expected at."),
    )
    order_reference = models.CharField(
        verbose_name=_("order reference"), max_length=40, blank=True, db_index=True
    )
    customer_name = models.CharField(verbose_name=_("customer name"), max_length=200, blank=True)
    customer_email = models.EmailField(verbose_name=_("customer e-mail"), blank=True)
    channel = models.CharField(
        verbose_name=_("channel"), max_length=20, choices=Channel, default=Channel.WEB
    )
    purchased_on = models.DateField(verbose_name=_("purchased on"), null=True, blank=True)
    issued_on = models.DateField(verbose_name=_("issued on"), default=timezone.localdate)
    expires_on = models.DateField(
        verbose_name=_("expires on"),
        blank=True,
        help_text=_("Defaults to issue date + policy window."),
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status, default=Status.AUTHORISED
    )
    # Who cancelled it (a user, or an API key's name), when and why: services.cancel_rma.
    cancelled_at = models.DateTimeField(verbose_name=_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(verbose_name=_("cancelled by"), max_length=150, blank=True)
    cancel_reason = models.CharField(verbose_name=_("why cancelled"), max_length=300, blank=True)
    # Set when the desk authorised a parcel that came without an RMA, its program's policy
    # requiring none: receiving then adds each unit scanned to the lines, with this reason.
    unannounced_reason = models.ForeignKey(
        ReasonCode,
        verbose_name=_("received without an RMA, reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-issued_on", "number"]
        verbose_name = _("return authorisation (RMA)")
        verbose_name_plural = _("return authorisations (RMAs)")
        indexes = [
            models.Index(fields=["status", "issued_on"], name="rma_status_issued"),
            # A supervisor finds the RMA of an unmatched parcel by the customer's e-mail.
            models.Index(Upper("customer_email"), name="rma_customer_email"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("issued_on")), name="rma_expires_after_issue"
            )
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        self.number = canonical(self.number)
        self.order_reference = canonical(self.order_reference)
        if self.expires_on is None and self.policy_id is not None:
            self.expires_on = self.issued_on + timedelta(days=self.policy.window_days)
        super().save(*args, **kwargs)

    def is_late_on(self, day) -> bool:
        return day > self.expires_on


class TrackingNumber(models.Model):
    rma = models.ForeignKey(
        ReturnAuthorization,
        verbose_name=_("RMA"),
        on_delete=models.CASCADE,
        related_name="tracking",
    )
    carrier = models.CharField(verbose_name=_("carrier"), max_length=40, blank=True)
    number = models.CharField(verbose_name=_("number"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("tracking number")
        verbose_name_plural = _("tracking numbers")

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        self.number = canonical(self.number)
        super().save(*args, **kwargs)


class RMALine(models.Model):
    rma = models.ForeignKey(
        ReturnAuthorization, verbose_name=_("RMA"), on_delete=models.CASCADE, related_name="lines"
    )
    line_no = models.PositiveSmallIntegerField(verbose_name=_("line number"))
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="rma_lines"
    )
    quantity_expected = models.PositiveIntegerField(verbose_name=_("quantity expected"), default=1)
    quantity_received = models.PositiveIntegerField(
        verbose_name=_("quantity received"),
        default=0,
        editable=False,
        help_text=_("Units received against this line (kept by receiving)."),
    )
    serial_number = models.CharField(
        verbose_name=_("serial number"), max_length=60, blank=True, db_index=True
    )
    price_paid = models.DecimalField(
        verbose_name=_("price paid"), max_digits=10, decimal_places=2, default=0
    )
    reason = models.ForeignKey(
        ReasonCode, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="+"
    )
    customer_comment = models.TextField(verbose_name=_("customer comment"), blank=True)

    class Meta:
        ordering = ["rma", "line_no"]
        verbose_name = _("RMA line")
        verbose_name_plural = _("RMA lines")
        constraints = [
            models.UniqueConstraint(fields=["rma", "line_no"], name="rma_line_no_unique"),
            models.CheckConstraint(
                condition=Q(quantity_expected__gte=1), name="rma_line_expects_a_unit"
            ),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=models.F("quantity_expected")),
                name="rma_line_not_over_received",
            ),
            models.CheckConstraint(condition=Q(price_paid__gte=0), name="rma_line_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.rma.number} #{self.line_no} {self.product.sku}"

    def save(self, *args, **kwargs) -> None:
        self.serial_number = canonical(self.serial_number)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        errors = {}
        # The admin shows the received count read-only, which leaves its check constraint out
        # of the form's validation: without this, lowering the quantity was a database error.
        if self.quantity_expected < self.quantity_received:
            errors["quantity_expected"] = ngettext(
                "%(received)s unit was already received on this line: expect at least that many.",
                "%(received)s units were already received on this line: expect at least that many.",
                self.quantity_received,
            ) % {"received": self.quantity_received}
        if problem := self.serial_problem(self.serial_number, self.quantity_expected):
            errors["serial_number"] = problem
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def serial_problem(serial_number: str, quantity: int | None) -> str:
        """Why a line may not name this serial for this many units; "" when it may."""
        # Receiving gives every unit of a line the line's serial, so the second unit would be
        # refused as already received and the RMA could never be received in full.
        if not serial_number or (quantity or 0) <= 1:
            return ""
        return gettext(
            "Serial number %(serial)s names one unit, but the line expects %(quantity)s. Give"
            " each serial its own line of quantity 1."
        ) % {"serial": canonical(serial_number), "quantity": quantity}

    @property
    def quantity_outstanding(self) -> int:
        return self.quantity_expected - self.quantity_received


class Parcel(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        PARKED = "parked", _("Parked in the exception queue")

    ALLOWED = {
        Status.OPEN: {Status.CLOSED, Status.PARKED},
        Status.PARKED: {Status.OPEN, Status.CLOSED},
        Status.CLOSED: set(),
    }

    class Packaging(models.TextChoices):
        INTACT = "intact", _("Intact")
        DAMAGED = "damaged", _("Box damaged")
        OPENED = "opened", _("Opened / resealed")
        NONE = "none", _("No packaging")

    scanned_code = models.CharField(verbose_name=_("scanned code"), max_length=64)
    rma = models.ForeignKey(
        ReturnAuthorization,
        verbose_name=_("RMA"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
    )
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="parcels"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("received by"), on_delete=models.PROTECT
    )
    received_at = models.DateTimeField(verbose_name=_("received at"), default=timezone.now)
    packaging = models.CharField(
        verbose_name=_("packaging"), max_length=10, choices=Packaging, default=Packaging.INTACT
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.OPEN
    )
    is_late = models.BooleanField(verbose_name=_("is late"), default=False)
    closed_at = models.DateTimeField(verbose_name=_("closed at"), null=True, blank=True)
    shortages = models.JSONField(
        verbose_name=_("shortages"),
        default=list,
        blank=True,
        help_text=_("Lines still short when the parcel was closed."),
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        indexes = [
            models.Index(fields=["station", "status", "-received_at"], name="parcel_station_open"),
            models.Index(fields=["status", "received_at"], name="parcel_status_age"),
            # A supervisor finds a parked parcel by the code it was scanned with.
            models.Index(fields=["scanned_code"], name="parcel_scanned_code"),
        ]

    def __str__(self) -> str:
        words = {"number": self.pk, "rma": self.rma or self.scanned_code}
        return gettext("Parcel %(number)s (%(rma)s)") % words


class ReceivingException(models.Model):
    """Something at receiving a supervisor must look at; the parcel or unit waits in its queue."""

    class Kind(models.TextChoices):
        UNMATCHED = "unmatched", _("Unmatched parcel")
        WRONG_ITEM = "wrong_item", _("Wrong item")
        OVER_RECEIPT = "over_receipt", _("Over-receipt")
        LATE = "late", _("Late arrival")
        RMA_NOT_OPEN = "rma_not_open", _("RMA cancelled or closed")
        PARKED = "parked", _("Parked by clerk")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    class Resolution(models.TextChoices):
        LINKED = "linked", _("Linked to an RMA")
        RMA_CREATED = "rma_created", _("RMA created for it")
        RELEASED = "released", _("Released to receiving")
        REFUSED = "refused", _("Refused (returned to sender)")
        WRITTEN_OFF = "written_off", _("Written off")

    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.OPEN
    )
    parcel = models.ForeignKey(
        Parcel, verbose_name=_("parcel"), on_delete=models.PROTECT, related_name="exceptions"
    )
    item = models.ForeignKey(
        "ReturnItem",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exceptions",
    )
    # The unit's LPN, the parcel's RMA number and its program, copied when raised (and when a
    # parked parcel is linked to an RMA): the queue sorts and filters by them on its own indexes
    # instead of joining parcels, RMAs and units for every open exception.
    lpn = models.CharField(_("LPN"), max_length=20, blank=True, editable=False)
    rma_number = models.CharField(_("RMA number"), max_length=40, blank=True, editable=False)
    program = models.ForeignKey(
        Program,
        verbose_name=_("program"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
    )
    scanned_code = models.CharField(verbose_name=_("scanned code"), max_length=64, blank=True)
    # As the raising clerk read it (the admin searches it; the webhook and history carry it).
    message = models.CharField(verbose_name=_("message"), max_length=300)
    # What `text` words in the reader's language: {"sentence": a SENTENCES key, "values": ...,
    # "note": the clerk's own words}; the note alone for a parked parcel, and for an exception
    # raised before the wording was kept (its stored message, migration 0024).
    wording = models.JSONField(verbose_name=_("wording"), default=dict, blank=True, editable=False)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), on_delete=models.PROTECT
    )
    station = models.ForeignKey(Station, verbose_name=_("station"), on_delete=models.PROTECT)
    raised_at = models.DateTimeField(verbose_name=_("raised at"), default=timezone.now)
    resolution = models.CharField(
        verbose_name=_("resolution"), max_length=20, choices=Resolution, blank=True
    )
    resolution_note = models.CharField(
        verbose_name=_("resolution note"), max_length=300, blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(verbose_name=_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("receiving exception")
        verbose_name_plural = _("receiving exceptions")
        indexes = [
            models.Index(fields=["status", "kind", "raised_at"], name="exception_queue"),
            # The queue lists every open exception by age, whatever its kind or station.
            models.Index(fields=["status", "raised_at"], name="exception_queue_age"),
            models.Index(fields=["status", "scanned_code"], name="exception_queue_code"),
            models.Index(fields=["status", "station", "raised_at"], name="exception_queue_station"),
            # The queue sorted by kind or scanned code, ties broken by id (stable pages).
            models.Index(
                fields=["kind", "id"], condition=Q(status="open"), name="exception_open_kind"
            ),
            models.Index(
                fields=["scanned_code", "id"],
                condition=Q(status="open"),
                name="exception_open_code",
            ),
            models.Index(
                fields=["lpn", "id"], condition=Q(status="open"), name="exception_open_lpn"
            ),
            models.Index(
                fields=["rma_number", "id"], condition=Q(status="open"), name="exception_open_rma"
            ),
            models.Index(
                fields=["program", "raised_at"],
                condition=Q(status="open"),
                name="exception_open_program",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(resolution=""),
                name="resolved_exception_says_how",
            )
        ]

    # The sentences an exception is raised with, kept by name: each reader gets its own language.
    SENTENCES = {
        "late_held": gettext_noop("RMA %(number)s expired on %(date)s: held for a supervisor."),
        "late_accepted": gettext_noop("RMA %(number)s expired on %(date)s: accepted and flagged."),
        "labelled": gettext_noop("%(lpn)s: %(code)s received as %(kind)s on RMA %(number)s."),
        "unmatched": gettext_noop("No RMA matches '%(code)s'."),
        "rma_not_open": gettext_noop("RMA %(number)s is %(status)s."),
    }

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"

    @staticmethod
    def worded(wording: dict) -> str:
        """What an exception's `wording` says, in the active language."""
        note = wording.get("note", "")
        if not wording.get("sentence"):
            return note
        return ReceivingException.word(wording["sentence"], wording["values"], note)

    @staticmethod
    def word(sentence: str, values: dict, note: str = "") -> str:
        """The sentence with its values, in the active language; the clerk's note after it.

        Values are stored as data (an ISO date, a kind's or a status's code) and worded here:
        a date as the reader writes dates, a label in the reader's words.
        """
        shown = dict(values)
        if "date" in shown:
            shown["date"] = date_format(datetime.date.fromisoformat(shown["date"]))
        if "kind" in shown:
            shown["kind"] = in_sentence(ReceivingException.Kind(shown["kind"]).label)
        if "status" in shown:
            shown["status"] = in_sentence(ReturnAuthorization.Status(shown["status"]).label)
        return f"{gettext(ReceivingException.SENTENCES[sentence]) % shown} {note}".strip()

    @property
    def text(self) -> str:
        """What the exception says, in the reader's language."""
        return self.worded(self.wording)


class ReturnItem(models.Model):
    """One physical unit, named by the LPN printed on its label at receipt."""

    class Status(models.TextChoices):
        HELD = "held", _("Held for a supervisor")
        RECEIVED = "received", _("Received, awaiting inspection")
        INSPECTING = "inspecting", _("Being inspected")
        INSPECTED = "inspected", _("Inspected, awaiting disposition")
        AWAITING_APPROVAL = "awaiting_approval", _("Disposition awaiting approval")
        DISPOSED = "disposed", _("Disposition decided")
        IN_REPAIR = "in_repair", _("In repair or refurbishment")
        PUT_AWAY = "put_away", _("Put away or in a lot")
        CLOSED = "closed", _("Closed")

    ALLOWED = {
        Status.HELD: {Status.RECEIVED, Status.CLOSED},
        # Closed uninspected when the parcel it came in is refused or written off.
        Status.RECEIVED: {Status.INSPECTING, Status.INSPECTED, Status.HELD, Status.CLOSED},
        Status.INSPECTING: {Status.INSPECTED, Status.RECEIVED},
        # Re-inspection before disposition is allowed; after it, only a supervisor reopens.
        Status.INSPECTED: {
            Status.INSPECTING,
            Status.INSPECTED,
            Status.DISPOSED,
            Status.AWAITING_APPROVAL,
        },
        Status.AWAITING_APPROVAL: {Status.DISPOSED, Status.INSPECTED},
        Status.DISPOSED: {Status.PUT_AWAY, Status.IN_REPAIR, Status.INSPECTED, Status.CLOSED},
        Status.IN_REPAIR: {Status.RECEIVED, Status.INSPECTED},
        Status.PUT_AWAY: {Status.CLOSED, Status.INSPECTED},
        Status.CLOSED: set(),
    }

    lpn = models.CharField(_("LPN"), max_length=20, unique=True)
    parcel = models.ForeignKey(
        Parcel, verbose_name=_("parcel"), on_delete=models.PROTECT, related_name="items"
    )
    rma_line = models.ForeignKey(
        RMALine,
        verbose_name=_("RMA line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
    )
    # The RMA line's program and reason, copied at receipt: the unit queues filter by them on
    # their own indexes instead of joining lines and RMAs for every unit waiting.
    program = models.ForeignKey(
        Program,
        verbose_name=_("program"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    reason = models.ForeignKey(
        ReasonCode,
        verbose_name=_("reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The grade of its current (unsuperseded) inspection, blank until graded: written by
    # inspection's services, so the awaiting-disposition queue sorts and filters by grade on its
    # own index instead of joining every waiting unit's inspection.
    grade_code = models.CharField(
        verbose_name=_("grade code"), max_length=10, blank=True, editable=False
    )
    scanned_code = models.CharField(verbose_name=_("scanned code"), max_length=64)
    serial_number = models.CharField(verbose_name=_("serial number"), max_length=60, blank=True)
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status, default=Status.RECEIVED
    )
    is_late = models.BooleanField(verbose_name=_("is late"), default=False)
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="items"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("received by"), on_delete=models.PROTECT
    )
    received_at = models.DateTimeField(verbose_name=_("received at"), default=timezone.now)
    status_changed_at = models.DateTimeField(
        verbose_name=_("status changed at"), default=timezone.now
    )
    # The one-time token of the scan that created this unit: a scanner or a double click that
    # posts the same scan twice finds this row instead of creating a second unit.
    scan_token = models.UUIDField(
        verbose_name=_("scan token"), unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("return item")
        verbose_name_plural = _("return items")
        permissions = [
            ("receive_returns", _("Can receive parcels and units at a receiving station")),
            ("supervise_returns", _("Can review queues and clear exceptions")),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="item_status_age"),
            # A unit queue sorted by LPN (either way) reads it in index order.
            models.Index(fields=["status", "lpn"], name="item_status_lpn"),
            models.Index(
                fields=["status", "station", "status_changed_at"], name="item_status_station_age"
            ),
            models.Index(
                fields=["status", "program", "status_changed_at"], name="item_status_program_age"
            ),
            models.Index(
                fields=["status", "reason", "status_changed_at"], name="item_status_reason_age"
            ),
            models.Index(
                fields=["grade_code", "id"],
                condition=Q(status="inspected"),
                name="item_inspected_grade",
            ),
            # The two unit queues sorted by station: PostgreSQL joins the few stations to these
            # ids alone, not to every waiting unit's row.
            *(
                models.Index(
                    fields=["station", "id"],
                    condition=Q(status=status),
                    name=f"item_{status}_station",
                )
                for status in ("received", "inspected")
            ),
            models.Index(fields=["station", "-received_at"], name="item_station_recent"),
            # The dashboard counts units received in a period at every site; the units register
            # lists them newest first, filtered by each of these (a station by the index above).
            models.Index(fields=["received_at"], name="item_received"),
            *(
                models.Index(fields=[field, "received_at"], name=f"item_{field}_received")
                for field in ("status", "program", "reason")
            ),
            models.Index(fields=["serial_number"], name="item_serial"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rma_line", "serial_number"],
                condition=~Q(serial_number=""),
                name="item_serial_once_per_rma_line",
            )
        ]

    def __str__(self) -> str:
        return self.lpn

    @property
    def rma(self) -> "ReturnAuthorization | None":
        """The RMA the unit was received against; a held unit's (no line), its parcel's.

        Not the parcel's alone: a parcel parked and linked to another RMA keeps the units it
        already had on their own RMA's lines, and their news belongs to that customer.
        """
        return self.rma_line.rma if self.rma_line_id else self.parcel.rma

    def can_move_to(self, status: str) -> bool:
        return status in self.ALLOWED[self.Status(self.status)]


class ItemEvent(models.Model):
    """The chain of custody: appended in the same transaction as every change, never edited.

    Its foreign keys have no index of their own: the indexes in Meta lead with them. A second,
    one-column index cost every scan three more index writes, and at a station whose history had
    grown since the last ANALYZE the planner picked it for the desk's recent list and sorted the
    station's whole history on every scan.
    """

    item = models.ForeignKey(
        ReturnItem,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    parcel = models.ForeignKey(
        Parcel,
        verbose_name=_("parcel"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    action = models.CharField(verbose_name=_("action"), max_length=40)
    from_status = models.CharField(verbose_name=_("from status"), max_length=20, blank=True)
    to_status = models.CharField(verbose_name=_("to status"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)
    details = models.JSONField(verbose_name=_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("item event")
        verbose_name_plural = _("item events")
        indexes = [
            models.Index(fields=["item", "created_at"], name="event_item_timeline"),
            models.Index(fields=["parcel", "created_at"], name="event_parcel_timeline"),
            # In the recent list's own order, ties on the clock included: the newest ten are
            # then the index's first ten, whatever the planner's statistics say of the station.
            models.Index(fields=["station", "-created_at", "-id"], name="event_station_recent"),
            # The dashboard counts moves to a status (e.g. disposed) in a period.
            models.Index(fields=["to_status", "created_at"], name="event_status_moves"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(item__isnull=False) | Q(parcel__isnull=False),
                name="event_names_its_unit_or_parcel",
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("History events are append-only: they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("History events are append-only: they cannot be deleted.")

    @property
    def action_label(self) -> str:
        label = EVENT_ACTIONS.get(self.action)
        return str(label) if label else self.action.replace("_", " ").capitalize()

    @property
    def details_shown(self) -> list[tuple[str, object]]:
        """The details worth showing, each under its name in words (the key, if unnamed)."""
        return [
            (str(EVENT_DETAILS.get(key, key)), value)
            for key, value in self.details.items()
            if value
        ]

    @property
    def from_status_label(self) -> str:
        return status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        return status_label(self.to_status)


# What each history action reads as. The later apps' actions are listed here too: these are
# words on the timeline, not an import of those apps.
EVENT_ACTIONS = {
    "parcel_received": _("Parcel received"),
    "received": _("Received"),
    "parcel_closed": _("Parcel closed"),
    "parcel_parked": _("Parcel parked"),
    "parcel_linked": _("Parcel linked"),
    "parcel_released": _("Parcel released"),
    "parcel_moved": _("Parcel moved from a station out of service"),
    "exception_raised": _("Exception raised"),
    "exception_resolved": _("Exception resolved"),
    "released": _("Released"),
    "returned_to_sender": _("Returned to sender"),
    "written_off": _("Written off"),
    "inspection_started": _("Inspection started"),
    "inspection_moved": _("Inspection moved from a station out of service"),
    "reinspection_started": _("Re-inspection started"),
    "inspected": _("Inspected"),
    "reopened": _("Reopened"),
    "disposition_decided": _("Disposition decided"),
    "override_requested": _("Override requested"),
    "override_approved": _("Override approved"),
    "override_rejected": _("Override rejected"),
    "put_away": _("Put away"),
    "sent_to_repair": _("Sent to repair"),
    "repair_completed": _("Repair completed"),
    "shipped_in_lot": _("Shipped in a lot"),
    "returned_again": _("Sold again and returned"),
    "refund_released": _("Refund released"),
    "refund_exported": _("Refund exported"),
    "customer_email_resent": _("Customer e-mail sent again"),
}


# The history details' names in words; values are data (codes, numbers, what people typed).
EVENT_DETAILS = {
    "amount": _("amount"),
    "chosen": _("chosen"),
    "code": _("code"),
    "cost": _("cost"),
    "critical_failure": _("critical failure"),
    "cycle": _("cycle"),
    "destination": _("destination"),
    "disposition": _("disposition"),
    "exception": _("exception"),
    "from_station": _("from station"),
    "grade": _("grade"),
    "inspection": _("inspection"),
    "kept": _("units kept"),
    "kind": _("kind"),
    "late": _("late"),
    "line": _("line"),
    "location": _("location"),
    "lot": _("lot"),
    "message": _("message"),
    "note": _("note"),
    "override_reason": _("override reason"),
    "packaging": _("packaging"),
    "partner": _("partner"),
    "reason": _("reason"),
    "recipient": _("recipient"),
    "recommended": _("recommended"),
    "refund": _("refund"),
    "repair_order": _("repair order"),
    "resolution": _("resolution"),
    "returned_as": _("returned as"),
    "returned_before": _("returned before as"),
    "rma": _("RMA"),
    "rule": _("rule"),
    "score": _("score"),
    "serial": _("serial"),
    "shortages": _("shortages"),
    "sku": _("SKU"),
    "treatment": _("treatment"),
    "units": _("units"),
    "with_parcel": _("with its parcel"),
}


def status_label(value: str) -> str:
    """A unit's or parcel's status as words; history rows hold either kind."""
    for choices in (ReturnItem.Status, Parcel.Status):
        if value in choices.values:
            return str(choices(value).label)
    return value


class Counter(models.Model):
    """Named counters (the next LPN), incremented under a row lock so numbers are never reused."""

    name = models.CharField(verbose_name=_("name"), max_length=40, primary_key=True)
    value = models.PositiveBigIntegerField(verbose_name=_("value"), default=0)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class QueueSLA(models.Model):
    """How long a row may wait in a supervisor's queue before it stands out (admin-edited).

    A row without a site-specific target uses the one with no site; without either, no row
    is ever late.
    """

    class Queue(models.TextChoices):
        AWAITING_INSPECTION = "awaiting_inspection", _("Awaiting inspection")
        BEING_INSPECTED = "being_inspected", _("Being inspected")
        AWAITING_DISPOSITION = "awaiting_disposition", _("Awaiting disposition")
        AWAITING_APPROVAL = "awaiting_approval", _("Overrides awaiting approval")
        EXCEPTIONS = "exceptions", _("Exceptions")
        OPEN_LOTS = "open_lots", _("Open lots")
        REPAIRS = "repairs", _("Repair queue")

    queue = models.CharField(verbose_name=_("queue"), max_length=30, choices=Queue)
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Empty: every site."),
    )
    hours = models.PositiveIntegerField(
        verbose_name=_("hours"), help_text=_("Rows older than this are highlighted.")
    )

    class Meta:
        ordering = ["queue", "site__code"]
        verbose_name = _("queue SLA")
        verbose_name_plural = _("queue SLAs")
        constraints = [
            models.UniqueConstraint(fields=["queue", "site"], name="sla_once_per_queue_site"),
            models.UniqueConstraint(
                fields=["queue"], condition=Q(site__isnull=True), name="sla_one_default_per_queue"
            ),
        ]

    def __str__(self) -> str:
        site = self.site or gettext("every site")
        words = {"queue": self.get_queue_display(), "site": site, "hours": self.hours}
        # The SLA of a queue at a site, as the admin lists it: "Exceptions @ AMS: 4 h".
        return pgettext("a queue's SLA", "%(queue)s @ %(site)s: %(hours)s h") % words


# Integration: API keys, webhooks (an outbox and its deliveries), CSV import mappings.


class ApiKey(models.Model):
    """One integration's key. Only a hash of the secret is kept: the key is shown once, at creation.

    A key reads `rd_<prefix>_<secret>`; the prefix finds the row, the SHA-256 of the whole key
    proves it. The secret is 256 random bits, so a fast hash is enough (no password stretching).
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    name = models.CharField(
        verbose_name=_("name"),
        max_length=100,
        help_text=_("Which system uses it, e.g. 'Web shop'."),
    )
    prefix = models.CharField(verbose_name=_("prefix"), max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(verbose_name=_("hashed key"), max_length=64, editable=False)
    scope = models.CharField(
        verbose_name=_("scope"), max_length=10, choices=Scope, default=Scope.READ
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(
        verbose_name=_("last used at"), null=True, blank=True, editable=False
    )
    revoked_at = models.DateTimeField(
        verbose_name=_("revoked at"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} (rd_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope == self.Scope.READ or self.scope == self.Scope.WRITE


class IdempotencyRecord(models.Model):
    """The first answer to a create sent with an Idempotency-Key, replayed for its retries."""

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(verbose_name=_("key"), max_length=255)
    request_hash = models.CharField(verbose_name=_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(verbose_name=_("status code"))
    response = models.JSONField(verbose_name=_("response"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_once_per_key")
        ]

    def __str__(self) -> str:
        return self.key


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=100)
    url = models.URLField(verbose_name=_("URL"), max_length=500)
    secret = models.CharField(
        verbose_name=_("secret"),
        max_length=100,
        default=new_webhook_secret,
        help_text=_("Shared secret the receiver checks the HMAC signature with."),
    )
    event_types = models.JSONField(
        verbose_name=_("event types"),
        default=list,
        blank=True,
        help_text=_('Event types sent, e.g. ["unit.received"]; empty: all.'),
    )
    active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class OutboxEvent(models.Model):
    """Something worth telling integrations, written in the transaction of the change itself.

    `aggregate_key` (the RMA number, or `lot:<code>`) orders delivery: an endpoint gets an
    aggregate's events in `pk` order. `fanned_out` is set once the worker has made a delivery
    per subscribed endpoint.
    """

    uuid = models.UUIDField(verbose_name=_("UUID"), unique=True, editable=False)
    event_type = models.CharField(verbose_name=_("event type"), max_length=50)
    aggregate_key = models.CharField(verbose_name=_("aggregate key"), max_length=60)
    payload = models.JSONField(verbose_name=_("payload"))
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)
    fanned_out = models.BooleanField(verbose_name=_("fanned out"), default=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(
                fields=["id"], condition=Q(fanned_out=False), name="outbox_not_fanned_out"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_key}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead-lettered")

    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # Copied from the event so the head-of-line check stays on one indexed table.
    aggregate_key = models.CharField(verbose_name=_("aggregate key"), max_length=60)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"), default=timezone.now)
    # A worker claims a delivery until this moment; a worker that died lets it lapse.
    leased_until = models.DateTimeField(verbose_name=_("leased until"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(verbose_name=_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        verbose_name=_("last status code"), null=True, blank=True
    )
    last_error = models.CharField(verbose_name=_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(verbose_name=_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-event_id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["endpoint", "aggregate_key", "event"], name="delivery_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once_per_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class CustomerEmail(models.Model):
    """A mail to the customer, queued in the transaction of the history event that causes it.

    The worker (`manage.py deliver_webhooks`, see notifications.py) sends it and retries it, so a
    mail server that is slow or down costs the clerk nothing and loses no mail. One per event: a
    retried request or a second scan never mails twice.
    """

    class Kind(models.TextChoices):
        PARCEL_RECEIVED = "parcel_received", _("Parcel received")
        REFUND_RELEASED = "refund_released", _("Refund released")
        RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")
        WRITTEN_OFF = "written_off", _("Written off")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    rma = models.ForeignKey(
        ReturnAuthorization,
        verbose_name=_("RMA"),
        on_delete=models.PROTECT,
        related_name="customer_emails",
    )
    event = models.OneToOneField(
        ItemEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind)
    recipient = models.EmailField(verbose_name=_("recipient"))
    # The language active where the mail was queued (the request's, which the mail was written
    # in when it was sent from the request): the worker's own is only the default.
    language = models.CharField(verbose_name=_("language"), max_length=10)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"), default=timezone.now)
    # A worker claims a mail until this moment; a worker that died lets it lapse.
    leased_until = models.DateTimeField(verbose_name=_("leased until"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(verbose_name=_("last attempt at"), null=True, blank=True)
    last_error = models.CharField(verbose_name=_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(verbose_name=_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("customer e-mail")
        verbose_name_plural = _("customer e-mails")
        indexes = [
            # The worker's "due" query; sent and failed mails, nearly all of them, stay out of it.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="customer_email_due",
            ),
            # The supervisor's notice of mails in trouble (notifications.undelivered).
            models.Index(
                fields=["last_attempt_at"],
                condition=Q(status="failed") | Q(status="pending", attempts__gt=0),
                name="customer_email_trouble",
            ),
        ]

    def __str__(self) -> str:
        words = {"kind": self.get_kind_display(), "recipient": self.recipient}
        return gettext("%(kind)s to %(recipient)s") % words


class ImportMapping(models.Model):
    """How another system's CSV export maps onto our import columns, saved per source.

    `columns` maps our column name (see returns_desk/imports.py) to the source's header.
    """

    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    description = models.TextField(verbose_name=_("description"), blank=True)
    columns = models.JSONField(
        verbose_name=_("columns"),
        default=dict,
        help_text=_('Our column -> their header, e.g. {"sku": "StockCode"}.'),
    )
    rma_number_prefix = models.CharField(
        verbose_name=_("RMA number prefix"),
        max_length=10,
        blank=True,
        help_text=_("Put before the source's number, e.g. 'FBA-'."),
    )
    negative_quantities = models.BooleanField(
        verbose_name=_("negative quantities"),
        default=False,
        help_text=_("The source writes returned quantities as negative numbers."),
    )
    date_format = models.CharField(
        verbose_name=_("date format"),
        max_length=40,
        default="%Y-%m-%d",
        help_text=_("strptime format; ISO 8601 is also accepted."),
    )
    default_program = models.SlugField(
        verbose_name=_("default program"), max_length=30, default="customer-return"
    )
    default_channel = models.CharField(
        verbose_name=_("default channel"), max_length=20, choices=Channel, default=Channel.WEB
    )
    default_reason = models.SlugField(
        verbose_name=_("default reason"),
        max_length=30,
        blank=True,
        help_text=_("Reason code for rows that give none."),
    )
    reason_map = models.JSONField(
        verbose_name=_("reason map"),
        default=dict,
        blank=True,
        help_text=_("The source's reason -> our reason code."),
    )
    non_product_codes = models.JSONField(
        verbose_name=_("non-product codes"),
        default=list,
        blank=True,
        help_text=_("SKUs that are charges, not goods: reported, not imported."),
    )
    create_unknown_products = models.BooleanField(
        verbose_name=_("create unknown products"),
        default=False,
        help_text=_("Create products for unknown SKUs (named from the file)."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")

    def __str__(self) -> str:
        return self.name
