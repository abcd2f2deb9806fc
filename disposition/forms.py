"""Input shapes of the disposition screens; forms only validate, services change state."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from returns_desk.forms import ScanCodeField, date_picker
from returns_desk.models import Site

from .models import Disposition, Outcome


class ScanForm(forms.Form):
    code = ScanCodeField(label=_("Scan"))
    # The unit decided last at this desk: a location scanned next confirms its put-away.
    pending = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)


class BenchScanForm(forms.Form):
    """The repair bench's scan: a unit's LPN finds its open work order."""

    lpn = ScanCodeField(label=_("Scan"), required=False, blank_allowed=True)


class DecideForm(forms.Form):
    """Empty outcome takes the recommendation; another outcome is an override with a reason."""

    outcome = forms.ChoiceField(
        choices=[("", _("Recommended")), *Outcome.choices],
        required=False,
        error_messages={"invalid_choice": _("Pick one of the listed outcomes.")},
    )
    override_reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("Pick a reason")), *Disposition.OverrideReason.choices],
        required=False,
        error_messages={"invalid_choice": _("Pick one of the listed reasons.")},
    )
    override_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    # The inspection whose grade the clerk saw, so a unit re-graded meanwhile is not decided blind.
    inspection = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ApprovalForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)


class CloseLotForm(forms.Form):
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"), max_digits=10, decimal_places=2, min_value=0, required=False
    )
    notes = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RepairForm(forms.Form):
    notes = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    cost = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)


class DashboardForm(forms.Form):
    """The dashboard's period and site; the last seven days at every site by default."""

    MAX_DAYS = 92

    site = forms.ModelChoiceField(
        queryset=Site.objects.all(), required=False, label=_("Site"), empty_label=_("Every site")
    )
    since = forms.DateField(label=_("From"), widget=date_picker())
    until = forms.DateField(label=_("To"), widget=date_picker())

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and not 0 <= (until - since).days < self.MAX_DAYS:
            raise forms.ValidationError(
                _("Pick a 'to' date on or after 'from', at most %(days)s days later.")
                % {"days": self.MAX_DAYS}
            )
        # A mistyped year (9999 for 2026) is a valid date, and the period's end, the day after
        # 'to', overflowed into a 500. Nothing happens more than a year ahead.
        latest = timezone.localdate() + timedelta(days=366)
        if until and until > latest:
            raise forms.ValidationError(
                _("Pick a 'to' date no later than %(latest)s.")
                % {"latest": date_format(latest, "DATE_FORMAT")}
            )
        return data
