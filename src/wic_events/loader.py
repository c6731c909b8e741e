"""Reading the built database: its path, a read-only connection, and typed records.

This module reads only the compiled SQLite file; it does not import the build
machinery, so ``import wic_events`` stays light and works from an installed wheel.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from .models import MODELS_BY_TABLE, Record

DATABASE_FILE = "wic_events.db"
DATABASE_ENV = "WIC_EVENTS_DB"

RecordType = TypeVar("RecordType", bound=Record)


def db_path() -> Path:
    """Path of the database: $WIC_EVENTS_DB when set, else the file inside the installed package."""
    override = os.environ.get(DATABASE_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / DATABASE_FILE


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """A read-only connection to the database, with rows as ``sqlite3.Row``."""
    path = Path(path) if path is not None else db_path()
    if not path.is_file():
        raise FileNotFoundError(f"no wic-events database at {path}; build it with 'wic-events build'")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def records(model: type[RecordType], connection: sqlite3.Connection | None = None, **filters: Any) -> list[RecordType]:
    """Rows of ``model``'s table as model instances, where each column equals its filter value.

    >>> [person.name for person in records(Person, id="xi-jinping")]
    ['Xi Jinping']
    """
    return list(iter_records(model, connection, **filters))


def iter_records(model: type[RecordType], connection: sqlite3.Connection | None = None, **filters: Any) -> Iterator[RecordType]:
    """Like ``records``, one at a time, for tables too large to hold in memory."""
    fields = model.model_fields
    unknown = sorted(set(filters) - set(fields))
    if unknown:
        raise TypeError(f"{model.table} has no column(s) {', '.join(unknown)}; filter on: {', '.join(fields)}")
    own_connection = connection is None
    connection = connection or connect()
    try:
        where = " AND ".join(f'"{name}" IS ?' for name in filters) or "1"
        order = ", ".join(f'"{name}"' for name in model.primary_key) or "rowid"
        columns = ", ".join(f'"{name}"' for name in fields)
        query = f'SELECT {columns} FROM "{model.table}" WHERE {where} ORDER BY {order}'
        json_fields = [name for name, info in fields.items() if _holds_json(info.annotation)]
        for row in connection.execute(query, list(filters.values())):
            data = dict(zip(fields, row))
            for name in json_fields:
                if data[name] is not None:
                    data[name] = json.loads(data[name])
            yield model.model_validate(data)
    finally:
        if own_connection:
            connection.close()


def _holds_json(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    return origin in (list, dict)


def _accessor(table: str):
    model = MODELS_BY_TABLE[table]

    def accessor(**filters: Any) -> list[Record]:
        return records(model, **filters)

    accessor.__name__ = table
    accessor.__doc__ = f"All {table} as ``{model.__name__}`` records, filtered by column values (e.g. ``{table}(id=...)``)."
    return accessor


sources = _accessor("sources")
places = _accessor("places")
organizations = _accessor("organizations")
people = _accessor("people")
alternate_names = _accessor("alternate_names")
positions = _accessor("positions")
events = _accessor("events")
counts = _accessor("counts")
participants = _accessor("participants")
summaries = _accessor("summaries")
speeches = _accessor("speeches")
speech_points = _accessor("speech_points")
stated_totals = _accessor("stated_totals")
evidence = _accessor("evidence")
build_info = _accessor("build_info")
