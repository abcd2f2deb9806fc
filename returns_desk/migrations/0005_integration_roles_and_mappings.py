from django.db import migrations

from returns_desk.roles import grant

FBA_REASONS = {
    "DEFECTIVE": "defect",
    "QUALITY_UNACCEPTABLE": "defect",
    "MISSING_PARTS": "defect",
    "DAMAGED_BY_CARRIER": "damaged-in-transit",
    "DAMAGED_BY_FC": "damaged-in-transit",
    "NOT_AS_DESCRIBED": "not-as-described",
    "SWITCHEROO": "not-as-described",
    "APPAREL_TOO_SMALL": "wrong-size",
    "APPAREL_TOO_LARGE": "wrong-size",
    "UNWANTED_ITEM": "changed-mind",
    "ORDERED_WRONG_ITEM": "changed-mind",
    "FOUND_BETTER_PRICE": "changed-mind",
    "APPAREL_STYLE": "changed-mind",
    "UNDELIVERABLE_REFUSED": "undeliverable",
    "UNDELIVERABLE_UNKNOWN": "undeliverable",
    "NEVER_ARRIVED": "undeliverable",
    "PART_NOT_COMPATIBLE": "not-as-described",
    "NO_REASON_GIVEN": "unspecified",
    "MISSED_ESTIMATED_DELIVERY": "unspecified",
    "UNAUTHORIZED_PURCHASE": "unspecified",
    "EXTRA_ITEM": "unspecified",
}

MAPPINGS = [
    {
        "name": "Amazon FBA customer returns report",
        "description": "Seller Central > Reports > Fulfillment > Customer returns (tab- or "
        "comma-separated). One RMA per order, numbered FBA-<order-id>; the license plate "
        "number becomes a tracking number, so receiving can scan Amazon's label.",
        "columns": {
            "rma_number": "order-id",
            "order_reference": "order-id",
            "issued_on": "return-date",
            "sku": "sku",
            "product_name": "product-name",
            "quantity": "quantity",
            "reason": "reason",
            "tracking_number": "license-plate-number",
            "customer_comment": "customer-comments",
        },
        "rma_number_prefix": "FBA-",
        "date_format": "%Y-%m-%dT%H:%M:%S%z",
        "default_channel": "marketplace",
        "default_reason": "unspecified",
        "reason_map": FBA_REASONS,
        "create_unknown_products": True,
    },
    {
        "name": "UCI Online Retail II (cancelled invoices)",
        "description": "The UCI Online Retail II export: one RMA per C invoice, quantities "
        "negative, customer numbers as floats; postage, fees and adjustments are reported, "
        "not imported.",
        "columns": {
            "rma_number": "Invoice",
            "sku": "StockCode",
            "product_name": "Description",
            "quantity": "Quantity",
            "issued_on": "InvoiceDate",
            "price_paid": "Price",
            "customer_name": "Customer ID",
        },
        "negative_quantities": True,
        "date_format": "%Y-%m-%d %H:%M:%S",
        "default_channel": "web",
        "default_reason": "unspecified",
        "non_product_codes": [
            "POST", "DOT", "C2", "D", "M", "BANK CHARGES", "ADJUST", "AMAZONFEE", "CRUK", "S",
        ],
        "create_unknown_products": True,
    },
]


def forwards(apps, schema_editor):
    ImportMapping = apps.get_model("returns_desk", "ImportMapping")
    ReasonCode = apps.get_model("returns_desk", "ReasonCode")
    # Sources that give no reason (UCI) or one we cannot map get this one, not a made-up reason.
    ReasonCode.objects.get_or_create(
        code="unspecified",
        defaults={"name": "Not stated", "description": "The source system gave no reason."},
    )
    for mapping in MAPPINGS:
        ImportMapping.objects.update_or_create(name=mapping["name"], defaults=mapping)
    admin = [
        f"returns_desk.{verb}_{model}"
        for model in ("apikey", "webhookendpoint", "importmapping")
        for verb in ("add", "change", "delete", "view")
    ]
    admin += [
        "returns_desk.view_outboxevent",
        "returns_desk.view_webhookdelivery",
        "returns_desk.change_webhookdelivery",
    ]
    grant(apps, {"admin": admin})


class Migration(migrations.Migration):
    dependencies = [("returns_desk", "0004_integration")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
