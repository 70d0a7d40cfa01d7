"""Create the database cache table that holds report rate-limit counters.

The default cache is a database table (see CACHES in settings) so that limits hold
across processes with no extra service; creating it here means `migrate` is enough.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
