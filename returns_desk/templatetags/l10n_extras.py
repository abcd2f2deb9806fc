"""Amounts of money as the reader's locale writes them: 1,234.50 in English, 1.234,50 in German."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value: Decimal | float | int | str | None) -> str:
    """Two decimals with the locale's separators and grouping; empty for no amount."""
    if value is None or value == "":
        return ""
    return number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
