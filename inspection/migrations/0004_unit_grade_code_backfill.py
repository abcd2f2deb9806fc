from django.db import migrations

# Here, not beside the column in returns_desk: the core knows nothing of inspections. One
# UPDATE ... FROM (PostgreSQL, and SQLite from 3.33), only units whose current inspection is
# graded; every other unit keeps the blank the column was added with.
COPY_GRADE = """
    UPDATE returns_desk_returnitem SET grade_code = inspection.grade_code
    FROM inspection_inspection AS inspection
    WHERE inspection.item_id = returns_desk_returnitem.id
    AND NOT inspection.superseded AND inspection.grade_code <> ''
"""


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0003_queue_and_dashboard_indexes"),
        ("returns_desk", "0013_unit_grade_code"),
    ]

    operations = [migrations.RunSQL(COPY_GRADE, reverse_sql=migrations.RunSQL.noop)]
