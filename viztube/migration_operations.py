"""Migration operations that keep a live PostgreSQL database serving while they run.

Django's own operations take an ``ACCESS EXCLUSIVE`` lock for as long as they work: building an
index or checking a constraint over a big table would stop every read and write of it. These do
the same work with PostgreSQL's online forms and fall back to the plain operation on SQLite (the
local run path, where nothing else is serving). ``django.contrib.postgres.operations`` has the
online forms but fails on SQLite, hence these thin wrappers. A migration using the index
operations (the unique one too) must set ``atomic = False``.
"""

from django.contrib.postgres import operations as postgres
from django.db import migrations


def _is_postgres(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY``: a ``SHARE UPDATE EXCLUSIVE`` lock, so reads and writes go on
    while the index builds."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class RemoveIndexConcurrently(postgres.RemoveIndexConcurrently):
    """``DROP INDEX CONCURRENTLY``: waits for the queries using the index, blocks none."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class AddCheckConstraintOnline(migrations.AddConstraint):
    """A CHECK constraint added ``NOT VALID`` (a brief lock; new rows are checked from then on),
    then validated, which reads the table under ``SHARE UPDATE EXCLUSIVE`` (reads and writes go
    on)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _is_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        table = schema_editor.quote_name(model._meta.db_table)
        name = schema_editor.quote_name(self.constraint.name)
        schema_editor.execute(f"{self.constraint.create_sql(model, schema_editor)} NOT VALID")
        schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


class AddUniqueConstraintConcurrently(postgres.NotInTransactionMixin, migrations.AddConstraint):
    """A conditional ``UniqueConstraint`` (PostgreSQL keeps it as a unique partial index) built
    with ``CREATE UNIQUE INDEX CONCURRENTLY``: a ``SHARE UPDATE EXCLUSIVE`` lock, so reads and
    writes go on while it builds. Django builds one with a plain ``CREATE UNIQUE INDEX``, which
    stops every write of the table while it reads it."""

    atomic = False

    def __init__(self, model_name, constraint):
        if getattr(constraint, "condition", None) is None:
            raise ValueError("Only a conditional UniqueConstraint is a unique index of its own.")
        super().__init__(model_name, constraint)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _is_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        statement = self.constraint.create_sql(model, schema_editor)
        statement.template = statement.template.replace(
            "CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1
        )
        schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _is_postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        name = schema_editor.quote_name(self.constraint.name)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def postgres_sql(forward, backward):
    """``RunSQL`` on PostgreSQL only (triggers and other PostgreSQL-only objects); nothing on
    SQLite."""

    def run(sql):
        def apply(apps, schema_editor):
            if _is_postgres(schema_editor):
                schema_editor.execute(sql, params=None)

        return apply

    return migrations.RunPython(run(forward), run(backward))


def with_lock_timeout(*operations, timeout="5s"):
    """``operations``, every lock they request waited for at most ``timeout`` on PostgreSQL:
    behind a long transaction the migration fails (run it again) rather than queueing every
    request behind it. For a non-atomic migration, where the setting lasts for the session: it
    is reset after the last operation (and set again around them when migrating backwards)."""
    set_timeout, reset = f"SET lock_timeout = '{timeout}'", "RESET lock_timeout"
    return [postgres_sql(set_timeout, reset), *operations, postgres_sql(reset, set_timeout)]
