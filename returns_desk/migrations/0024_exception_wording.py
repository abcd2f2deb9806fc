from django.db import migrations, models

# An exception raised before its wording was kept reads as stored: its message as the note,
# with no sentence. One UPDATE, in the database's own JSON function.
KEEP_STORED = {
    "postgresql": "UPDATE returns_desk_receivingexception"
    " SET wording = jsonb_build_object('note', message)",
    "sqlite": "UPDATE returns_desk_receivingexception SET wording = json_object('note', message)",
}


def keep_stored_messages(apps, schema_editor):
    schema_editor.execute(KEEP_STORED[schema_editor.connection.vendor])


class Migration(migrations.Migration):
    dependencies = [
        ("returns_desk", "0023_rma_cancellation"),
    ]

    operations = [
        migrations.AddField(
            model_name="receivingexception",
            name="wording",
            field=models.JSONField(
                blank=True, default=dict, editable=False, verbose_name="wording"
            ),
        ),
        migrations.RunPython(keep_stored_messages, migrations.RunPython.noop, elidable=True),
    ]
