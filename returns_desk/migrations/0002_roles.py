from django.db import migrations

from returns_desk.roles import grant

CONFIG_MODELS = [
    "site", "station", "program", "reasoncode", "productcategory", "product", "returnpolicy",
    "returnauthorization", "rmaline", "trackingnumber",
]
RECORD_MODELS = ["parcel", "returnitem", "itemevent", "receivingexception"]


def create_roles(apps, schema_editor):
    clerk = ["returns_desk.receive_returns"]
    supervisor = [*clerk, "returns_desk.supervise_returns"]
    admin = [
        *supervisor,
        *(f"returns_desk.{verb}_{model}" for model in CONFIG_MODELS for verb in ("add", "change", "delete", "view")),
        *(f"returns_desk.view_{model}" for model in RECORD_MODELS),
        *(f"auth.{verb}_{model}" for model in ("user", "group") for verb in ("add", "change", "view")),
    ]
    grant(apps, {"clerk": clerk, "supervisor": supervisor, "admin": admin})


class Migration(migrations.Migration):
    dependencies = [
        ("returns_desk", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
