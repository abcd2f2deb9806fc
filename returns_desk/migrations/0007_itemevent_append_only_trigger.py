"""On PostgreSQL the database itself refuses UPDATE and DELETE of history rows.

The model guard stops the ORM's save() and delete(); a queryset update, raw SQL or a tool
connecting directly would still get through without this trigger. TRUNCATE is a statement,
not a row change, so the test runner's flush still empties the table.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION returns_desk_itemevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'returns_desk_itemevent is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER itemevent_append_only
    BEFORE UPDATE OR DELETE ON returns_desk_itemevent
    FOR EACH ROW EXECUTE FUNCTION returns_desk_itemevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS itemevent_append_only ON returns_desk_itemevent;
DROP FUNCTION IF EXISTS returns_desk_itemevent_append_only();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("returns_desk", "0006_supervisor_queues")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
