"""Input shapes of the exception resolution screen; the services decide what may happen."""

from django import forms
from django.db.models import Q

from .forms import ScanCodeField
from .models import Channel, Product, Program, ReasonCode, ReturnAuthorization
from .scanning import BadScan, parse_scan
from .services import NewLine

MAX_LINES = 50

reason_field = forms.CharField(
    max_length=300,
    label="Reason",
    error_messages={"required": "Say why: the reason goes into the history."},
)


class LinkForm(forms.Form):
    rma = ScanCodeField(label="RMA number")
    reason = reason_field

    def clean_rma(self) -> ReturnAuthorization:
        number = self.cleaned_data["rma"]
        rma = ReturnAuthorization.objects.filter(number=number).first()
        if rma is None:
            raise forms.ValidationError(f"There is no RMA {number}.")
        return rma


class CreateRmaForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.filter(active=True))
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.WEB)
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "SKU quantity, one per line"}),
        label="Products in the parcel",
        help_text="One per line: the SKU or barcode, then the quantity (1 if left out).",
    )
    return_reason = forms.ModelChoiceField(
        queryset=ReasonCode.objects.filter(active=True), label="Return reason"
    )
    customer_name = forms.CharField(max_length=200, required=False)
    customer_email = forms.EmailField(required=False)
    order_reference = forms.CharField(max_length=40, required=False)
    reason = reason_field

    def clean(self):
        data = super().clean()
        text, return_reason = data.get("lines", ""), data.get("return_reason")
        if not text or return_reason is None:
            return data
        rows = [row.split() for row in text.splitlines() if row.strip()]
        if len(rows) > MAX_LINES:
            raise forms.ValidationError(f"At most {MAX_LINES} lines.")
        lines, errors = [], []
        for row in rows:
            try:
                code = parse_scan(row[0])
                quantity = int(row[1]) if len(row) > 1 else 1
            except (BadScan, ValueError):
                errors.append(f"'{' '.join(row)[:70]}' is not 'SKU quantity'.")
                continue
            product = Product.objects.filter(Q(sku=code) | Q(gtin=code)).first()
            if product is None:
                errors.append(f"No product has SKU or barcode {code}.")
            elif not 1 <= quantity <= 999:
                errors.append(f"{code}: the quantity must be 1 to 999.")
            else:
                lines.append(NewLine(product=product, quantity=quantity, reason=return_reason))
        if errors:
            raise forms.ValidationError(errors)
        data["lines"] = lines
        data["order_reference"] = data.get("order_reference", "").strip().upper()
        return data


class ResolveForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("release", "Release / accept"),
            ("refuse", "Refuse (return to sender)"),
            ("write_off", "Write off"),
        ],
        error_messages={"invalid_choice": "Pick release, refuse or write off."},
    )
    reason = reason_field
