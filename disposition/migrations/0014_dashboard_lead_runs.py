"""Stored dashboard roll-ups keep lead times as sorted runs of packed seconds now, marked with
their format (dashboard.FORMAT); they held a JSON list of seconds.

The old rows are dropped rather than converted: a roll-up is made again from the units,
decisions and events the first time its day or hour is shown, or ahead of that by
`manage.py rollup_dashboard`. One written by the old code while this migration runs is never
read: the new code deletes and remakes any row not in its format.
"""

from django.db import migrations


def drop_rollups(apps, schema_editor):
    apps.get_model("disposition", "DashboardDay").objects.all().delete()
    apps.get_model("disposition", "DashboardHour").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("disposition", "0013_dashboard_lead_seconds")]

    operations = [migrations.RunPython(drop_rollups, migrations.RunPython.noop)]
