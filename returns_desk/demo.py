"""Demo data: users for each role, two sites, the eight programs, policies, products and RMAs.

Home-goods RMAs come from real returns (UCI Online Retail II, CC BY 4.0, Chen 2012), re-dated
to the last weeks so that the return windows mean something today. Everything is keyed by a
natural key, so loading twice changes nothing.
"""

import csv
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from .models import (
    Channel,
    Product,
    ProductCategory,
    Program,
    ReasonCode,
    ReturnAuthorization,
    ReturnPolicy,
    RMALine,
    Site,
    Station,
    TrackingNumber,
)
from .roles import ADMIN, CLERK, SUPERVISOR

RETURNS_FILE = Path(__file__).parent / "demo_data" / "online_retail_ii_returns_excerpt.csv"
DEMO_PASSWORD = "returns-demo"
DEMO_USERS = [
    ("clerk", "Clara", "Receiving", CLERK),
    ("inspector", "Ivan", "Inspection", CLERK),
    ("supervisor", "Sam", "Supervisor", SUPERVISOR),
    ("admin", "Ada", "Admin", ADMIN),
]
SITES = {
    "lon": ("London DC", "Europe/London", ["RCV-01", "RCV-02", "INS-01", "INS-02", "MIX-01"]),
    "rtm": ("Rotterdam DC", "Europe/Amsterdam", ["RCV-01", "INS-01"]),
}
PROGRAMS = [
    ("customer-return", "Customer return", Program.Kind.CUSTOMER_RETURN),
    ("warranty", "Warranty repair or replacement", Program.Kind.WARRANTY),
    ("recall", "Product recall", Program.Kind.RECALL),
    ("trade-in", "Trade-in", Program.Kind.TRADE_IN),
    ("rental", "Rental or lease return", Program.Kind.RENTAL),
    ("b2b-excess", "B2B excess stock", Program.Kind.B2B_EXCESS),
    ("delivery-failure", "Delivery failure (return to sender)", Program.Kind.DELIVERY_FAILURE),
    ("end-of-life", "End of life / take-back", Program.Kind.END_OF_LIFE),
]
REASONS = [
    ("defect", "Defective or faulty"),
    ("wrong-size", "Wrong size or fit"),
    ("damaged-in-transit", "Damaged in transit"),
    ("not-as-described", "Not as described"),
    ("changed-mind", "Changed mind"),
    ("warranty-claim", "Warranty claim"),
    ("recall", "Safety recall"),
    ("trade-in", "Traded in for credit"),
    ("end-of-lease", "End of rental or lease"),
    ("excess-stock", "Excess stock"),
    ("undeliverable", "Undeliverable (refused or no one home)"),
    ("end-of-life", "End of life take-back"),
]
CATEGORIES = [("electronics", "Electronics"), ("apparel", "Apparel"), ("home", "Home goods")]
# (sku, gtin, name, category, value, serialised, grams)
PRODUCTS = [
    ("EL-PHN-X12", "5012345000011", "Smartphone X12 128 GB", "electronics", "499.00", True, 190),
    ("EL-LAP-14", "5012345000028", "Laptop 14in 16 GB", "electronics", "899.00", True, 1400),
    ("EL-TAB-10", "5012345000035", "Tablet 10in 64 GB", "electronics", "329.00", True, 480),
    ("EL-HDP-02", "5012345000042", "Wireless headphones", "electronics", "149.00", True, 260),
    ("EL-KTL-17", "5012345000059", "Electric kettle 1.7 l", "electronics", "39.00", True, 1100),
    ("EL-CHG-65", "5012345000066", "USB-C charger 65 W", "electronics", "29.00", False, 150),
    ("AP-JKT-M", "5012345000073", "Rain jacket, navy, M", "apparel", "89.00", False, 650),
    ("AP-JKT-L", "5012345000080", "Rain jacket, navy, L", "apparel", "89.00", False, 680),
    ("AP-SNK-42", "5012345000097", "Running shoes, EU 42", "apparel", "110.00", False, 800),
    ("AP-SNK-43", "5012345000103", "Running shoes, EU 43", "apparel", "110.00", False, 820),
    ("AP-TEE-S", "5012345000110", "Organic cotton T-shirt, S", "apparel", "19.00", False, 180),
]


@dataclass(frozen=True)
class PolicySpec:
    name: str
    programs: tuple[str, ...]
    window_days: int
    fee: str = "0"
    waived: tuple[str, ...] = ()
    late: str = ReturnPolicy.LateArrival.ACCEPT_AND_FLAG
    channels: tuple[str, ...] = ()
    rma_required: bool = True


POLICIES = [
    PolicySpec(
        "Standard 30 days",
        ("customer-return",),
        30,
        fee="10",
        waived=("defect", "damaged-in-transit", "not-as-described"),
    ),
    PolicySpec(
        "Marketplace 14 days",
        ("customer-return",),
        14,
        fee="15",
        waived=("defect", "damaged-in-transit"),
        late=ReturnPolicy.LateArrival.HOLD,
        channels=(Channel.MARKETPLACE,),
    ),
    PolicySpec("Warranty 1 year", ("warranty",), 365),
    PolicySpec("Recall", ("recall",), 180),
    PolicySpec("Trade-in 30 days", ("trade-in",), 30, late=ReturnPolicy.LateArrival.HOLD),
    PolicySpec("Rental return 14 days", ("rental",), 14),
    PolicySpec(
        "B2B excess 60 days",
        ("b2b-excess",),
        60,
        fee="15",
        late=ReturnPolicy.LateArrival.HOLD,
        channels=(Channel.B2B,),
    ),
    # The carrier brings undeliverable parcels back, and people drop old devices off, unasked.
    PolicySpec("Return to sender", ("delivery-failure",), 90, rma_required=False),
    PolicySpec("Take-back", ("end-of-life",), 365, rma_required=False),
]


@dataclass(frozen=True)
class RmaSpec:
    """A hand-made RMA: lines are (sku, quantity, serial, reason, comment)."""

    number: str
    program: str
    policy: str
    days_ago: int
    customer: str
    lines: tuple[tuple[str, int, str, str, str], ...]
    tracking: str = ""
    channel: str = Channel.WEB
    status: str = ReturnAuthorization.Status.AUTHORISED


HAND_MADE_RMAS = [
    RmaSpec(
        "RMA-100001",
        "warranty",
        "Warranty 1 year",
        5,
        "Priya Shah",
        (("EL-PHN-X12", 1, "SN-X12-0001", "warranty-claim", "Screen flickers"),),
        tracking="1Z999AA10123456784",
    ),
    RmaSpec(
        "RMA-100002",
        "recall",
        "Recall",
        12,
        "Tom Evans",
        (("EL-KTL-17", 1, "SN-KTL-7731", "recall", "Recall notice KT-2026-04"),),
        tracking="JD014600003828270001",
    ),
    RmaSpec(
        "RMA-100003", "recall", "Recall", 3, "Olga Nowak", (("EL-KTL-17", 2, "", "recall", ""),)
    ),
    RmaSpec(
        "RMA-100004",
        "trade-in",
        "Trade-in 30 days",
        8,
        "Marco Rossi",
        (
            ("EL-LAP-14", 1, "SN-LAP-5521", "trade-in", "Battery holds about 3 hours"),
            ("EL-CHG-65", 1, "", "trade-in", ""),
        ),
    ),
    RmaSpec(
        "RMA-100005",
        "trade-in",
        "Trade-in 30 days",
        41,
        "Hana Sato",
        (("EL-TAB-10", 1, "SN-TAB-0907", "trade-in", ""),),
    ),  # late; the policy holds
    RmaSpec(
        "RMA-100006",
        "rental",
        "Rental return 14 days",
        2,
        "Acme Events Ltd",
        (("EL-TAB-10", 3, "", "end-of-lease", "Three tablets from the spring fair"),),
        channel=Channel.B2B,
        tracking="DPD15501234567",
    ),
    RmaSpec(
        "RMA-100007",
        "end-of-life",
        "Take-back",
        30,
        "Green Office Ltd",
        (("EL-LAP-14", 2, "", "end-of-life", ""), ("EL-CHG-65", 2, "", "end-of-life", "")),
    ),
    RmaSpec(
        "RMA-100008",
        "delivery-failure",
        "Return to sender",
        6,
        "Lena Fischer",
        (("AP-SNK-42", 1, "", "undeliverable", ""),),
        tracking="RR123456785GB",
    ),
    RmaSpec(
        "RMA-100009",
        "customer-return",
        "Standard 30 days",
        4,
        "Joe Bloggs",
        (
            ("AP-JKT-M", 1, "", "wrong-size", "Too small, ordering L"),
            ("AP-TEE-S", 2, "", "changed-mind", ""),
        ),
        tracking="H00P1A0012345678",
    ),
    RmaSpec(
        "RMA-100010",
        "customer-return",
        "Marketplace 14 days",
        20,
        "Ana Silva",
        (("AP-SNK-43", 1, "", "not-as-described", "Colour differs from photo"),),
        channel=Channel.MARKETPLACE,
    ),  # late; marketplace holds late returns
    RmaSpec(
        "RMA-100011",
        "customer-return",
        "Standard 30 days",
        35,
        "Dev Patel",
        (("EL-HDP-02", 1, "", "defect", "Left ear silent"),),
    ),  # late; accepted and flagged
    RmaSpec(
        "RMA-100012",
        "customer-return",
        "Standard 30 days",
        9,
        "Ruth Mensah",
        (("EL-HDP-02", 1, "", "changed-mind", ""),),
        status=ReturnAuthorization.Status.CANCELLED,
    ),
    RmaSpec(
        "RMA-100013",
        "warranty",
        "Warranty 1 year",
        60,
        "Kim Lee",
        (("EL-LAP-14", 1, "SN-LAP-1180", "warranty-claim", "Keyboard keys stick"),),
        status=ReturnAuthorization.Status.CLOSED,
    ),
    RmaSpec(
        "RMA-100014",
        "b2b-excess",
        "B2B excess 60 days",
        10,
        "Harbour Stores plc",
        (
            ("AP-TEE-S", 12, "", "excess-stock", "Season end"),
            ("AP-JKT-L", 6, "", "excess-stock", ""),
        ),
        channel=Channel.B2B,
    ),
]
NON_PRODUCT_CODES = {"POST", "D", "M", "BANK CHARGES", "ADJUST", "AMAZONFEE", "CRUK", "S"}
CSV_RMAS = 24


def _clean(description: str) -> str:
    return re.sub(r"\s+", " ", description).strip().capitalize()


def _users() -> list[tuple[str, str]]:
    logins = []
    for username, first, last, role in DEMO_USERS:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        user.set_password(DEMO_PASSWORD)
        user.is_staff = role == ADMIN
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        logins.append((username, role))
    return logins


def _reference_data() -> None:
    for code, (name, tz, stations) in SITES.items():
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": name, "time_zone": tz})
        for station_code in stations:
            kind = {"RCV": Station.Kind.RECEIVING, "INS": Station.Kind.INSPECTION}.get(
                station_code[:3], Station.Kind.BOTH
            )
            Station.objects.get_or_create(site=site, code=station_code, defaults={"kind": kind})
    for code, name, kind in PROGRAMS:
        Program.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    for code, name in REASONS:
        ReasonCode.objects.get_or_create(code=code, defaults={"name": name})
    for code, name in CATEGORIES:
        ProductCategory.objects.get_or_create(code=code, defaults={"name": name})
    for spec in POLICIES:
        policy, created = ReturnPolicy.objects.get_or_create(
            name=spec.name,
            defaults={
                "window_days": spec.window_days,
                "restocking_fee_percent": Decimal(spec.fee),
                "late_arrival": spec.late,
                "channels": list(spec.channels),
                "rma_required": spec.rma_required,
            },
        )
        if created:
            policy.programs.set(Program.objects.filter(code__in=spec.programs))
            policy.fee_waived_for.set(ReasonCode.objects.filter(code__in=spec.waived))


def _products() -> None:
    categories = {c.code: c for c in ProductCategory.objects.all()}
    for sku, gtin, name, category, value, serialised, grams in PRODUCTS:
        Product.objects.get_or_create(
            sku=sku,
            defaults={
                "gtin": gtin,
                "name": name,
                "category": categories[category],
                "unit_value": Decimal(value),
                "serialised": serialised,
                "weight_grams": grams,
            },
        )


def _create_rma(*, number, program, policy, issued_on, customer, email, channel, order, status):
    return ReturnAuthorization.objects.create(
        number=number,
        program=program,
        policy=policy,
        site=Site.objects.get(code="lon"),
        order_reference=order,
        customer_name=customer,
        customer_email=email,
        channel=channel,
        purchased_on=issued_on - timedelta(days=7),
        issued_on=issued_on,
        status=status,
    )


def _hand_made_rmas(today) -> None:
    programs = {p.code: p for p in Program.objects.all()}
    policies = {p.name: p for p in ReturnPolicy.objects.all()}
    reasons = {r.code: r for r in ReasonCode.objects.all()}
    products = {p.sku: p for p in Product.objects.all()}
    for spec in HAND_MADE_RMAS:
        if ReturnAuthorization.objects.filter(number=spec.number).exists():
            continue
        slug = spec.customer.lower().replace(" ", ".")
        rma = _create_rma(
            number=spec.number,
            program=programs[spec.program],
            policy=policies[spec.policy],
            issued_on=today - timedelta(days=spec.days_ago),
            customer=spec.customer,
            email=f"{slug}@example.com",
            channel=spec.channel,
            order=f"WEB-{spec.number[-5:]}",
            status=spec.status,
        )
        for line_no, (sku, quantity, serial, reason, comment) in enumerate(spec.lines, start=1):
            RMALine.objects.create(
                rma=rma,
                line_no=line_no,
                product=products[sku],
                quantity_expected=quantity,
                serial_number=serial,
                price_paid=products[sku].unit_value,
                reason=reasons[reason],
                customer_comment=comment,
            )
        if spec.tracking:
            TrackingNumber.objects.create(rma=rma, carrier="Carrier", number=spec.tracking)


def _returns_file_rmas(today) -> None:
    """Real return invoices of small size from the UCI file, as customer and B2B returns."""
    with RETURNS_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    invoices: dict[str, list[dict]] = {}
    for row in rows:
        invoices.setdefault(row["Invoice"], []).append(row)
    chosen = [
        (number, lines)
        for number, lines in invoices.items()
        if lines[0]["Customer ID"]
        and len(lines) <= 6
        and all(line["StockCode"] not in NON_PRODUCT_CODES for line in lines)
        and all(-int(line["Quantity"]) <= 24 for line in lines)
    ][:: max(1, len(invoices) // (CSV_RMAS * 2))][:CSV_RMAS]

    home = ProductCategory.objects.get(code="home")
    policies = {p.name: p for p in ReturnPolicy.objects.all()}
    programs = {p.code: p for p in Program.objects.all()}
    reasons = list(
        ReasonCode.objects.filter(
            code__in=["changed-mind", "defect", "damaged-in-transit", "not-as-described"]
        ).order_by("code")
    )
    for index, (invoice, lines) in enumerate(chosen):
        if ReturnAuthorization.objects.filter(number=invoice).exists():
            continue
        customer = lines[0]["Customer ID"].split(".")[0]
        wholesale = any(-int(line["Quantity"]) >= 12 for line in lines)
        rma = _create_rma(
            number=invoice,
            program=programs["b2b-excess" if wholesale else "customer-return"],
            policy=policies["B2B excess 60 days" if wholesale else "Standard 30 days"],
            # Spread over the last seven weeks: a few are past their window today.
            issued_on=today - timedelta(days=(index * 7) % 50),
            customer=f"Customer {customer} ({lines[0]['Country']})",
            email=f"customer{customer}@example.com",
            channel=Channel.B2B if wholesale else Channel.WEB,
            order=f"ORD-{customer}-{invoice[1:]}",
            status=ReturnAuthorization.Status.AUTHORISED,
        )
        for line_no, line in enumerate(lines, start=1):
            product, _ = Product.objects.get_or_create(
                sku=line["StockCode"],
                defaults={
                    "name": _clean(line["Description"]),
                    "category": home,
                    "unit_value": Decimal(line["Price"]),
                },
            )
            RMALine.objects.create(
                rma=rma,
                line_no=line_no,
                product=product,
                quantity_expected=-int(line["Quantity"]),
                price_paid=Decimal(line["Price"]),
                reason=reasons[(index + line_no) % len(reasons)],
            )


@transaction.atomic
def load_demo_data() -> list[tuple[str, str]]:
    """Create or complete the demo data; return the demo logins as (username, role)."""
    today = timezone.localdate()
    logins = _users()
    _reference_data()
    _products()
    _hand_made_rmas(today)
    _returns_file_rmas(today)
    return logins
