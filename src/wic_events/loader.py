"""Reading the built database: its path, a read-only connection, and typed records.

This module reads only the compiled SQLite file; it does not import the build
machinery, so ``import wic_events`` stays light and works from an installed wheel.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_args

from .models import MODELS_BY_TABLE, Record, date_fields, earliest_day, json_text, latest_day

if TYPE_CHECKING:
    import pandas

DATABASE_FILE = "wic_events.db"
DATABASE_ENV = "WIC_EVENTS_DB"

RecordType = TypeVar("RecordType", bound=Record)


def db_path() -> Path:
    """Path of the database: $WIC_EVENTS_DB when set, else the file inside the installed package.

    >>> db_path().suffix
    '.db'
    """
    override = os.environ.get(DATABASE_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / DATABASE_FILE


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """A read-only connection to the database; rows read by column name or position (``Row``).

    >>> with closing(connect()) as connection:
    ...     connection.execute("SELECT name FROM people WHERE id = 'xi-jinping'").fetchone()["name"]
    'Xi Jinping'
    """
    path = Path(path) if path is not None else db_path()
    if not path.is_file():
        raise FileNotFoundError(f"no wic-events database at {path}; build it with 'wic-events build'")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = Row
    try:
        connection.execute("SELECT package_version FROM build_info").fetchone()
    except sqlite3.DatabaseError as error:  # not SQLite at all, or no table the build writes
        connection.close()
        raise NotADatabase(f"{path} is not a wic-events database ({error})") from None
    return connection


class NotADatabase(ValueError):
    """The file is not a database that 'wic-events build' wrote."""


class Row(sqlite3.Row):
    """A row readable by column name or position, printed as the tuple of its values."""

    def __repr__(self) -> str:
        return repr(tuple(self))


def records(model: type[RecordType], connection: sqlite3.Connection | None = None, **filters: Any) -> list[RecordType]:
    """Rows of ``model``'s table as model instances, where each column equals its filter value.

    >>> from wic_events import Person
    >>> [person.name for person in records(Person, id="xi-jinping")]
    ['Xi Jinping']
    """
    return list(iter_records(model, connection, **filters))


def iter_records(model: type[RecordType], connection: sqlite3.Connection | None = None, **filters: Any) -> Iterator[RecordType]:
    """Like ``records``, one at a time, for tables too large to hold in memory.

    >>> from wic_events import SpeechPoint
    >>> next(iter_records(SpeechPoint, kind="proposal")).label
    'Global cyber infrastructure and connectivity'
    """
    fields = model.model_fields
    unknown = sorted(set(filters) - set(fields))
    if unknown:
        raise TypeError(f"{model.table} has no column(s) {', '.join(unknown)}; filter on: {', '.join(fields)}")
    where = " AND ".join(f'"{name}" IS ?' for name in filters) or "1"
    order = ", ".join(f'"{name}"' for name in model.primary_key) or "rowid"
    columns = ", ".join(f'"{name}"' for name in fields)
    query = f'SELECT {columns} FROM "{model.table}" WHERE {where} ORDER BY {order}'
    values = [_filter_value(model, name, value) for name, value in filters.items()]
    with _given_or_default(connection) as reading:
        for row in reading.execute(query, values):
            yield _record_from_row(model, row)


def _filter_value(model: type[Record], name: str, value: Any) -> Any:
    """A filter's value as the column stores it: a list or object as its JSON text."""
    if isinstance(value, (list, dict)) and name in _json_fields(model):
        return json_text(value)
    if isinstance(value, (list, dict, set, tuple)):
        raise TypeError(f"{model.table}.{name} is filtered by one value, not by a {type(value).__name__}")
    return value


@contextmanager
def _given_or_default(connection: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
    """The caller's connection, left open; or, for None, one of our own, closed when done."""
    if connection is not None:
        yield connection
        return
    with closing(connect()) as own:
        yield own


def _record_from_row(model: type[RecordType], row: Any) -> RecordType:
    """A model instance from a row holding the model's columns in field order."""
    data = dict(zip(model.model_fields, row, strict=True))
    for name in _json_fields(model):
        if data[name] is not None:
            data[name] = json.loads(data[name])
    return model.model_validate(data)


@cache
def _json_fields(model: type[Record]) -> list[str]:
    return [name for name, info in model.model_fields.items() if _holds_json(info.annotation)]


def _holds_json(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    return origin in (list, dict)


SEARCH_RULES = (
    "Each word is matched after Porter stemming, so 'proposal' finds 'proposals', but 'sovereign' does not find "
    "'sovereignty': end a word with * to find every word that starts with it (sover*). Words in double quotes are "
    "found as a phrase; punctuation is searched as text, not read as search syntax."
)
"""What a search finds, in the words the site and the command line show."""

_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|(\S+)')


def full_text_query(text: str) -> str:
    """The FTS5 query that finds every word of ``text`` (see ``SEARCH_RULES``); empty when it has none.

    Each word or phrase becomes a quoted FTS5 string, so that hyphens, quotes and operators in
    what a person types ("Ki-moon", "AND", a lone quote) are searched for instead of parsed.

    >>> full_text_query('sover* "cyber space" U.S. AND')
    '"sover"* "cyber space" "U.S." "AND"'
    >>> full_text_query('"') == '"' * 4  # a string holding one quote, which matches nothing
    True
    """
    terms = []
    for phrase, word in _PHRASE_OR_WORD.findall(text):
        prefix = not phrase and len(word) > 1 and word.endswith("*")
        words = phrase or (word[:-1] if prefix else word)
        terms.append('"' + words.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms)


@dataclass(frozen=True)
class SearchResult:
    """A record that matches a full-text search, with its table and its bm25 rank (lower is better)."""

    table: str
    record: Record
    rank: float
    snippet: str
    """The matching text around the match, each matched word between the two ``marks``; for a
    record found by another name, that name and its language."""


def search(query: str, connection: sqlite3.Connection | None = None, limit: int = 20, *, marks: tuple[str, str] = ("«", "»")) -> list[SearchResult]:
    """Records whose searchable text holds every word of ``query``, best matches first.

    What matches is ``SEARCH_RULES``. The search runs over every ``<table>_fts`` table; ranks from
    different tables are bm25 scores over different texts, so the order across tables is
    approximate (ties go by table and id, so the order is stable). A query that is a whole other
    name of a person, organization or place (``alternate_names``) finds that record first, with
    the rank minus infinity: "习近平" finds Xi Jinping.

    >>> [(hit.table, hit.record.id) for hit in search("cyber sovereignty") if hit.table == "speech_points"]
    [('speech_points', 'wic-2015-xi-jinping-keynote-principle-1')]
    >>> [hit.record.id for hit in search("proposal")] == [hit.record.id for hit in search("proposals")] != []
    True
    >>> [(hit.table, hit.record.id, hit.snippet) for hit in search("习近平")]
    [('people', 'xi-jinping', '习近平 (another name, zh-Hans)')]
    >>> search("sovereignty", limit=0)
    Traceback (most recent call last):
    ...
    ValueError: limit must be a whole number of at least 1, not 0
    """
    if not isinstance(query, str):
        raise TypeError(f"search needs the words to look for as text (a str), not {type(query).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a whole number of at least 1, not {limit!r}")
    match = full_text_query(query)
    if not match:
        return []
    opening, closing_mark = marks
    hits = []
    with _given_or_default(connection) as reading:
        # As the site's search_everything does: other names are matched whole, through their index.
        named = reading.execute("SELECT DISTINCT entity_table, entity_id, name, language FROM alternate_names WHERE name = ?", (query.strip(),)).fetchall()
        for table, ident, name, language in sorted(named):
            model = MODELS_BY_TABLE[table]
            columns = ", ".join(f'"{name}"' for name in model.model_fields)
            row = reading.execute(f'SELECT {columns} FROM "{table}" WHERE id = ?', (ident,)).fetchone()
            if row is not None:  # the build refuses a name for no record; a database edited by hand may hold one
                hits.append(SearchResult(table, _record_from_row(model, row), -math.inf, f"{name} (another name, {language})"))
        for model in MODELS_BY_TABLE.values():
            if not (fts := model.fts_table):
                continue
            columns = ", ".join(f't."{name}"' for name in model.model_fields)
            # "ORDER BY rank LIMIT" alone is sorted by FTS5 itself, which then makes the snippets of
            # the rows it returns only: four times faster at 200,000 speeches than ordering the join.
            query_sql = (
                f"SELECT {columns}, found.rank, found.snippet FROM (SELECT rowid, rank, snippet(\"{fts}\", -1, ?, ?, ' … ', 12) AS snippet "
                f'FROM "{fts}" WHERE "{fts}" MATCH ? ORDER BY rank LIMIT ?) found JOIN "{model.table}" t ON t.rowid = found.rowid'
            )
            for row in reading.execute(query_sql, (opening, closing_mark, match, limit)):
                hits.append(SearchResult(model.table, _record_from_row(model, row[:-2]), row[-2], row[-1]))
    best: dict[tuple[str, str], SearchResult] = {}
    for hit in sorted(hits, key=lambda hit: (hit.rank, hit.table, hit.record.key())):
        best.setdefault((hit.table, hit.record.key()), hit)  # a record found by its other name and its text comes once
    return list(best.values())[:limit]


@dataclass(frozen=True)
class DisputedClaim:
    """One source's claim about a fact that sources report differently (a row of the disputed_facts view)."""

    fact: str
    """The fact: a record and field ('wic-2014 theme'), or an event and what is counted ('wic-2014 countries_and_regions')."""
    event_id: str | None
    record_table: str
    record_id: str
    field: str
    value: str | None
    source_id: str
    quote: str
    preferred: bool


def disputed_facts(connection: sqlite3.Connection | None = None, event_id: str | None = None) -> list[DisputedClaim]:
    """Every claim about every disputed fact, fact by fact, the preferred claim first; of one event if given.

    >>> [(c.value, c.preferred) for c in disputed_facts(event_id="wic-2014") if c.fact == "wic-2014 countries_and_regions"]
    [('about 100', True), ('over 100', False), ('about 100', False)]
    """
    names = [field.name for field in fields(DisputedClaim)]
    where = "WHERE event_id = ?" if event_id is not None else ""
    query = f"SELECT {', '.join(names)} FROM disputed_facts {where} ORDER BY fact, preferred DESC, source_id, quote"
    with _given_or_default(connection) as reading:
        rows = reading.execute(query, () if event_id is None else (event_id,)).fetchall()
    return [DisputedClaim(**{**dict(zip(names, row, strict=True)), "preferred": bool(row[-1])}) for row in rows]


# Views' columns computed as "... IS NOT NULL" (compiling.CONVENIENCE_VIEWS): SQLite gives them no
# type, and they hold 0 or 1. A view's column named like a model's boolean field is one too.
VIEW_BOOLEAN_COLUMNS = ("summary_is_shared", "located")


def to_pandas(table: str, connection: sqlite3.Connection | None = None) -> pandas.DataFrame:
    """A table or view of the database as a pandas DataFrame (needs the ``export`` extra).

    Integer columns with empty values stay integers (pandas' nullable ``Int64``), and
    boolean columns come back as booleans. A date column keeps its text, which may name only
    a month or a year ("2015-12"); beside it, ``<column>_earliest`` and ``<column>_latest`` give
    the first and last day it can mean as ``datetime64`` (as the ``*_date_ranges`` views do).

    >>> frame = to_pandas("speeches")
    >>> frame.loc[frame.on_behalf_of_id == "ban-ki-moon", ["speaker_id", "delivery_mode"]].values.tolist()
    [['wu-hongbo', 'read_on_behalf']]
    >>> events = to_pandas("events").set_index("id")
    >>> events.loc["wic-2015", ["start_date", "start_date_earliest", "end_date_latest"]].tolist()
    ['2015-12-16', Timestamp('2015-12-16 00:00:00'), Timestamp('2015-12-18 00:00:00')]
    >>> to_pandas("counts")["preferred"].dtype
    BooleanDtype
    """
    try:
        import pandas
    except ImportError as error:
        raise ImportError("wic_events.to_pandas needs pandas; install it with: pip install 'wic-events[export]'") from error
    with _given_or_default(connection) as reading:
        views = {name for (name,) in reading.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        if table not in MODELS_BY_TABLE and table not in views:
            raise ValueError(f"no table or view named {table!r}; tables: {', '.join(MODELS_BY_TABLE)}; views: {', '.join(sorted(views))}")
        frame = pandas.read_sql_query(f'SELECT * FROM "{table}"', reading, dtype_backend="numpy_nullable")
    model = MODELS_BY_TABLE.get(table)
    booleans = _boolean_fields(model) if model else {*VIEW_BOOLEAN_COLUMNS, *(name for other in MODELS_BY_TABLE.values() for name in _boolean_fields(other))}
    for name in frame.columns:
        if name in booleans:  # SQLite stores booleans as 0 and 1
            frame[name] = frame[name].astype("boolean")
        elif name.endswith(("_earliest", "_latest")):
            frame[name] = pandas.to_datetime(frame[name])
    for name in date_fields(model) if model else []:
        at = frame.columns.get_loc(name) + 1
        days = frame[name].astype(object).where(frame[name].notna(), None)
        frame.insert(at, f"{name}_latest", pandas.to_datetime(days.map(lambda day: day and latest_day(day))))
        frame.insert(at, f"{name}_earliest", pandas.to_datetime(days.map(lambda day: day and earliest_day(day))))
    return frame


def _boolean_fields(model: type[Record]) -> list[str]:
    return [name for name, info in model.model_fields.items() if bool in (info.annotation, *get_args(info.annotation))]


def tables() -> dict[str, str]:
    """The database's tables, each with what one of its rows is.

    >>> tables()["speeches"]
    'A speech, address or message delivered at an event.'
    """
    return {name: model.table_description() for name, model in MODELS_BY_TABLE.items()}


def load(connection: sqlite3.Connection | None = None) -> dict[str, pandas.DataFrame]:
    """Every table as a pandas DataFrame (see ``to_pandas``), by table name, in one call.

    >>> frames = load()
    >>> sorted(frames) == sorted(tables())
    True
    >>> frames["people"].set_index("id").loc["xi-jinping", "name"]
    'Xi Jinping'
    """
    with _given_or_default(connection) as reading:
        return {name: to_pandas(name, reading) for name in MODELS_BY_TABLE}


def _accessor(table: str, example: str, result: str):
    """A function returning the rows of ``table``; ``example`` and ``result`` make its doctest."""
    model = MODELS_BY_TABLE[table]

    def accessor(**filters: Any) -> list[Record]:
        return records(model, **filters)

    accessor.__name__ = table
    accessor.__doc__ = (
        f"All {table} as ``{model.__name__}`` records, filtered by column values (e.g. ``{table}(id=...)``).\n\n    >>> {example}\n    {result}\n"
    )
    return accessor


sources = _accessor("sources", 'sources(id="wic-2015-opening-news-release")[0].language', "'en'")
places = _accessor("places", 'places(id="wuzhen")[0].parent_id', "'tongxiang'")
organizations = _accessor("organizations", 'organizations(abbreviation="ITU")[0].name', "'International Telecommunication Union'")
people = _accessor("people", 'people(wikidata_id="Q15031")[0].name', "'Xi Jinping'")
alternate_names = _accessor("alternate_names", '[other.name for other in alternate_names(entity_id="ban-ki-moon")]', "['반기문']")
positions = _accessor("positions", 'positions(person_id="dmitry-medvedev")[0].title', "'Prime Minister'")
events = _accessor(
    "events", '[event.id for event in events(parent_id="wic-2015")]', "['wic-2015-closing-ceremony', 'wic-2015-group-photo', 'wic-2015-opening-ceremony']"
)
counts = _accessor("counts", 'counts(id="wic-2015-guests")[0].low', "2001")
participants = _accessor("participants", '[p.person_id for p in participants(event_id="wic-2015-opening-ceremony", role="chair")]', "['liu-yunshan']")
summaries = _accessor("summaries", "len(speeches(summary_id=summaries()[0].id))", "9")
speeches = _accessor("speeches", 'speeches(delivery_mode="read_on_behalf", event_id="wic-2019-opening-ceremony")[0].speaker_id', "'huang-kunming'")
speech_points = _accessor("speech_points", 'len(speech_points(speech_id="wic-2015-xi-jinping-keynote", kind="proposal"))', "5")
documents = _accessor("documents", '[d.title for d in documents(kind="initiative")]', "['Wuzhen Initiative']")
stated_totals = _accessor("stated_totals", 'stated_totals(record_table="speech_points")[0].as_reported', "'five proposals'")
evidence = _accessor("evidence", 'evidence(record_table="counts", record_id="wic-2015-guests")[0].quote', "'Over 2,000 guests'")
claims = _accessor("claims", '[c.value for c in claims(record_id="wic-2020", field="edition", preferred=True)]', "[None]")
build_info = _accessor("build_info", "build_info()[0].schema_version", "'1.0.0'")
