"""Beat assignments move here from the reports app: copy the rows across.

Runs after the officers table exists and before reports drops its own table
(reports.0003 depends on this migration). Row ids are not kept: nothing refers to an
assignment by id, and fresh ids keep PostgreSQL's sequence right.
"""

from django.db import migrations

FIELDS = ("community_id", "beat_id", "officer_id", "started_on", "ended_on")


def forwards(apps, schema_editor):
    try:
        Old = apps.get_model("reports", "BeatAssignment")
    except LookupError:
        return
    New = apps.get_model("officers", "BeatAssignment")
    New.objects.bulk_create(
        New(**{f: getattr(row, f) for f in FIELDS}) for row in Old.objects.order_by("pk")
    )


def backwards(apps, schema_editor):
    try:
        Old = apps.get_model("reports", "BeatAssignment")
    except LookupError:
        return
    New = apps.get_model("officers", "BeatAssignment")
    Old.objects.bulk_create(
        Old(**{f: getattr(row, f) for f in FIELDS}) for row in New.objects.order_by("pk")
    )
    # Moved back, not copied: migrating forward again must not duplicate them.
    New.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("officers", "0001_initial"),
        ("reports", "0002_cache_table"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
