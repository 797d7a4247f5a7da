"""Fast bulk writes for imports: COPY on PostgreSQL, executemany on SQLite.

Ids are reserved first so that rows referring to each other (an invoice and its ledger
entry) can be written in one pass without reading anything back.
"""

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

COPY_BLOCK_ROWS = 10_000  # rows per write to the server: ~1 MB, one round of buffering
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def copy_text(value) -> str:
    r"""Render one value in PostgreSQL's COPY text format.

    >>> print(" | ".join(copy_text(v) for v in (None, 12, True, "a\tb", date(2026, 1, 2))))
    \N | 12 | t | a\tb | 2026-01-02
    """
    kind = type(value)
    if kind is str:
        if _COPY_SPECIAL.search(value):
            return _COPY_SPECIAL.sub(lambda m: _COPY_ESCAPES[m.group()], value)
        return value
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, str):  # TextChoices members and other str subclasses
        return copy_text(str.__str__(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return str(value)
    raise TypeError(f"no COPY text form for {type(value).__name__}")


def _copy_line(row, dates: dict) -> str:
    """One row as a COPY text line; dates repeat, so their text is looked up once."""
    out = []
    for value in row:
        kind = type(value)
        if kind is str and not _COPY_SPECIAL.search(value):
            out.append(value)
        elif kind is int:
            out.append(str(value))
        elif kind is date or kind is datetime:
            text = dates.get(value)
            if text is None:
                text = dates[value] = value.isoformat()
            out.append(text)
        else:
            out.append(copy_text(value))
    return "\t".join(out)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys for ``model``; call inside the writing transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the import holds the database's write lock, so MAX(id) cannot move under us.
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def _converters(model: type[models.Model], fields: Sequence[str]):
    """Per-column functions that turn Python values into database values, where needed."""
    out = []
    for name in fields:
        field = model._meta.get_field(name)
        if isinstance(field, models.JSONField):
            if connection.vendor == "postgresql":  # COPY takes JSON as its text
                out.append(lambda v, f=field: json.dumps(v, cls=f.encoder or DjangoJSONEncoder))
            else:
                out.append(lambda v, f=field: f.get_db_prep_value(v, connection, prepared=False))
        elif isinstance(field, (models.DateTimeField, models.DateField)):
            # psycopg sends dates and aware datetimes as they are; SQLite needs text.
            out.append(None if connection.vendor == "postgresql" else _cached(field))
        else:
            out.append(None)
    return out


def _cached(field: models.Field):
    """Convert date values once each: an import repeats a few hundred dates a million times."""
    cache: dict = {}

    def convert(value):
        try:
            return cache[value]
        except KeyError:
            converted = cache[value] = field.get_db_prep_value(value, connection, prepared=False)
            return converted

    return convert


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert rows (tuples in ``fields`` order, db column values) and return how many."""
    table = model._meta.db_table
    columns = [model._meta.get_field(name).column for name in fields]
    converters = _converters(model, fields)
    if any(converters):
        rows = (
            tuple(conv(v) if conv else v for conv, v in zip(converters, row, strict=True))
            for row in rows
        )
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                block, dates = [], {}
                for row in rows:
                    block.append(_copy_line(row, dates))
                    if len(block) >= COPY_BLOCK_ROWS:
                        copy.write("\n".join(block) + "\n")
                        count += len(block)
                        block = []
                if block:
                    copy.write("\n".join(block) + "\n")
                    count += len(block)
        else:
            rows = list(rows)
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)  # noqa: S608
            count = len(rows)
    return count


def instances_insert(model: type[models.Model], objs: Sequence[models.Model]) -> int:
    """Insert unsaved model instances without reading ids back (COPY on PostgreSQL).

    For rows nothing else in the same write refers to by id: events, decisions, messages.
    ``auto_now``/``auto_now_add`` fields are filled in as ``save()`` would.
    """
    if not objs:
        return 0
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    stamped = [
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    rows = []
    for obj in objs:
        for name in stamped:
            if getattr(obj, name) is None or name == "updated_at":
                setattr(obj, name, now)
        rows.append(tuple(getattr(obj, f.attname) for f in fields))
    return insert_rows(model, [f.name for f in fields], rows)


def rows_update(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Set ``fields`` on many rows by id: ``rows`` are (id, value, ...) tuples.

    One prepared statement run for every row (a pipeline on PostgreSQL), where Django's
    ``bulk_update`` would build one large CASE expression per batch in Python.
    """
    if not rows:
        return 0
    table = model._meta.db_table
    columns = [model._meta.get_field(name).column for name in fields]
    converters = _converters(model, fields)
    params = [
        (*(conv(v) if conv else v for conv, v in zip(converters, row[1:], strict=True)), row[0])
        for row in rows
    ]
    sets = ", ".join(f'"{c}" = %s' for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f'UPDATE "{table}" SET {sets} WHERE id = %s', params)  # noqa: S608
    return len(rows)
