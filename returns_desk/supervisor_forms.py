"""Input shapes of the exception resolution screen; the services decide what may happen."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .forms import ScanCodeField
from .models import Channel, Product, Program, ReasonCode, ReturnAuthorization
from .scanning import BadScan, parse_scan
from .services import NewLine

MAX_LINES = 50

reason_field = forms.CharField(
    max_length=300,
    label=_("Reason"),
    error_messages={"required": _("Say why: the reason goes into the history.")},
)


class LinkForm(forms.Form):
    rma = ScanCodeField(label=_("RMA number"))
    reason = reason_field

    def clean_rma(self) -> ReturnAuthorization:
        number = self.cleaned_data["rma"]
        rma = ReturnAuthorization.objects.filter(number=number).first()
        if rma is None:
            raise forms.ValidationError(
                _("There is no RMA %(number)s. Check the number, or create an RMA below.")
                % {"number": number}
            )
        return rma


class CreateRmaForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.filter(active=True))
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.WEB)
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("SKU quantity, one per line")}),
        label=_("Products in the parcel"),
        help_text=_("One per line: the SKU or barcode, then the quantity (1 if left out)."),
    )
    return_reason = forms.ModelChoiceField(
        queryset=ReasonCode.objects.filter(active=True), label=_("Return reason")
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
            raise forms.ValidationError(
                _("At most %(max)s lines: split the parcel's products.") % {"max": MAX_LINES}
            )
        lines, errors = [], []
        for row in rows:
            try:
                code = parse_scan(row[0])
                quantity = int(row[1]) if len(row) > 1 else 1
            except (BadScan, ValueError):
                errors.append(
                    _("'%(line)s' is not 'SKU quantity': write the SKU, a space, the quantity.")
                    % {"line": " ".join(row)[:70]}
                )
                continue
            product = _product_of(code)
            if product is None:
                errors.append(_no_product(code))
            elif not 1 <= quantity <= 999:
                errors.append(
                    _("%(code)s: the quantity must be a whole number from 1 to 999.")
                    % {"code": code}
                )
            else:
                lines.append(NewLine(product=product, quantity=quantity, reason=return_reason))
        if errors:
            raise forms.ValidationError(errors)
        data["lines"] = lines
        data["order_reference"] = data.get("order_reference", "").strip().upper()
        return data


class CancelRmaForm(forms.Form):
    reason = reason_field


class ResolveForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("release", _("Release / accept")),
            ("refuse", _("Refuse (return to sender)")),
            ("write_off", _("Write off")),
        ],
        error_messages={"invalid_choice": _("Pick release, refuse or write off.")},
    )
    reason = reason_field
    # Asked only of a held unit whose barcode matched no product: what it turned out to be.
    product = ScanCodeField(
        label=_("Identified as (SKU or barcode)"), required=False, blank_allowed=True
    )

    def clean_product(self) -> Product | None:
        code = self.cleaned_data["product"]
        if not code:
            return None
        product = _product_of(code)
        if product is None:
            raise forms.ValidationError(_no_product(code))
        return product


def _product_of(code: str) -> Product | None:
    return Product.objects.filter(Q(sku=code) | Q(gtin=code)).first()


def _no_product(code: str) -> str:
    return _("No product has SKU or barcode %(code)s: check it on the item's label.") % {
        "code": code
    }
