"""Stored dashboard roll-ups keep lead times in whole seconds now (they held float hours).

The old rows are dropped rather than converted: a roll-up is made again from the units,
decisions and events the first time its day or hour is shown, or ahead of that by
`manage.py rollup_dashboard`.
"""

from django.db import migrations


def drop_rollups(apps, schema_editor):
    apps.get_model("disposition", "DashboardDay").objects.all().delete()
    apps.get_model("disposition", "DashboardHour").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("disposition", "0012_unit_station")]

    operations = [migrations.RunPython(drop_rollups, migrations.RunPython.noop)]
