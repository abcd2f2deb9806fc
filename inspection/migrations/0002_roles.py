from django.db import migrations

from returns_desk.roles import grant

CONFIG_MODELS = ["gradescale", "grade", "gradingcriterion"]


def grant_inspection(apps, schema_editor):
    clerk = ["inspection.inspect_returns"]
    admin = [
        *clerk,
        *(f"inspection.{verb}_{model}" for model in CONFIG_MODELS for verb in ("add", "change", "delete", "view")),
        # The checklist proxy edits a category's questions; categories are added elsewhere.
        "inspection.change_checklistcategory",
        "inspection.view_checklistcategory",
        "inspection.view_inspection",
    ]
    grant(apps, {"clerk": clerk, "supervisor": clerk, "admin": admin})


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0001_initial"),
        ("returns_desk", "0002_roles"),
    ]
    operations = [migrations.RunPython(grant_inspection, migrations.RunPython.noop)]
