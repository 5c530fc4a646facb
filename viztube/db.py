"""What the database said, in terms of the models: the same answer on PostgreSQL and SQLite;
and the row locks that writers take in a stated order."""

import re

_SQLITE_UNIQUE_COLUMNS = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)$")
_SQLITE_UNIQUE_INDEX = re.compile(r"UNIQUE constraint failed: index '(?P<name>\w+)'$")


def violated_unique_constraint(exc, model):
    """The name of the ``UniqueConstraint`` of ``model`` that the ``IntegrityError`` ``exc``
    violated, or ``None`` (another constraint, another model, another kind of error).

    PostgreSQL names the constraint (psycopg's diagnostics); SQLite names the columns, or the
    index for an expression, so the constraint is found by its columns there.
    """
    names = {constraint.name for constraint in model._meta.constraints}
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        name = getattr(diag, "constraint_name", None)
        return name if name in names else None
    message = str(exc).strip()
    if match := _SQLITE_UNIQUE_INDEX.match(message):
        name = match["name"]
        return name if name in names else None
    if match := _SQLITE_UNIQUE_COLUMNS.match(message):
        table = model._meta.db_table
        columns = set()
        for qualified in match["columns"].split(","):
            owner, _, column = qualified.strip().rpartition(".")
            if owner != table:
                return None
            columns.add(column)
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if fields and {model._meta.get_field(f).column for f in fields} == columns:
                return constraint.name
    return None


def lock_rows(model, ids):
    """``FOR NO KEY UPDATE`` on the rows of ``model`` with these primary keys, in primary-key
    order (two callers locking overlapping sets cannot deadlock on them); returns the primary
    keys locked, which leaves out rows that were deleted meanwhile. Inside a transaction."""
    return list(
        model.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )
