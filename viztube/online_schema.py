"""Migration operations that build indexes without blocking a live site.

On PostgreSQL they build with ``CONCURRENTLY``: reads and writes of the table go on while the
index is built (the build waits for transactions already running on the table, then scans it
twice). Such an operation cannot run inside a transaction, so the migration using it says
``atomic = False``. On any other database (SQLite, local runs, where nobody is served while
migrating) they are the plain operation.

A concurrent build that fails (a deadlock, a cancelled statement) leaves an INVALID index behind:
drop it (``DROP INDEX CONCURRENTLY <name>``) before running the migration again.
"""

from django.contrib.postgres import operations as postgres_operations
from django.db.migrations.operations import AddConstraint, AddIndex


def _is_postgres(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


class AddIndexConcurrently(postgres_operations.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, ``AddIndex`` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddUniqueConstraintConcurrently(postgres_operations.NotInTransactionMixin, AddConstraint):
    """A conditional ``UniqueConstraint``, which PostgreSQL keeps as a unique partial index,
    built with ``CREATE UNIQUE INDEX CONCURRENTLY``; ``AddConstraint`` elsewhere. (Django
    builds such a constraint with a plain ``CREATE UNIQUE INDEX``, which blocks every write of
    the table while it scans it.)"""

    atomic = False

    def __init__(self, model_name, constraint):
        if constraint.condition is None:
            raise ValueError("Only a conditional UniqueConstraint is built as a unique index.")
        super().__init__(model_name, constraint)

    def describe(self):
        return f"Concurrently create unique constraint {self.constraint.name} on {self.model_name}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _is_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            statement = self.constraint.create_sql(model, schema_editor)
            statement.template = statement.template.replace(
                "CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1
            )
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _is_postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            name = schema_editor.quote_name(self.constraint.name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
