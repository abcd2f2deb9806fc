from django.db import migrations

from returns_desk.roles import grant

CONFIG_MODELS = ["partner", "dispositionrule", "defaultdestination", "dispositionsettings"]
RECORD_MODELS = ["disposition", "refundinstruction", "lot", "repairorder"]


def grant_disposition(apps, schema_editor):
    clerk = ["disposition.decide_disposition"]
    admin = [
        *clerk,
        *(f"disposition.{verb}_{model}" for model in CONFIG_MODELS for verb in ("add", "change", "delete", "view")),
        *(f"disposition.view_{model}" for model in RECORD_MODELS),
        # Lots and work orders carry notes, weights and costs an admin may correct.
        "disposition.change_lot",
        "disposition.change_repairorder",
    ]
    grant(apps, {"clerk": clerk, "supervisor": clerk, "admin": admin})
    apps.get_model("disposition", "DispositionSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("disposition", "0001_initial"),
        ("returns_desk", "0002_roles"),
    ]
    operations = [migrations.RunPython(grant_disposition, migrations.RunPython.noop)]
