"""The notification's foreign keys also cascade in PostgreSQL itself (``ON DELETE CASCADE``).

Django's ``CASCADE`` deletes the notifications it finds before it deletes their subject; a
notification delivered in between (a reply's notification written while its thread is being
deleted) would still point at the deleted row when the deletion commits, and the deletion would
fail on the foreign key. With the database's cascade, the subject's ``DELETE`` removes every
notification committed by then, and a delivery still in flight fails on its own foreign key
check instead (its task is retried and then finds nothing to deliver). The constraints keep
their names and stay deferred, as Django made them. Nothing changes on SQLite, which has no
concurrent writers.
"""

from django.db import migrations

from viztube.migration_operations import postgres_sql


def _recreate(on_delete):
    return f"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.conname, a.attname, cf.relname AS ref_table, af.attname AS ref_column
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_class cf ON cf.oid = c.confrelid
        JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
        WHERE c.conrelid = 'notifications_notification'::regclass AND c.contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE notifications_notification DROP CONSTRAINT %I', r.conname);
        EXECUTE format(
            'ALTER TABLE notifications_notification ADD CONSTRAINT %I FOREIGN KEY (%I) '
            'REFERENCES %I (%I) {on_delete} DEFERRABLE INITIALLY DEFERRED',
            r.conname, r.attname, r.ref_table, r.ref_column
        );
    END LOOP;
END
$$;
"""  # noqa: S608 (on_delete is one of the two constants below)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [postgres_sql(_recreate("ON DELETE CASCADE"), _recreate(""))]
