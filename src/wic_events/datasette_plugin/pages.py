"""What the site's own pages show, read from the served database: a record with what backs it,
and the site-wide search.

Functions here take a sqlite3 connection (Datasette hands one to ``execute_fn``) and return
plain values; the templates in ``templates/`` lay them out.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from datasette.utils import tilde_encode
from markupsafe import Markup, escape

from ..loader import search
from ..models import MODELS_BY_TABLE, Count, reference_fields
from ..site_config import DATABASE_NAME, label_column, person_ids_sql

POINTING_ROWS_SHOWN = 20
"""How many of the rows that point to a record its page lists by name; a link leads to all of them."""

_MARKS = ("\x02", "\x03")  # around matched words in a snippet: control characters no text of the data holds


def row_url(table: str, key_values: list[Any] | tuple[Any, ...]) -> str:
    """The path of a row's page, its key values encoded as Datasette encodes them."""
    return f"/{DATABASE_NAME}/{table}/" + ",".join(tilde_encode(str(value)) for value in key_values)


@dataclass
class Pointing:
    """The rows of one table that point to a record through one column."""

    table: str
    column: str
    count: int
    rows: list[tuple[str, str]]
    """(label, url) of the first ``POINTING_ROWS_SHOWN`` rows."""
    url: str
    """The table page filtered to all of them."""


@dataclass
class RecordPage:
    label: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    claims: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """For each fact of the record that sources report differently (``disputed_facts``), every claim,
    the preferred one first, with ``url`` set where the claim is another record's (a count)."""
    other_names: list[tuple[str, str]] = field(default_factory=list)
    pointing: list[Pointing] = field(default_factory=list)


def record_page(connection: sqlite3.Connection, table: str, key_values: list[str]) -> RecordPage | None:
    """What a row's page shows beyond the row itself, or None for a table or row the models do not know."""
    model = MODELS_BY_TABLE.get(table)
    if model is None or len(key_values) != len(model.primary_key):
        return None
    label = label_column(model)
    where = " AND ".join(f'"{name}" = ?' for name in model.primary_key)
    found = connection.execute(f'SELECT {_quoted(label) if label else "NULL"} FROM "{table}" WHERE {where}', key_values).fetchone()
    if found is None:
        return None
    page = RecordPage(label=str(found[0] if found[0] is not None else ", ".join(key_values)))
    if model.primary_key != ("id",):
        return page
    record_id = key_values[0]
    page.evidence = _dicts(
        connection,
        "SELECT field, quote, source_id, source_title, source_url, before_quote, after_quote FROM evidence_details "
        "WHERE record_table = ? AND record_id = ? ORDER BY field IS NOT NULL, field, source_id, start",
        (table, record_id),
    )
    # A disputed count is several count rows, one per source, that share a fact: each one's page
    # shows them all. Both queries go through indexes (record_table, record_id; counts.event_id).
    columns = "fact, value, source_id, quote, preferred, record_table, record_id"
    order = "ORDER BY fact, preferred DESC, source_id, record_id"
    if table == Count.table:
        siblings = [
            ident
            for (ident,) in connection.execute(
                "SELECT o.id FROM counts n JOIN counts o ON o.event_id = n.event_id AND o.subject = n.subject WHERE n.id = ?", (record_id,)
            )
        ]
        # The ids as values, not a subquery: SQLite takes values into each branch of the view.
        marks = ", ".join("?" * len(siblings))
        found = _dicts(connection, f"SELECT {columns} FROM disputed_facts WHERE record_table = 'counts' AND record_id IN ({marks}) {order}", tuple(siblings))
    else:
        found = _dicts(connection, f"SELECT {columns} FROM disputed_facts WHERE record_table = ? AND record_id = ? {order}", (table, record_id))
    for claim in found:
        claim["url"] = row_url(claim["record_table"], [claim["record_id"]]) if claim["record_id"] != record_id else None
        page.claims.setdefault(claim["fact"], []).append(claim)
    page.other_names = connection.execute(
        "SELECT name, language FROM alternate_names WHERE entity_table = ? AND entity_id = ? ORDER BY language, name", (table, record_id)
    ).fetchall()
    page.pointing = [pointing for pointing in _pointing(connection, table, record_id) if pointing.count]
    return page


def _pointing(connection: sqlite3.Connection, table: str, record_id: str) -> list[Pointing]:
    found = []
    for other in MODELS_BY_TABLE.values():
        if other.primary_key != ("id",):
            continue
        shown = _quoted(label_column(other) or "id")
        order = _quoted(other.sort_field or "id")
        for column, target in reference_fields(other).items():
            if target != table:
                continue
            count = connection.execute(f'SELECT count(*) FROM "{other.table}" WHERE "{column}" = ?', (record_id,)).fetchone()[0]
            rows = connection.execute(
                f'SELECT id, {shown} FROM "{other.table}" WHERE "{column}" = ? ORDER BY {order}, id LIMIT {POINTING_ROWS_SHOWN}', (record_id,)
            ).fetchall()
            found.append(
                Pointing(
                    other.table,
                    column,
                    count,
                    [(str(label), row_url(other.table, [ident])) for ident, label in rows],
                    f"/{DATABASE_NAME}/{other.table}?{column}={quote(record_id)}",
                )
            )
    return found


@dataclass
class Hit:
    table: str
    key: str
    label: str
    url: str
    snippet: Markup
    """The matching text, the matched words in <mark>."""
    text: str
    """The same, the matched words between « and »."""

    def as_json(self) -> dict[str, str]:
        return {"table": self.table, "key": self.key, "label": self.label, "url": self.url, "snippet": self.text}


SEARCH_LIMIT = 50
"""The most hits the search page lists."""


def search_hits(connection: sqlite3.Connection, query: str) -> list[Hit]:
    """The search page's hits: the loader's ``search``, each hit as its record's label, link and marked snippet."""
    hits = []
    for hit in search(query, connection, limit=SEARCH_LIMIT, marks=_MARKS):
        model = MODELS_BY_TABLE[hit.table]
        label = label_column(model)
        key = [getattr(hit.record, name) for name in model.primary_key]
        snippet = escape(hit.snippet).replace(_MARKS[0], Markup("<mark>")).replace(_MARKS[1], Markup("</mark>"))
        text = hit.snippet.replace(_MARKS[0], "«").replace(_MARKS[1], "»")
        named = str(getattr(hit.record, label) if label else ", ".join(map(str, key)))
        hits.append(Hit(hit.table, hit.record.key(), named, row_url(hit.table, key), Markup(snippet), text))
    return hits


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dicts(connection: sqlite3.Connection, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, parameters)
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def record_choices(connection: sqlite3.Connection, table: str, given: str) -> list[tuple[str, str]] | None:
    """None when ``given`` names a record of ``table`` (by id, or for people also by name or other name);
    otherwise (label, id) of up to ten records whose id or label holds it, for the visitor to choose from."""
    label = _quoted(label_column(MODELS_BY_TABLE[table]) or "id")
    # People as the person_activity query reads its parameter.
    named = person_ids_sql(":given") if table == "people" else f'SELECT 1 FROM "{table}" WHERE id = :given'
    if connection.execute(named, {"given": given}).fetchone():
        return None
    like = "%" + given.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return connection.execute(
        f"SELECT {label}, id FROM \"{table}\" WHERE id LIKE :like ESCAPE '\\' OR {label} LIKE :like ESCAPE '\\' ORDER BY {label}, id LIMIT 10",
        {"like": like},
    ).fetchall()
