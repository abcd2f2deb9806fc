"""The core of Returns Desk: where returns arrive, what is expected, and every unit's life.

`ReturnItem.status` is the one place a unit's lifecycle state lives; `ALLOWED` beside it is the
transition table every service checks. `ItemEvent` is the append-only chain of custody.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .scanning import canonical


class Site(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=50, default="Europe/London")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    class Kind(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        INSPECTION = "inspection", "Inspection"
        BOTH = "both", "Receiving and inspection"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stations")
    code = models.CharField(max_length=20, help_text="As printed on the station, e.g. RCV-01.")
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.BOTH)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__code", "code"]
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
        CUSTOMER_RETURN = "customer_return", "Customer return"
        WARRANTY = "warranty", "Warranty repair or replacement"
        RECALL = "recall", "Product recall"
        TRADE_IN = "trade_in", "Trade-in"
        RENTAL = "rental", "Rental or lease return"
        B2B_EXCESS = "b2b_excess", "B2B excess stock"
        DELIVERY_FAILURE = "delivery_failure", "Delivery failure (return to sender)"
        END_OF_LIFE = "end_of_life", "End of life / take-back"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, choices=Kind)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReasonCode(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductCategory(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "product categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField("SKU", max_length=40, unique=True)
    gtin = models.CharField(
        "GTIN / EAN",
        max_length=14,
        blank=True,
        db_index=True,
        help_text="The retail barcode, so a clerk can scan the box instead of typing the SKU.",
    )
    name = models.CharField(max_length=200)
    category = models.ForeignKey(ProductCategory, on_delete=models.PROTECT, related_name="products")
    unit_value = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    serialised = models.BooleanField(
        default=False, help_text="Each unit carries a serial number that must be captured."
    )
    weight_grams = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sku"]
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
    WEB = "web", "Web shop"
    STORE = "store", "Store"
    MARKETPLACE = "marketplace", "Marketplace"
    PHONE = "phone", "Phone"
    B2B = "b2b", "Business (B2B)"


def _is_percentage(value) -> bool:
    try:
        return 0 <= Decimal(str(value)) <= 100
    except ArithmeticError:
        return False


class ReturnPolicy(models.Model):
    class LateArrival(models.TextChoices):
        ACCEPT_AND_FLAG = "accept", "Accept and flag"
        HOLD = "hold", "Hold for a supervisor"

    name = models.CharField(max_length=100, unique=True)
    programs = models.ManyToManyField(Program, related_name="policies")
    categories = models.ManyToManyField(
        ProductCategory,
        blank=True,
        related_name="policies",
        help_text="Empty means every category.",
    )
    channels = models.JSONField(
        default=list, blank=True, help_text="Channel codes covered; empty means every channel."
    )
    window_days = models.PositiveIntegerField(
        default=30, help_text="Days from issue in which the parcel must arrive."
    )
    restocking_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    fee_waived_for = models.ManyToManyField(
        ReasonCode,
        blank=True,
        related_name="+",
        help_text="Reasons for which no restocking fee is charged (e.g. defect).",
    )
    late_arrival = models.CharField(
        max_length=10, choices=LateArrival, default=LateArrival.ACCEPT_AND_FLAG
    )
    grade_deductions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Percent of the price paid kept back per grade, e.g. {"B": "10", "C": "25"}.',
    )
    rma_required = models.BooleanField(
        default=True, help_text="Parcels without an authorisation go to the exception queue."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "return policies"
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
            raise ValidationError({"channels": f"Unknown channels: {', '.join(sorted(unknown))}."})
        if not isinstance(self.grade_deductions, dict) or not all(
            _is_percentage(value) for value in self.grade_deductions.values()
        ):
            raise ValidationError(
                {"grade_deductions": 'Give each grade a percentage 0..100, e.g. {"C": "25"}.'}
            )


class ReturnAuthorization(models.Model):
    class Status(models.TextChoices):
        AUTHORISED = "authorised", "Authorised"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    RECEIVABLE = {Status.AUTHORISED, Status.PARTIALLY_RECEIVED, Status.RECEIVED, Status.EXPIRED}

    number = models.CharField("RMA number", max_length=40, unique=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="rmas")
    policy = models.ForeignKey(ReturnPolicy, on_delete=models.PROTECT, related_name="rmas")
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, help_text="Where it is expected."
    )
    order_reference = models.CharField(max_length=40, blank=True, db_index=True)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    channel = models.CharField(max_length=20, choices=Channel, default=Channel.WEB)
    purchased_on = models.DateField(null=True, blank=True)
    issued_on = models.DateField(default=timezone.localdate)
    expires_on = models.DateField(blank=True, help_text="Defaults to issue date + policy window.")
    status = models.CharField(max_length=20, choices=Status, default=Status.AUTHORISED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-issued_on", "number"]
        verbose_name = "return authorisation (RMA)"
        verbose_name_plural = "return authorisations (RMAs)"
        indexes = [models.Index(fields=["status", "issued_on"], name="rma_status_issued")]
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
    rma = models.ForeignKey(ReturnAuthorization, on_delete=models.CASCADE, related_name="tracking")
    carrier = models.CharField(max_length=40, blank=True)
    number = models.CharField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        self.number = canonical(self.number)
        super().save(*args, **kwargs)


class RMALine(models.Model):
    rma = models.ForeignKey(ReturnAuthorization, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="rma_lines")
    quantity_expected = models.PositiveIntegerField(default=1)
    quantity_received = models.PositiveIntegerField(
        default=0, editable=False, help_text="Units received against this line (kept by receiving)."
    )
    serial_number = models.CharField(max_length=60, blank=True, db_index=True)
    price_paid = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="+")
    customer_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["rma", "line_no"]
        verbose_name = "RMA line"
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

    @property
    def quantity_outstanding(self) -> int:
        return self.quantity_expected - self.quantity_received


class Parcel(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        PARKED = "parked", "Parked in the exception queue"

    ALLOWED = {
        Status.OPEN: {Status.CLOSED, Status.PARKED},
        Status.PARKED: {Status.OPEN, Status.CLOSED},
        Status.CLOSED: set(),
    }

    class Packaging(models.TextChoices):
        INTACT = "intact", "Intact"
        DAMAGED = "damaged", "Box damaged"
        OPENED = "opened", "Opened / resealed"
        NONE = "none", "No packaging"

    scanned_code = models.CharField(max_length=64)
    rma = models.ForeignKey(
        ReturnAuthorization, on_delete=models.PROTECT, null=True, blank=True, related_name="parcels"
    )
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="parcels")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    received_at = models.DateTimeField(default=timezone.now)
    packaging = models.CharField(max_length=10, choices=Packaging, default=Packaging.INTACT)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    is_late = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    shortages = models.JSONField(
        default=list, blank=True, help_text="Lines still short when the parcel was closed."
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["station", "status", "-received_at"], name="parcel_station_open"),
            models.Index(fields=["status", "received_at"], name="parcel_status_age"),
        ]

    def __str__(self) -> str:
        return f"Parcel {self.pk} ({self.rma or self.scanned_code})"


class ReceivingException(models.Model):
    """Something at receiving a supervisor must look at; the parcel or unit waits in its queue."""

    class Kind(models.TextChoices):
        UNMATCHED = "unmatched", "Unmatched parcel"
        WRONG_ITEM = "wrong_item", "Wrong item"
        OVER_RECEIPT = "over_receipt", "Over-receipt"
        LATE = "late", "Late arrival"
        RMA_NOT_OPEN = "rma_not_open", "RMA cancelled or closed"
        PARKED = "parked", "Parked by clerk"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=20, choices=Kind)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="exceptions")
    item = models.ForeignKey(
        "ReturnItem", on_delete=models.PROTECT, null=True, blank=True, related_name="exceptions"
    )
    scanned_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=300)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    station = models.ForeignKey(Station, on_delete=models.PROTECT)
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            models.Index(fields=["status", "kind", "raised_at"], name="exception_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class ReturnItem(models.Model):
    """One physical unit, named by the LPN printed on its label at receipt."""

    class Status(models.TextChoices):
        HELD = "held", "Held for a supervisor"
        RECEIVED = "received", "Received, awaiting inspection"
        INSPECTING = "inspecting", "Being inspected"
        INSPECTED = "inspected", "Inspected, awaiting disposition"
        AWAITING_APPROVAL = "awaiting_approval", "Disposition awaiting approval"
        DISPOSED = "disposed", "Disposition decided"
        IN_REPAIR = "in_repair", "In repair or refurbishment"
        PUT_AWAY = "put_away", "Put away or in a lot"
        CLOSED = "closed", "Closed"

    ALLOWED = {
        Status.HELD: {Status.RECEIVED, Status.CLOSED},
        Status.RECEIVED: {Status.INSPECTING, Status.INSPECTED, Status.HELD},
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
        Status.IN_REPAIR: {Status.RECEIVED},
        Status.PUT_AWAY: {Status.CLOSED, Status.INSPECTED},
        Status.CLOSED: set(),
    }

    lpn = models.CharField("LPN", max_length=20, unique=True)
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="items")
    rma_line = models.ForeignKey(
        RMALine, on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    scanned_code = models.CharField(max_length=64)
    serial_number = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.RECEIVED)
    is_late = models.BooleanField(default=False)
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="items")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    received_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The one-time token of the scan that created this unit: a scanner or a double click that
    # posts the same scan twice finds this row instead of creating a second unit.
    scan_token = models.UUIDField(unique=True, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at"]
        permissions = [
            ("receive_returns", "Can receive parcels and units at a receiving station"),
            ("supervise_returns", "Can review queues and clear exceptions"),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="item_status_age"),
            models.Index(fields=["station", "-received_at"], name="item_station_recent"),
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

    def can_move_to(self, status: str) -> bool:
        return status in self.ALLOWED[self.Status(self.status)]


class ItemEvent(models.Model):
    """The chain of custody: appended in the same transaction as every change, never edited."""

    item = models.ForeignKey(
        ReturnItem, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["item", "created_at"], name="event_item_timeline"),
            models.Index(fields=["parcel", "created_at"], name="event_parcel_timeline"),
            models.Index(fields=["station", "-created_at"], name="event_station_recent"),
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
        return self.action.replace("_", " ").capitalize()


class Counter(models.Model):
    """Named counters (the next LPN), incremented under a row lock so numbers are never reused."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
