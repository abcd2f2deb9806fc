"""Amounts of money as the reader's locale writes them (1,234.50 in English, 1.234,50 in German),
and labels inside a sentence as its language writes them."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from returns_desk import wording

register = template.Library()


@register.filter
def money(value: Decimal | float | int | str | None) -> str:
    """Two decimals with the locale's separators and grouping; empty for no amount."""
    if value is None or value == "":
        return ""
    return number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def in_sentence(label) -> str:
    """A status or outcome inside a sentence: lower case, unless the language keeps its capital."""
    return wording.in_sentence(label)
