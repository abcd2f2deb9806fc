"""ItemEvent's foreign keys lose their one-column indexes: event_item_timeline,
event_parcel_timeline and event_station_recent lead with the same columns.

Only the indexes are dropped. Django's own AlterField would also drop and re-add each foreign
key, and PostgreSQL would check every event against it again (millions of rows) while holding
the table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "item_id": "returns_desk_itemevent_item_id_0de4caf6",
    "parcel_id": "returns_desk_itemevent_parcel_id_31f37a44",
    "station_id": "returns_desk_itemevent_station_id_6f3915e4",
}


def foreign_key(to, related_name):
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("returns_desk", "0015_unit_queue_station_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "returns_desk_itemevent" ("{column}")',
                )
                for column, index in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="itemevent",
                    name="item",
                    field=foreign_key("returns_desk.returnitem", "events"),
                ),
                migrations.AlterField(
                    model_name="itemevent",
                    name="parcel",
                    field=foreign_key("returns_desk.parcel", "events"),
                ),
                migrations.AlterField(
                    model_name="itemevent",
                    name="station",
                    field=foreign_key("returns_desk.station", "+"),
                ),
            ],
        )
    ]
