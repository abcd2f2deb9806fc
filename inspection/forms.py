"""Input shapes for the inspection screen and the checklist admin; forms never change a status."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from returns_desk.forms import ScanCodeField

from .grading import Kind
from .models import GradingCriterion

ANSWER_FIELD = re.compile(r"^c-(\d{1,18})$")


class ScanForm(forms.Form):
    code = ScanCodeField(label=_("Scan an LPN"), required=False)


def raw_answers(data) -> dict[int, str]:
    """The answers in a POST, keyed by criterion id: every `c-<id>` field, whatever its id.

    Ids are not checked against the checklist here: that is the service's job, so a forged
    post is refused with a message rather than silently dropped.
    """
    answers = {}
    for name in data:
        if match := ANSWER_FIELD.match(name):
            answers[int(match[1])] = data.get(name, "")[:500]
    return answers


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(file, initial) for file in files if file]


class CompleteForm(forms.Form):
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    photos = PhotosField(
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > 10:
            raise ValidationError(
                _("Attach at most ten photos at a time: save, then add the rest.")
            )
        return photos


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=500)


class OptionsField(forms.CharField):
    """Choice options edited as lines of 'label = points', stored as a list of dicts."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 30, "placeholder": _("No scratches = 3")})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{option['label']} = {option['points']}" for option in value)
        return value

    def to_python(self, value):
        options = []
        for line_no, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            label, sep, points = line.rpartition("=")
            if not sep or not label.strip() or not points.strip().isdigit():
                raise ValidationError(
                    _("Line %(n)s: write each option as 'label = points'.") % {"n": line_no}
                )
            options.append({"label": label.strip()[:100], "points": int(points)})
        return options


class GradingCriterionForm(forms.ModelForm):
    options = OptionsField(label=_("Options"), required=False)

    class Meta:
        model = GradingCriterion
        fields = [
            "category",
            "program",
            "question",
            "help_text",
            "kind",
            "weight",
            "critical",
            "required",
            "order",
            "active",
            "scale_max",
            "options",
            "min_value",
            "max_value",
            "unit",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") != Kind.CHOICE:
            cleaned["options"] = []
        return cleaned


class GradeInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        grades = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not grades:
            raise ValidationError(_("A scale needs at least one grade."))
        thresholds = sorted((grade["min_score"] for grade in grades), reverse=True)
        if any(higher <= lower for higher, lower in zip(thresholds, thresholds[1:], strict=False)):
            raise ValidationError(
                _("Thresholds must be strictly descending: give no two grades the same one.")
            )
        if thresholds[-1] != 0:
            raise ValidationError(
                _(
                    "The lowest grade must start at 0, so every score has a grade: set its"
                    " threshold to 0."
                )
            )
        if sum(bool(grade.get("caps_critical")) for grade in grades) > 1:
            raise ValidationError(
                _("Only one grade can be the cap for critical failures: untick the others.")
            )
