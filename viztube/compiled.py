"""Statements compiled once per process from ORM querysets, and their rows read as the
response's objects: the hot reads' way around the ORM's per-request cost.

Building a queryset and compiling it to SQL costs a busy endpoint more CPU than PostgreSQL's
answer and the rest of the request together (docs/benchmark.md, "Lean paths"), and a model
instance per row, then a DRF serializer per instance, cost as much again. So a hot path:

1. builds its queryset once per process, with a ``Parameter`` wherever a request's value goes
   (the caller, the video, the page), and compiles it to a ``Statement`` (``compiled``);
   the schema stays in the models and querysets (the visibility rule is the selectors' own
   ``Q``), and only glue the ORM cannot say (a ``LATERAL`` join, a CTE, a ``UNION``) is
   written by hand around compiled parts, with ``Slot``s for its own values;
2. binds the request's values to it by name and executes it (``Statement.rows``): one
   round trip, no queryset;
3. selects exactly the response's fields, formatted by PostgreSQL where Python would
   otherwise convert them (ids as text, ``text_id``; times in the API's format,
   ``ApiDateTime``), and turns each row into the response's dict (``Shape``), in the
   serializer's key order. Only what PostgreSQL cannot know is left to Python (media URLs,
   ``Converted``).

The DRF serializers stay the description (OpenAPI) and the reference: each lean path has a test
proving its output equal to the serializer's for the same rows; adding a field to a shape
without adding it to the serializer (or the reverse) fails that test.

PostgreSQL only (``to_char``, ``LATERAL``): the callers keep their ORM path for the local
SQLite run (``connection.vendor``). The values reach PostgreSQL inlined by psycopg's
client-side binding (Django's default), so the planner sees them as it sees an ORM query's.
"""

import functools
import operator
import re
import uuid

from django.db import connection
from django.db.models import CharField, Expression, F, Func, IntegerField, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.db.models.sql.subqueries import UpdateQuery
from psycopg.adapt import Transformer


class Slot:
    """Where the request's value ``name`` goes in a compiled statement, as a value of
    ``output_field`` (a model field; ``None``: a value already prepared for the database)."""

    __slots__ = ("literal", "name", "output_field")

    def __init__(self, name, output_field=None):
        self.name, self.output_field = name, output_field
        kind = output_field.get_internal_type() if output_field is not None else None
        self.literal = _LITERALS.get(kind, self._adapted_literal)

    def _adapted_literal(self, value):
        # What psycopg's client-side binding would have written for the value the ORM passes.
        if self.output_field is not None:
            value = self.output_field.get_db_prep_value(value, connection)
        return _psycopg_literal(value)

    def __repr__(self):
        return f"Slot({self.name!r})"


def _psycopg_literal(value):
    if value is None:
        return "NULL"
    connection.ensure_connection()
    return Transformer(connection.connection).as_literal(value).decode()


def _uuid_literal(value):
    if not (isinstance(value, str) and _CANONICAL_UUID.fullmatch(value)):
        value = str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))
    return f"'{value}'::uuid"


def _integer_literal(value):
    return str(operator.index(value))


def _datetime_literal(value):
    if value.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place in a statement: {value!r}")
    return f"'{value.isoformat()}'::timestamptz"


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The literals written without psycopg (the values of every hot path: ids, page numbers,
# times); each is what PostgreSQL reads as psycopg's own literal of the same value.
_LITERALS = {
    "UUIDField": _uuid_literal,
    "IntegerField": _integer_literal,
    "BigIntegerField": _integer_literal,
    "PositiveIntegerField": _integer_literal,
    "PositiveBigIntegerField": _integer_literal,
    "DateTimeField": _datetime_literal,
}
_PLACEHOLDER = re.compile(r"%(.)")
_LIMIT, _OFFSET = Slot("limit", IntegerField()), Slot("offset", IntegerField())


class Parameter(Expression):
    """A placeholder for the request's value ``name`` inside a queryset compiled once, used
    where a value would be: ``Video.objects.filter(pk=Parameter("video", UUIDField()))``."""

    def __init__(self, name, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [Slot(self.name, self.output_field)]


class Statement:
    """SQL and its parameters: fixed values and ``Slot``s, bound per request by name.

    Executed as text, as psycopg's client-side binding (Django's default) would send it: the
    fixed values are written into the SQL once, on the first execution, by psycopg itself;
    the slots' values per request, by their ``Slot.literal``. psycopg's own binding re-parses
    the placeholders and adapts every value on each execution, a third of a detail read's
    cost (and it stops caching the parse above 4 kB of SQL)."""

    __slots__ = ("_slots", "_template", "params", "sql")

    def __init__(self, sql, params=()):
        self.sql, self.params = sql, tuple(params)
        self._template = self._slots = None

    @classmethod
    def of(cls, queryset):
        """The statement ``queryset`` executes (its ``Parameter``s become ``Slot``s)."""
        sql, params = queryset.query.sql_with_params()
        return cls(sql, params)

    @classmethod
    def update(cls, queryset, **values):
        """The ``UPDATE`` that ``queryset.update(**values)`` executes (``auto_now`` fields left
        alone, as there)."""
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        compiler = query.get_compiler(queryset.db)
        compiler.pre_sql_setup()
        return cls(*compiler.as_sql())

    def _split(self):
        """The SQL as a ``%``-template of its slots by name, the fixed values written in; and
        the slots, one per name."""
        chunks, slots, params = [""], [], iter(self.params)
        for index, piece in enumerate(_PLACEHOLDER.split(self.sql)):
            if index % 2 == 0:
                chunks[-1] += piece
            elif piece == "%":
                chunks[-1] += "%"
            elif piece != "s":
                raise ValueError(f"unexpected placeholder %{piece} in {self.sql!r}")
            else:
                param = next(params, params)
                if param is params:
                    raise ValueError(f"fewer parameters than placeholders in {self.sql!r}")
                if isinstance(param, Slot):
                    slots.append(param)
                    chunks.append("")
                else:
                    chunks[-1] += _psycopg_literal(param)
        if next(params, self) is not self:
            raise ValueError(f"more parameters than placeholders in {self.sql!r}")
        template = chunks[0].replace("%", "%%")
        for slot, chunk in zip(slots, chunks[1:], strict=True):
            template += f"%({slot.name})s" + chunk.replace("%", "%%")
        self._slots = tuple({slot.name: slot for slot in slots}.values())
        self._template = template

    def text(self, values):
        """The SQL to execute with the request's ``values`` (a dict by slot name)."""
        if self._template is None:
            self._split()
        return self._template % {slot.name: slot.literal(values[slot.name]) for slot in self._slots}

    def rows(self, **values):
        """Execute with ``values``; every row, as tuples in the select's order."""
        with connection.cursor() as cursor:
            cursor.execute(self.text(values))
            return cursor.fetchall()

    def execute(self, **values):
        """Execute with ``values`` a statement that returns no rows; how many it changed."""
        with connection.cursor() as cursor:
            cursor.execute(self.text(values))
            return cursor.rowcount

    def __repr__(self):
        return f"Statement({self.sql!r}, {self.params!r})"


def paged(queryset):
    """``queryset``'s rows from the request's ``offset``, at most ``limit`` of them (the slots
    of those names): an expression for ``pk__in=`` (``paged(ids)``), as a page is read by id
    first (viztube.api.pagination's deferred join: the index holding the sort key and the id
    skips the rows before the page without touching the table)."""
    sql, params = queryset.query.sql_with_params()
    return RawSQL(  # noqa: S611 (compiled SQL and slots)
        f"{sql} LIMIT %s OFFSET %s", (*params, _LIMIT, _OFFSET)
    )


def lean():
    """Whether the lean paths run on this database (PostgreSQL); the local SQLite run takes
    the ORM and serializer path instead."""
    return connection.vendor == "postgresql"


def compiled(builder):
    """Decorate a function returning a queryset (or a ``Statement``) so that it is built and
    compiled once per process and per arguments (keep them few: a flag, a kind); it then
    returns the ``Statement``."""

    @functools.cache
    def build(*args):
        built = builder(*args)
        return built if isinstance(built, Statement) else Statement.of(built)

    return functools.wraps(builder)(build)


# --- Formatting by PostgreSQL ------------------------------------------------------------------

# viztube.api.renderers writes a datetime as ISO 8601 in UTC to the millisecond, truncated (not
# rounded, as ``isoformat(timespec="milliseconds")``), with a ``Z``; to_char's ``MS`` truncates
# too, and ``AT TIME ZONE 'UTC'`` makes it independent of the session's time zone.
API_DATETIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


class ApiDateTime(Func):
    """A ``timestamptz`` as the API writes it (text; NULL stays NULL)."""

    template = f"to_char(%(expressions)s AT TIME ZONE 'UTC', '{API_DATETIME_FORMAT}')"
    output_field = CharField()


def text_id(path):
    """A uuid column as its canonical text (lower-case, hyphenated: ``str(uuid)``)."""
    return Cast(path, TextField())


# --- Rows as response objects ------------------------------------------------------------------


class Converted:
    """A field that Python finishes: ``function(value of expression)`` (a media URL from the
    stored name, for instance)."""

    __slots__ = ("expression", "function")

    def __init__(self, expression, function):
        self.expression, self.function = expression, function


class Shape:
    """A response object: its keys in response order, each with where its value comes from:
    an expression or a field path (``"owner__username"``), a ``Converted`` one, or a nested
    ``Shape``. ``select(queryset)`` selects exactly those columns (nested ones in place);
    ``read(row, start=0)`` turns a row of them (from column ``start``) into the dict.

    Shapes are declared once at import time and extended with ``extend`` (a list item's shape
    plus a detail's counters), so a field is declared in one place for every path that shows it.
    """

    def __init__(self, **fields):
        self.fields = fields
        self.width = sum(
            value.width if isinstance(value, Shape) else 1 for value in fields.values()
        )
        self.read = _reader(self)

    def extend(self, **fields):
        """This shape with ``fields`` added after its own, or replacing the ones of the same
        name in place (a nested object shown with more fields)."""
        return Shape(**{**self.fields, **fields})

    def expressions(self):
        """The shape's columns, in ``read``'s order."""
        out = []
        for value in self.fields.values():
            if isinstance(value, Shape):
                out += value.expressions()
            elif isinstance(value, Converted):
                out.append(_expression(value.expression))
            else:
                out.append(_expression(value))
        return out

    def select(self, queryset, **extra):
        """``queryset`` selecting the shape's columns, then the ``extra`` expressions under
        their own names (read after ``width`` columns, for the statement's own use: a sort
        position, a cursor's key)."""
        columns = {f"shape_{index}": column for index, column in enumerate(self.expressions())}
        columns.update((name, _expression(value)) for name, value in extra.items())
        return queryset.annotate(**columns).values_list(*columns)


def _reader(shape):
    """``shape.read(row, start=0)``: the response dict of ``row``'s columns from ``start``
    (those ``select`` chose). Generated once per shape as one dict display, as ``dataclasses``
    and ``collections.namedtuple`` generate their methods: it runs for every object of every
    response, and a loop over the fields costs several times as much."""
    functions = {}

    def display(part, index):
        items = []
        for key, value in part.fields.items():
            if isinstance(value, Shape):
                items.append(f"{key!r}: {display(value, index)}")
                index += value.width
                continue
            if isinstance(value, Converted):
                name = f"convert_{len(functions)}"
                functions[name] = value.function
                items.append(f"{key!r}: {name}(r[{index}])")
            else:
                items.append(f"{key!r}: r[{index}]")
            index += 1
        return "{" + ", ".join(items) + "}"

    source = (
        "def read(row, start=0):\n"
        f"    r = row[start:start + {shape.width}] if start else row\n"
        f"    return {display(shape, 0)}\n"
    )
    namespace = dict(functions)
    exec(source, namespace)  # noqa: S102 (keys are repr()s of identifiers; no outside input)
    return namespace["read"]


def _expression(value):
    return F(value) if isinstance(value, str) else value
