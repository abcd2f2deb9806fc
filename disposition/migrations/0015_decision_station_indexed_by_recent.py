"""A decision's station loses its one-column index: disposition_station_recent leads with it.

Only the index is dropped (see returns_desk 0016): AlterField would drop and re-add the foreign
key, and PostgreSQL would check every decision against it again.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "disposition_disposition_station_id_02d8f438"
CREATE = f'CREATE INDEX "{INDEX}" ON "disposition_disposition" ("station_id")'


class Migration(migrations.Migration):
    dependencies = [
        ("disposition", "0014_dashboard_lead_runs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=CREATE,
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="disposition",
                    name="station",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="returns_desk.station",
                    ),
                ),
            ],
        )
    ]
