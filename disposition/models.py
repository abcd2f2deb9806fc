"""Where each graded unit goes next: rules, decisions, refunds, outbound lots and repairs.

A `Disposition` is the decision for one unit; at most one is active per unit (a database
constraint), so two stations or a double Enter can never decide the same unit twice. A unit
that comes back from repair, or is reopened by a supervisor, gets a new one and the old one
stays as history.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from inspection.models import Grade, Inspection
from returns_desk.models import ProductCategory, Program, ReasonCode, ReturnItem, RMALine, Station

from . import rules


def choice_label(choices: type[models.Choices], value: str) -> str:
    """The label of `value` in `choices`, or the value itself, as get_<field>_display() says it.

    Django's get_<field>_display() hashes every choice's lazy label, translating each, to find
    one: the screen after a decision asks seven times, a sixth of its rendering.
    """
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class Outcome(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    REPAIR = "repair", _("Repair")
    REFURBISH = "refurbish", _("Refurbish")
    RECYCLE = "recycle", _("Recycle")
    DONATE = "donate", _("Donate")
    RETURN_TO_VENDOR = "return_to_vendor", _("Return to vendor")
    LIQUIDATE = "liquidate", _("Liquidate")
    QUARANTINE = "quarantine", _("Quarantine / destroy")


# Outcomes whose units go to a workbench (ours, unless a repairer partner does the work) and
# come back to inspection when the work is done.
WORKSHOP_OUTCOMES = (Outcome.REPAIR, Outcome.REFURBISH)
# Outcomes whose lot manifest doubles as a certificate of destruction.
DESTRUCTION_OUTCOMES = {Outcome.RECYCLE, Outcome.QUARANTINE}


class RefundTreatment(models.TextChoices):
    FULL = "full", _("Full refund")
    MINUS_FEE = "minus_fee", _("Refund minus restocking fee")
    NONE = "none", _("No refund")
    REPLACEMENT = "replacement", _("Replacement unit")
    STORE_CREDIT = "store_credit", _("Store credit")


class Partner(models.Model):
    class Kind(models.TextChoices):
        RECYCLER = "recycler", _("Recycler")
        CHARITY = "charity", _("Charity")
        VENDOR = "vendor", _("Vendor")
        LIQUIDATOR = "liquidator", _("Liquidator")
        REPAIRER = "repairer", _("Repairer")

    code = models.SlugField(verbose_name=_("code"), max_length=30, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=100)
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind)
    contact_email = models.EmailField(verbose_name=_("contact e-mail"), blank=True)
    address = models.TextField(verbose_name=_("address"), blank=True)
    licence_number = models.CharField(
        verbose_name=_("licence number"),
        max_length=60,
        blank=True,
        help_text=_("Waste carrier or treatment permit, printed on certificates of destruction."),
    )
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name


class DispositionRule(models.Model):
    """One line of the rule set: the first active rule, by order, whose conditions all hold fires.

    Empty conditions match anything, so a rule with none is a catch-all.
    """

    class Tri(models.TextChoices):
        ANY = "any", _("Any")
        YES = "yes", _("Yes")
        NO = "no", _("No")

    order = models.PositiveIntegerField(
        verbose_name=pgettext_lazy("position in a sequence", "order"),
        help_text=_("Lower runs first."),
    )
    name = models.CharField(verbose_name=_("name"), max_length=100)
    active = models.BooleanField(verbose_name=_("active"), default=True)
    programs = models.ManyToManyField(
        Program, verbose_name=_("programs"), blank=True, related_name="+"
    )
    reasons = models.ManyToManyField(
        ReasonCode, verbose_name=_("reasons"), blank=True, related_name="+"
    )
    grades = models.CharField(
        verbose_name=_("grades"),
        max_length=60,
        blank=True,
        help_text=_("Grade codes separated by commas, e.g. A,B."),
    )
    categories = models.ManyToManyField(
        ProductCategory, verbose_name=_("categories"), blank=True, related_name="+"
    )
    critical_failure = models.CharField(
        verbose_name=_("critical failure"), max_length=3, choices=Tri, default=Tri.ANY
    )
    min_value = models.DecimalField(
        _("unit value from"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("unit value below"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    in_warranty = models.CharField(
        verbose_name=_("in warranty"), max_length=3, choices=Tri, default=Tri.ANY
    )
    recall = models.CharField(verbose_name=_("recall"), max_length=3, choices=Tri, default=Tri.ANY)
    min_days = models.PositiveIntegerField(_("days since purchase from"), null=True, blank=True)
    max_days = models.PositiveIntegerField(_("days since purchase up to"), null=True, blank=True)
    outcome = models.CharField(verbose_name=_("outcome"), max_length=20, choices=Outcome)
    destination_bin = models.CharField(
        verbose_name=_("destination bin"),
        max_length=30,
        blank=True,
        help_text=_("A location code, e.g. RESTOCK-A. Or pick a partner."),
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
    )
    refund = models.CharField(
        verbose_name=_("refund"),
        max_length=20,
        choices=RefundTreatment,
        default=RefundTreatment.MINUS_FEE,
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("disposition rule")
        verbose_name_plural = _("disposition rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lt=F("max_value")),
                name="rule_value_range_well_formed",
            ),
            models.CheckConstraint(
                condition=Q(min_days__isnull=True)
                | Q(max_days__isnull=True)
                | Q(min_days__lte=F("max_days")),
                name="rule_days_range_well_formed",
            ),
            models.CheckConstraint(
                condition=Q(destination_bin="") | Q(partner__isnull=True),
                name="rule_goes_to_a_bin_or_a_partner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.grades = ",".join(sorted(rules.parse_codes(self.grades)))
        self.destination_bin = self.destination_bin.strip().upper()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        values, days = (self.min_value, self.max_value), (self.min_days, self.max_days)
        if None not in values and values[0] >= values[1]:
            errors["max_value"] = gettext("The upper value must be above the lower one.")
        if None not in days and days[0] > days[1]:
            errors["max_days"] = gettext(
                "The upper number of days must not be below the lower one."
            )
        if self.destination_bin and self.partner_id:
            errors["partner"] = gettext("Send units to a bin or to a partner, not both.")
        # A typo ("A;B", "Z") was saved and then never matched, silently.
        known = {code.upper() for code in Grade.objects.values_list("code", flat=True)}
        if unknown := sorted(rules.parse_codes(self.grades) - known):
            errors["grades"] = gettext(
                "No grade scale has the grade %(codes)s. Name grades by their codes, separated"
                " by commas, e.g. A,B."
            ) % {"codes": ", ".join(unknown)}
        if errors:
            raise ValidationError(errors)

    def conditions(self, *, programs=None, reasons=None, categories=None) -> rules.Conditions:
        """The rule's conditions for the matcher; programs, reasons, categories prefetched.

        A form checking a rule before it is saved passes the related rows it was given.
        """
        programs = self.programs.all() if programs is None else programs
        reasons = self.reasons.all() if reasons is None else reasons
        categories = self.categories.all() if categories is None else categories
        return rules.Conditions(
            programs=frozenset(program.code for program in programs),
            reasons=frozenset(reason.code for reason in reasons),
            grades=rules.parse_codes(self.grades),
            categories=frozenset(category.code for category in categories),
            critical_failure=rules.tri(self.critical_failure),
            min_value=self.min_value,
            max_value=self.max_value,
            in_warranty=rules.tri(self.in_warranty),
            recall=rules.tri(self.recall),
            min_days=self.min_days,
            max_days=self.max_days,
        )


class DefaultDestination(models.Model):
    """Where an outcome chosen by override goes, since no rule chose it."""

    outcome = models.CharField(
        verbose_name=_("outcome"), max_length=20, choices=Outcome, unique=True
    )
    destination_bin = models.CharField(verbose_name=_("destination bin"), max_length=30, blank=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["outcome"]
        verbose_name = _("default destination")
        verbose_name_plural = _("default destinations")
        constraints = [
            models.CheckConstraint(
                condition=Q(destination_bin="") | Q(partner__isnull=True),
                name="default_destination_bin_or_partner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} → {self.partner or self.destination_bin}"

    def save(self, *args, **kwargs) -> None:
        self.destination_bin = self.destination_bin.strip().upper()
        super().save(*args, **kwargs)


class DispositionSettings(models.Model):
    """The one row of disposition settings an admin may change (override approval, repairs)."""

    override_value_threshold = models.DecimalField(
        verbose_name=_("override value threshold"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("100.00"),
        validators=[MinValueValidator(0)],
        help_text=_("An override of a unit worth more than this waits for a supervisor."),
    )
    outcomes_needing_approval = models.JSONField(
        verbose_name=_("outcomes needing approval"),
        default=list,
        blank=True,
        help_text=_("Outcome codes for which an override always waits for a supervisor."),
    )
    max_repair_cycles = models.PositiveSmallIntegerField(
        verbose_name=_("max repair cycles"),
        default=2,
        help_text=_("After this many repairs a unit goes to end of life."),
    )
    end_of_life_outcome = models.CharField(
        verbose_name=_("end-of-life outcome"),
        max_length=20,
        choices=Outcome,
        default=Outcome.RECYCLE,
    )
    warranty_days = models.PositiveIntegerField(
        verbose_name=_("warranty days"),
        default=365,
        help_text=_("A unit bought this many days ago or fewer is under warranty."),
    )

    class Meta:
        verbose_name = _("disposition settings")
        verbose_name_plural = _("disposition settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="one_settings_row")]

    def __str__(self) -> str:
        return gettext("Disposition settings")

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        unknown = set(self.outcomes_needing_approval or []) - set(Outcome.values)
        if unknown:
            raise ValidationError(
                {
                    "outcomes_needing_approval": gettext("Unknown outcomes: %(outcomes)s.")
                    % {"outcomes": ", ".join(sorted(unknown))}
                }
            )

    @classmethod
    def load(cls) -> "DispositionSettings":
        return cls.objects.get_or_create(pk=1)[0]

    def needs_approval(self, *, outcome: str, unit_value: Decimal) -> bool:
        return unit_value > self.override_value_threshold or (
            outcome in self.outcomes_needing_approval
        )


class Lot(models.Model):
    """Units leaving together for one partner and outcome; one open lot per pair at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    code = models.CharField(verbose_name=_("code"), max_length=20, unique=True, editable=False)
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="lots"
    )
    outcome = models.CharField(verbose_name=_("outcome"), max_length=20, choices=Outcome)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.OPEN
    )
    opened_at = models.DateTimeField(verbose_name=_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(verbose_name=_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    weight_kg = models.DecimalField(
        verbose_name=_("weight (kg)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    notes = models.TextField(verbose_name=_("notes"), blank=True, max_length=2000)
    # How many decisions are in the lot, kept by the services that put them in and take them
    # out (each holds the lot's row lock): counted on every showing, the open-lots queue grew
    # with its largest lot (4 ms of PostgreSQL for 16,000 units; p95 1.5x from 10k to 1M).
    units = models.PositiveIntegerField(verbose_name=_("units"), default=0, editable=False)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        indexes = [models.Index(fields=["status", "opened_at"], name="lot_status_age")]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "outcome"],
                condition=Q(status="open"),
                name="one_open_lot_per_partner_outcome",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False),
                name="closed_lot_has_a_close_time",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def certifies_destruction(self) -> bool:
        return self.outcome in DESTRUCTION_OUTCOMES


class UnitKeys(models.Model):
    """The unit's LPN, program, reason and receiving station, copied when the row is made.

    None of them changes for a unit once received (the admin fixes an RMA's program and reasons
    once a parcel arrived), so the approval and repair queues sort and filter by them on their
    own indexes instead of joining every unit of the queue first. check_integrity compares them.
    """

    lpn = models.CharField(_("LPN"), max_length=20, editable=False)
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
    unit_station = models.ForeignKey(
        Station,
        verbose_name=_("unit station"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True

    @staticmethod
    def of(item: ReturnItem) -> dict:
        """The copies a new row takes from its unit, as keyword arguments for create()."""
        return {
            "lpn": item.lpn,
            "program_id": item.program_id,
            "reason_id": item.reason_id,
            "unit_station_id": item.station_id,
        }


class Disposition(UnitKeys):
    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Override awaiting approval")
        DECIDED = "decided", _("Decided")
        COMPLETED = "completed", _("Completed (repaired, back to inspection)")
        REJECTED = "rejected", _("Override rejected")
        SUPERSEDED = "superseded", _("Superseded (unit reopened)")

    ACTIVE = (Status.AWAITING_APPROVAL, Status.DECIDED)

    class OverrideReason(models.TextChoices):
        BETTER_THAN_GRADED = "better_than_graded", _("Condition better than graded")
        WORSE_THAN_GRADED = "worse_than_graded", _("Condition worse than graded")
        MISSING_PARTS = "missing_parts", _("Missing parts or accessories")
        PARTNER_UNAVAILABLE = "partner_unavailable", _("Destination unavailable")
        CUSTOMER_GOODWILL = "customer_goodwill", _("Customer goodwill")
        OTHER = "other", _("Other (see note)")

    class Approval(models.TextChoices):
        NOT_NEEDED = "", _("Not needed")
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    item = models.ForeignKey(
        ReturnItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="dispositions"
    )
    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("inspection"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    grade_code = models.CharField(verbose_name=_("grade code"), max_length=10, blank=True)
    rule = models.ForeignKey(
        DispositionRule,
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The rule's name and its checks as they were: editing the rule set never rewrites history.
    rule_name = models.CharField(verbose_name=_("rule name"), max_length=100, blank=True)
    explanation = models.JSONField(verbose_name=_("explanation"), default=list, blank=True)
    recommended_outcome = models.CharField(
        verbose_name=_("recommended outcome"), max_length=20, choices=Outcome
    )
    chosen_outcome = models.CharField(
        verbose_name=_("chosen outcome"), max_length=20, choices=Outcome
    )
    override_reason = models.CharField(
        verbose_name=_("override reason"), max_length=30, choices=OverrideReason, blank=True
    )
    override_note = models.CharField(verbose_name=_("override note"), max_length=300, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=20, choices=Status)
    destination_bin = models.CharField(verbose_name=_("destination bin"), max_length=30, blank=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispositions",
    )
    lot = models.ForeignKey(
        Lot,
        verbose_name=_("lot"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispositions",
    )
    refund_treatment = models.CharField(
        verbose_name=_("refund treatment"), max_length=20, choices=RefundTreatment
    )
    # Indexed by disposition_station_recent, which leads with it: a one-column index of its own
    # let the planner sort a station's whole history for the desk's recent list.
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(verbose_name=_("decided at"), default=timezone.now)
    approval = models.CharField(
        verbose_name=_("approval"), max_length=10, choices=Approval, blank=True
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(verbose_name=_("approved at"), null=True, blank=True)
    approval_note = models.CharField(verbose_name=_("approval note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        permissions = [("decide_disposition", _("Can decide where inspected units go"))]
        indexes = [
            models.Index(fields=["status", "decided_at"], name="disposition_queue"),
            models.Index(fields=["chosen_outcome", "decided_at"], name="disposition_mix"),
            # A station's recent decisions on the desk: without it, a busy station's history is
            # sorted whole on every scan (2.9 s at 800k decisions).
            models.Index(fields=["station", "-decided_at"], name="disposition_station_recent"),
            # The open lots' unit counts (index-only), and the approval queue sorted by outcome.
            models.Index(
                fields=["lot"], condition=Q(status="decided"), name="disposition_lot_decided"
            ),
            models.Index(
                fields=["chosen_outcome", "decided_at"],
                condition=Q(status="awaiting_approval"),
                name="approval_outcome",
            ),
            # The approval queue sorted by any column of its own: one small index each.
            *(
                models.Index(
                    fields=[column, "id"],
                    condition=Q(status="awaiting_approval"),
                    name=f"approval_{column}"[:30],
                )
                for column in (
                    "lpn",
                    "grade_code",
                    "recommended_outcome",
                    "chosen_outcome",
                    "override_reason",
                )
            ),
            # ... and by clerk: PostgreSQL walks the clerks in username order and reads each
            # one's decisions from here in id order, instead of joining all of them to sort.
            models.Index(
                fields=["decided_by", "id"],
                condition=Q(status="awaiting_approval"),
                name="approval_clerk",
            ),
            models.Index(
                fields=["unit_station", "id"],
                condition=Q(status="awaiting_approval"),
                name="approval_unit_station",
            ),
            # ... and filtered by program or reason, oldest first.
            *(
                models.Index(
                    fields=[column, "decided_at"],
                    condition=Q(status="awaiting_approval"),
                    name=f"approval_{column}_age",
                )
                for column in ("program", "reason")
            ),
        ]
        constraints = [
            # Exactly once: a double Enter or a second station can never add a second decision.
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=["awaiting_approval", "decided"]),
                name="one_active_disposition_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(chosen_outcome=F("recommended_outcome")) | ~Q(override_reason=""),
                name="override_has_a_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="awaiting_approval") | Q(approval="pending"),
                name="awaiting_disposition_has_pending_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.get_chosen_outcome_display()}"

    def get_status_display(self) -> str:
        return choice_label(self.Status, self.status)

    def get_chosen_outcome_display(self) -> str:
        return choice_label(Outcome, self.chosen_outcome)

    def get_recommended_outcome_display(self) -> str:
        return choice_label(Outcome, self.recommended_outcome)

    @property
    def is_override(self) -> bool:
        return self.chosen_outcome != self.recommended_outcome

    @property
    def goes_to_bench(self) -> bool:
        """Repaired or refurbished here. An outside repairer's units leave in its lot instead:
        queued for our bench as well, they would never ship and their lot never close."""
        return self.chosen_outcome in WORKSHOP_OUTCOMES and not self.partner_id

    @property
    def put_away_code(self) -> str:
        """The code the clerk scans where the unit is put: the lot's, else the bin's."""
        return self.lot.code if self.lot_id else self.destination_bin

    @property
    def destination_label(self) -> str:
        if self.lot_id:
            return gettext("Lot %(code)s (%(partner)s)") % {
                "code": self.lot.code,
                "partner": self.partner,
            }
        if self.partner_id:
            return str(self.partner)
        return self.destination_bin or gettext("Supervisor's shelf (no destination set)")


class RefundInstruction(models.Model):
    """What the commerce system should pay back for one unit; the desk never moves money.

    One per unit, kept across repair cycles and re-decisions, so a unit is refunded once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RELEASED = "released", _("Released")
        EXPORTED = "exported", _("Exported")

    ALLOWED = {
        Status.PENDING: {Status.RELEASED},
        Status.RELEASED: {Status.EXPORTED},
        Status.EXPORTED: set(),
    }

    item = models.OneToOneField(
        ReturnItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="refund"
    )
    disposition = models.ForeignKey(
        Disposition, verbose_name=_("disposition"), on_delete=models.PROTECT, related_name="refunds"
    )
    rma_line = models.ForeignKey(
        RMALine,
        verbose_name=_("RMA line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    treatment = models.CharField(
        verbose_name=_("treatment"), max_length=20, choices=RefundTreatment
    )
    price_paid = models.DecimalField(verbose_name=_("price paid"), max_digits=10, decimal_places=2)
    fee_percent = models.DecimalField(
        verbose_name=_("fee percent"), max_digits=5, decimal_places=2, default=0
    )
    fee_amount = models.DecimalField(
        verbose_name=_("fee amount"), max_digits=10, decimal_places=2, default=0
    )
    fee_waived = models.BooleanField(verbose_name=_("fee waived"), default=False)
    deduction_percent = models.DecimalField(
        verbose_name=_("deduction percent"), max_digits=5, decimal_places=2, default=0
    )
    deduction_amount = models.DecimalField(
        verbose_name=_("deduction amount"), max_digits=10, decimal_places=2, default=0
    )
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.PENDING
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)
    released_at = models.DateTimeField(verbose_name=_("released at"), null=True, blank=True)
    exported_at = models.DateTimeField(verbose_name=_("exported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refund instruction")
        verbose_name_plural = _("refund instructions")
        indexes = [
            models.Index(fields=["status", "created_at"], name="refund_status_age"),
            # The dashboard counts today's refunds live, of every status.
            models.Index(fields=["created_at"], name="refund_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount__lte=F("price_paid")),
                name="refund_within_price_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.get_treatment_display()} {self.amount}"

    def get_treatment_display(self) -> str:
        return choice_label(RefundTreatment, self.treatment)

    def get_status_display(self) -> str:
        return choice_label(self.Status, self.status)


class RepairOrder(UnitKeys):
    """A work order on the repair or refurbishment bench; finishing it sends the unit back."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled (decision withdrawn)")

    item = models.ForeignKey(
        ReturnItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="repair_orders"
    )
    disposition = models.OneToOneField(
        Disposition,
        verbose_name=_("disposition"),
        on_delete=models.PROTECT,
        related_name="repair_order",
    )
    # The decision's grade, fixed when the order opens, for the repair queue's grade column.
    grade_code = models.CharField(
        verbose_name=_("grade code"), max_length=10, blank=True, editable=False
    )
    kind = models.CharField(
        verbose_name=_("kind"), max_length=20, choices=[(o, o.label) for o in WORKSHOP_OUTCOMES]
    )
    cycle = models.PositiveSmallIntegerField(
        verbose_name=_("cycle"), help_text=_("1 for the unit's first repair.")
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status, default=Status.OPEN
    )
    notes = models.TextField(verbose_name=_("notes"), blank=True, max_length=4000)
    cost = models.DecimalField(
        verbose_name=_("cost"),
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    opened_at = models.DateTimeField(verbose_name=_("opened at"), default=timezone.now)
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["opened_at"]
        verbose_name = _("repair order")
        verbose_name_plural = _("repair orders")
        indexes = [
            models.Index(fields=["status", "opened_at"], name="repair_queue"),
            models.Index(fields=["lpn", "id"], condition=Q(status="open"), name="repair_lpn"),
            models.Index(
                fields=["grade_code", "id"], condition=Q(status="open"), name="repair_grade"
            ),
            models.Index(fields=["kind", "id"], condition=Q(status="open"), name="repair_kind"),
            models.Index(fields=["cycle", "id"], condition=Q(status="open"), name="repair_cycle"),
            models.Index(
                fields=["unit_station", "id"],
                condition=Q(status="open"),
                name="repair_unit_station",
            ),
            models.Index(
                fields=["program", "opened_at"], condition=Q(status="open"), name="repair_program"
            ),
            models.Index(
                fields=["reason", "opened_at"], condition=Q(status="open"), name="repair_reason"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(status="open"), name="one_open_repair_per_unit"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="repair_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"RO-{self.pk:06d} {self.item}"


class DashboardDay(models.Model):
    """A finished day's dashboard figures for one site, or for every site (site empty).

    The dashboard reads a row per past day instead of aggregating that day's units, events and
    decisions again on every request; dashboard.py says when a row is made and when dropped.
    """

    site = models.ForeignKey(
        "returns_desk.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    day = models.DateField(verbose_name=_("day"))
    figures = models.JSONField(verbose_name=_("figures"))
    made_at = models.DateTimeField(verbose_name=_("made at"), default=timezone.now)

    class Meta:
        verbose_name = _("dashboard day")
        verbose_name_plural = _("dashboard days")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "day"], condition=Q(site__isnull=False), name="dashboard_site_day"
            ),
            models.UniqueConstraint(
                fields=["day"], condition=Q(site__isnull=True), name="dashboard_every_site_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.site or gettext('every site')}"


class DashboardHour(models.Model):
    """One finished hour of an unfinished day's dashboard figures, for one site or every site.

    Today's figures add up the rows of its finished hours and count only the rest of the day
    live; dashboard.py says when a row is made and when dropped. Rows older than a couple of
    days are deleted once their days are rolled up into DashboardDay.
    """

    site = models.ForeignKey(
        "returns_desk.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    figures = models.JSONField(verbose_name=_("figures"))

    class Meta:
        verbose_name = _("dashboard hour")
        verbose_name_plural = _("dashboard hours")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "starts_at"],
                condition=Q(site__isnull=False),
                name="dashboard_site_hour",
            ),
            models.UniqueConstraint(
                fields=["starts_at"],
                condition=Q(site__isnull=True),
                name="dashboard_every_site_hour",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.site or gettext('every site')}"
