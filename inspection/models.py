"""Grading configuration (criteria, grade scales) and the inspections that apply it to units.

An inspection keeps a snapshot of every criterion as it was answered, so editing a checklist
later never changes a past grade. At most one inspection per unit is active: re-inspecting
supersedes the previous one, which stays as history.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from returns_desk.models import ProductCategory, Program, ReturnItem, Station

from . import grading
from .grading import Kind


class GradeScale(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(
        default=False, help_text=_("Used for every category that has no scale of its own.")
    )
    category = models.OneToOneField(
        ProductCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grade_scale",
        help_text=_("Leave empty for the default scale."),
    )

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_grade_scale"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(category__isnull=True),
                name="default_grade_scale_has_no_category",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_default and self.category_id:
            raise ValidationError("The default scale covers every category: leave category empty.")


class Grade(models.Model):
    scale = models.ForeignKey(GradeScale, on_delete=models.CASCADE, related_name="grades")
    code = models.CharField(max_length=10, help_text=_("e.g. A"))
    name = models.CharField(max_length=60, help_text=_("e.g. like new"))
    min_score = models.DecimalField(
        "from score",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("The lowest score, 0..100."),
    )
    caps_critical = models.BooleanField(
        "cap for critical failures",
        default=False,
        help_text=_("A unit failing a critical question grades no better than this."),
    )
    ebay_condition_id = models.CharField("eBay condition ID", max_length=10, blank=True)
    amazon_condition = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["scale", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "code"], name="grade_code_unique_per_scale"),
            models.UniqueConstraint(
                fields=["scale", "min_score"], name="grade_threshold_unique_per_scale"
            ),
            models.UniqueConstraint(
                fields=["scale"], condition=Q(caps_critical=True), name="one_critical_cap_per_scale"
            ),
            models.CheckConstraint(
                condition=Q(min_score__gte=0) & Q(min_score__lte=100),
                name="grade_threshold_is_a_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class GradingCriterion(models.Model):
    category = models.ForeignKey(ProductCategory, on_delete=models.PROTECT, related_name="criteria")
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Ask only for units returned under this program (e.g. a recall lot check)."),
    )
    question = models.CharField(max_length=200)
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.PASS_FAIL)
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    critical = models.BooleanField(
        default=False, help_text=_("Failing it caps the grade, whatever the score.")
    )
    required = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    scale_max = models.PositiveSmallIntegerField(
        "scale top (N)", null=True, blank=True, help_text=_("Scale questions: answers run 0..N.")
    )
    options = models.JSONField(
        default=list, blank=True, help_text=_("Choice questions: each option's label and points.")
    )
    min_value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    max_value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    unit = models.CharField(
        max_length=20, blank=True, help_text=_("The unit a measured answer is in, such as mm or kg.")
    )

    class Meta:
        ordering = ["category", "order", "pk"]
        verbose_name_plural = "grading criteria"
        indexes = [
            models.Index(fields=["category", "active", "order"], name="criterion_checklist"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="criterion_weight_positive"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
                name="criterion_pass_range_well_formed",
            ),
        ]

    def __str__(self) -> str:
        return self.question

    def clean(self) -> None:
        errors = {}
        if self.weight is not None and self.weight < 1:
            errors["weight"] = "The weight must be at least 1."
        if self.kind == Kind.SCALE and not 1 <= (self.scale_max or 0) <= 9:
            errors["scale_max"] = "A scale runs 0..N with N from 1 to 9: one digit key each."
        if self.kind == Kind.CHOICE:
            options = self.options or []
            if len(options) < 2:
                errors["options"] = "A choice needs at least two options."
            elif not any(option["points"] > 0 for option in options):
                errors["options"] = "At least one option must be worth points."
            elif len(options) > 9:
                errors["options"] = "At most nine options: each is picked with one digit key."
        if self.kind == Kind.MEASURE:
            if self.min_value is None and self.max_value is None:
                errors["min_value"] = "Give the pass range: a minimum, a maximum or both."
            elif (
                self.min_value is not None
                and self.max_value is not None
                and self.min_value > self.max_value
            ):
                errors["max_value"] = "The maximum must not be below the minimum."
        if errors:
            raise ValidationError(errors)

    def spec(self, *, expected_serial: str = "") -> grading.Criterion:
        return grading.Criterion(
            kind=self.kind,
            weight=self.weight,
            critical=self.critical,
            scale_max=self.scale_max,
            options=tuple((option["label"], option["points"]) for option in self.options or []),
            min_value=self.min_value,
            max_value=self.max_value,
            expected_serial=expected_serial,
        )

    @property
    def pass_range(self) -> str:
        low = "" if self.min_value is None else f"{self.min_value.normalize():f}"
        high = "" if self.max_value is None else f"{self.max_value.normalize():f}"
        if low and high:
            return f"{low}–{high} {self.unit}".strip()
        return f"≥ {low} {self.unit}".strip() if low else f"≤ {high} {self.unit}".strip()


class ChecklistCategory(ProductCategory):
    """A product category seen from inspection: its checklist is edited inline in the admin."""

    class Meta:
        proxy = True
        verbose_name = "checklist"
        verbose_name_plural = "checklists (by product category)"


class Inspection(models.Model):
    item = models.ForeignKey(ReturnItem, on_delete=models.PROTECT, related_name="inspections")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, null=True, blank=True)
    # The grade's code as given, so a renamed grade never rewrites history.
    grade_code = models.CharField(max_length=10, blank=True)
    critical_failure = models.BooleanField(default=False)
    superseded = models.BooleanField(
        default=False, help_text=_("Replaced by a later inspection of the same unit.")
    )

    class Meta:
        ordering = ["-started_at"]
        permissions = [("inspect_returns", "Can inspect and grade units at an inspection station")]
        indexes = [
            models.Index(fields=["station", "finished_at"], name="inspection_station_open"),
            models.Index(fields=["grade_code", "finished_at"], name="inspection_grade_mix"),
            # The dashboard counts today's grades live, of every grade.
            models.Index(fields=["finished_at"], name="inspection_finished"),
        ]
        constraints = [
            # Two stations (or a scanner firing twice) can never both be inspecting one unit.
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(superseded=False),
                name="one_active_inspection_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(grade_code__gt=""),
                name="finished_inspection_has_a_grade",
            ),
        ]

    def __str__(self) -> str:
        return f"Inspection of {self.item} ({self.grade_code or 'open'})"

    @property
    def is_open(self) -> bool:
        return self.finished_at is None and not self.superseded


class Answer(models.Model):
    """One answer, with the criterion as it stood when answered."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(
        GradingCriterion, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    question = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind)
    weight = models.PositiveSmallIntegerField()
    critical = models.BooleanField(default=False)
    value = models.CharField(max_length=200)
    earned = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    failed = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["inspection", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "criterion"], name="one_answer_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"

    @property
    def mark(self) -> grading.Mark:
        earned = None if self.earned is None else Decimal(self.earned)
        return grading.Mark(self.value, earned, self.failed)


def photo_path(photo: "Photo", filename: str) -> str:
    return f"inspection/{timezone.now():%Y/%m}/{photo.inspection.item.lpn}-{filename}"


class Photo(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["inspection", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.image.name
