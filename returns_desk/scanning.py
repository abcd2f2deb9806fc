"""What a barcode scanner may send, and the canonical form identifiers are stored and found in."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _

MAX_CODE_LENGTH = 64


class BadScan(ValueError):
    """The input cannot be a barcode; the message tells the clerk what was wrong."""


def canonical(code: str) -> str:
    """Identifiers (RMA, tracking, order, SKU, serial) are compared upper-case without padding."""
    return code.strip().upper()


def parse_scan(raw: str) -> str:
    """Return the canonical code of one scan, or raise BadScan saying why it cannot be one.

    Scanners send printable ASCII (Code 128, Code 39, EAN and QR payloads used for parcels
    and labels), so anything else is a mis-read or a keyboard slip, not a code to look up.
    """
    # Checked before upper-casing: "ß", "ı" or "ſ" would otherwise become ASCII ("SS", "I", "S").
    code = raw.strip()
    if not code:
        raise BadScan(_("Nothing was scanned. Scan a barcode or type the code and press Enter."))
    if len(code) > MAX_CODE_LENGTH:
        raise BadScan(
            _(
                "That is %(length)s characters long; codes are at most %(max)s. Scan the barcode"
                " again."
            )
            % {"length": number_format(len(code), force_grouping=True), "max": MAX_CODE_LENGTH}
        )
    if not all(" " <= char <= "~" for char in code):
        raise BadScan(
            _(
                "That scan holds characters no barcode has (control characters, accents or"
                " emoji). Scan again or type the code."
            )
        )
    return canonical(code)
