from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_each_lots_units(apps, schema_editor):
    Lot = apps.get_model("disposition", "Lot")
    Disposition = apps.get_model("disposition", "Disposition")
    # Only decisions in force are in a lot (a retired one leaves it): every row with the lot.
    in_lot = (
        Disposition.objects.filter(lot=OuterRef("pk"))
        .order_by()
        .values("lot")
        .annotate(n=Count("*"))
        .values("n")
    )
    Lot.objects.update(units=Coalesce(Subquery(in_lot), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("disposition", "0015_decision_station_indexed_by_recent"),
    ]

    operations = [
        migrations.AddField(
            model_name="lot",
            name="units",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_each_lots_units, migrations.RunPython.noop),
    ]
