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
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from returns_desk.models import ProductCategory, Program, ReturnItem, Station

from . import grading
from .grading import Kind


class GradeScale(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(
        verbose_name=_("is default"),
        default=False,
        help_text=_("Used for every category that has no scale of its own."),
    )
    category = models.OneToOneField(
        ProductCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grade_scale",
        help_text=_("Leave empty for the default scale."),
    )

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("grade scale")
        verbose_name_plural = _("grade scales")
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
            raise ValidationError(
                gettext("The default scale covers every category: leave category empty.")
            )


class Grade(models.Model):
    scale = models.ForeignKey(
        GradeScale, verbose_name=_("scale"), on_delete=models.CASCADE, related_name="grades"
    )
    code = models.CharField(verbose_name=_("code"), max_length=10, help_text=_("e.g. A"))
    name = models.CharField(verbose_name=_("name"), max_length=60, help_text=_("e.g. like new"))
    min_score = models.DecimalField(
        _("from score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("The lowest score, 0..100."),
    )
    caps_critical = models.BooleanField(
        _("cap for critical failures"),
        default=False,
        help_text=_("A unit failing a critical question grades no better than this."),
    )
    ebay_condition_id = models.CharField(_("eBay condition ID"), max_length=10, blank=True)
    amazon_condition = models.CharField(
        verbose_name=_("Amazon condition"), max_length=40, blank=True
    )

    class Meta:
        ordering = ["scale", "-min_score"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
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
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="criteria",
    )
    program = models.ForeignKey(
        Program,
        verbose_name=_("program"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Ask only for units returned under this program (e.g. a recall lot check)."),
    )
    question = models.CharField(verbose_name=_("question"), max_length=200)
    help_text = models.CharField(verbose_name=_("help text"), max_length=300, blank=True)
    kind = models.CharField(
        verbose_name=_("kind"), max_length=20, choices=Kind, default=Kind.PASS_FAIL
    )
    weight = models.PositiveSmallIntegerField(
        verbose_name=_("weight"), default=1, validators=[MinValueValidator(1)]
    )
    critical = models.BooleanField(
        verbose_name=_("critical"),
        default=False,
        help_text=_("Failing it caps the grade, whatever the score."),
    )
    required = models.BooleanField(verbose_name=_("required"), default=True)
    order = models.PositiveIntegerField(
        verbose_name=pgettext_lazy("position in a sequence", "order"), default=0
    )
    active = models.BooleanField(verbose_name=_("active"), default=True)
    scale_max = models.PositiveSmallIntegerField(
        _("scale top (N)"), null=True, blank=True, help_text=_("Scale questions: answers run 0..N.")
    )
    options = models.JSONField(
        verbose_name=_("options"),
        default=list,
        blank=True,
        help_text=_("Choice questions: each option's label and points."),
    )
    min_value = models.DecimalField(
        verbose_name=_("min value"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    max_value = models.DecimalField(
        verbose_name=_("max value"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    unit = models.CharField(
        verbose_name=_("unit"),
        max_length=20,
        blank=True,
        help_text=_("The unit a measured answer is in, such as mm or kg."),
    )

    class Meta:
        ordering = ["category", "order", "pk"]
        verbose_name = _("grading criterion")
        verbose_name_plural = _("grading criteria")
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
            errors["weight"] = gettext("The weight must be at least 1.")
        if self.kind == Kind.SCALE and not 1 <= (self.scale_max or 0) <= 9:
            errors["scale_max"] = gettext(
                "A scale runs 0..N with N from 1 to 9: one digit key each."
            )
        if self.kind == Kind.CHOICE:
            options = self.options or []
            if len(options) < 2:
                errors["options"] = gettext("A choice needs at least two options.")
            elif not any(option["points"] > 0 for option in options):
                errors["options"] = gettext("At least one option must be worth points.")
            elif len(options) > 9:
                errors["options"] = gettext(
                    "At most nine options: each is picked with one digit key."
                )
        if self.kind == Kind.MEASURE:
            if self.min_value is None and self.max_value is None:
                errors["min_value"] = gettext("Give the pass range: a minimum, a maximum or both.")
            elif (
                self.min_value is not None
                and self.max_value is not None
                and self.min_value > self.max_value
            ):
                errors["max_value"] = gettext("The maximum must not be below the minimum.")
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
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists (by product category)")


class Inspection(models.Model):
    item = models.ForeignKey(
        ReturnItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="inspections"
    )
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="+"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(verbose_name=_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)
    notes = models.TextField(verbose_name=_("notes"), blank=True, max_length=2000)
    score = models.DecimalField(
        verbose_name=_("score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    grade = models.ForeignKey(
        Grade, verbose_name=_("grade"), on_delete=models.PROTECT, null=True, blank=True
    )
    # The grade's code as given, so a renamed grade never rewrites history.
    grade_code = models.CharField(verbose_name=_("grade code"), max_length=10, blank=True)
    critical_failure = models.BooleanField(verbose_name=_("critical failure"), default=False)
    superseded = models.BooleanField(
        verbose_name=_("superseded"),
        default=False,
        help_text=_("Replaced by a later inspection of the same unit."),
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        permissions = [
            ("inspect_returns", _("Can inspect and grade units at an inspection station"))
        ]
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
        grade = self.grade_code or pgettext("an inspection not yet finished", "open")
        return gettext("Inspection of %(unit)s (%(grade)s)") % {"unit": self.item, "grade": grade}

    @property
    def is_open(self) -> bool:
        return self.finished_at is None and not self.superseded


class Answer(models.Model):
    """One answer, with the criterion as it stood when answered."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="answers"
    )
    criterion = models.ForeignKey(
        GradingCriterion,
        verbose_name=_("criterion"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    question = models.CharField(verbose_name=_("question"), max_length=200)
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind)
    weight = models.PositiveSmallIntegerField(verbose_name=_("weight"))
    critical = models.BooleanField(verbose_name=_("critical"), default=False)
    value = models.CharField(verbose_name=_("value"), max_length=200)
    # A choice's answer is the option's number, which grading needs; its label is kept as it read
    # when answered, so renaming or reordering the options later does not change what it says.
    option_label = models.CharField(verbose_name=_("option"), max_length=100, blank=True)
    earned = models.DecimalField(
        verbose_name=_("earned"), max_digits=7, decimal_places=6, null=True, blank=True
    )
    failed = models.BooleanField(verbose_name=_("failed"), default=False)
    order = models.PositiveIntegerField(
        verbose_name=pgettext_lazy("position in a sequence", "order"), default=0
    )

    class Meta:
        ordering = ["inspection", "order", "pk"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "criterion"], name="one_answer_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"

    @property
    def shown(self) -> str:
        """The answer as a supervisor reads it, in their language."""
        if self.kind == Kind.PASS_FAIL:
            return gettext("Pass") if self.value == grading.PASS else gettext("Fail")
        if self.option_label:
            return f"{self.value} · {self.option_label}"
        return self.value

    @property
    def mark(self) -> grading.Mark:
        earned = None if self.earned is None else Decimal(self.earned)
        return grading.Mark(self.value, earned, self.failed)


def photo_path(photo: "Photo", filename: str) -> str:
    return f"inspection/{timezone.now():%Y/%m}/{photo.inspection.item.lpn}-{filename}"


class Photo(models.Model):
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(
        verbose_name=_("image"), upload_to=photo_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(verbose_name=_("width"), default=0)
    height = models.PositiveIntegerField(verbose_name=_("height"), default=0)
    uploaded_at = models.DateTimeField(verbose_name=_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["inspection", "uploaded_at", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.image.name
