"""Customer e-mails become an outbox the worker sends from, instead of the clerk's request."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from returns_desk.roles import grant


def grant_admins(apps, schema_editor):
    # Admins see every mail; "change" is what the admin's "Send again" action needs.
    grant(
        apps,
        {"admin": ["returns_desk.view_customeremail", "returns_desk.change_customeremail"]},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("returns_desk", "0016_event_keys_indexed_by_their_timelines"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerEmail",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("parcel_received", "Parcel received"),
                            ("refund_released", "Refund released"),
                        ],
                        max_length=20,
                    ),
                ),
                ("recipient", models.EmailField(max_length=254)),
                ("language", models.CharField(max_length=10)),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("leased_until", models.DateTimeField(blank=True, null=True)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="returns_desk.itemevent",
                    ),
                ),
                (
                    "rma",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="customer_emails",
                        to="returns_desk.returnauthorization",
                    ),
                ),
            ],
            options={
                "ordering": ["-pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["next_attempt_at", "id"],
                        name="customer_email_due",
                    )
                ],
            },
        ),
        migrations.RunPython(grant_admins, migrations.RunPython.noop),
    ]
