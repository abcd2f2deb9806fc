from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Parcel, Program, ReasonCode, ReceivingException, Station
from .scanning import BadScan, parse_scan


def date_picker() -> forms.DateInput:
    """The browser's date picker; it only accepts (and shows) ISO dates, whatever the locale."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ScanCodeField(forms.CharField):
    """A barcode scan: any length is accepted here so that the clerk gets our message, not a cap.

    An empty scan gets parse_scan's message even when the field is not required, unless
    `blank_allowed` says that no code is a valid answer (parking the parcel already open).
    """

    def __init__(self, *, blank_allowed: bool = False, **kwargs):
        self.blank_allowed = blank_allowed
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if self.blank_allowed and not value:
            return ""
        try:
            return parse_scan(value or "")
        except BadScan as error:
            raise forms.ValidationError(str(error)) from error


class StationForm(forms.Form):
    station = forms.ModelChoiceField(
        queryset=Station.objects.filter(active=True).select_related("site"),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("That station does not exist or is closed. Pick one below.")
        },
    )


class ScanForm(forms.Form):
    code = ScanCodeField(
        label=_("Scan"),
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )
    # Set when the last scan was the SKU of a serialised product: this scan is its serial.
    serial_for = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    packaging = forms.ChoiceField(
        choices=Parcel.Packaging, initial=Parcel.Packaging.INTACT, required=False
    )


class ExceptionUnitForm(forms.Form):
    code = ScanCodeField()
    kind = forms.ChoiceField(
        choices=[
            (ReceivingException.Kind.WRONG_ITEM, _("Wrong item")),
            (ReceivingException.Kind.OVER_RECEIPT, _("Over-receipt")),
        ]
    )
    token = forms.UUIDField(required=False)


class ParkForm(forms.Form):
    code = ScanCodeField(required=False, blank_allowed=True)
    reason = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Why, e.g. no paperwork, box empty")}),
    )


class UnannouncedForm(forms.Form):
    """A parcel without an RMA, received under a program whose policy requires none."""

    code = ScanCodeField()
    program = forms.ModelChoiceField(
        label=_("Program"),
        queryset=Program.objects.filter(active=True),
        error_messages={
            "required": _("Choose the program the parcel came back under."),
            "invalid_choice": _("Choose the program the parcel came back under."),
        },
    )
    reason = forms.ModelChoiceField(
        label=_("Reason"),
        queryset=ReasonCode.objects.filter(active=True),
        error_messages={
            "required": _("Choose why the parcel came back."),
            "invalid_choice": _("Choose why the parcel came back."),
        },
    )
    packaging = forms.ChoiceField(
        choices=Parcel.Packaging, initial=Parcel.Packaging.INTACT, required=False
    )
