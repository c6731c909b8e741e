"""Checking records: each on its own (the models), then across records (SQL over the loaded tables).

Per-record checks run while the build streams the input. Cross-record checks run
as queries against the tables being compiled, so that memory stays flat however
large the input; each finding names a table and key, and ``locate`` reads the
input again to say in which file and line that record was written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .inputs import RECORD_SUFFIXES, RawRecord, encodable, read_records
from .models import (
    MAX_UNCARRIED_QUOTE,
    MODELS_BY_TABLE,
    PATTERN_DESCRIPTIONS,
    RECORD_MODELS,
    Citation,
    Claim,
    Event,
    Evidence,
    FieldError,
    Place,
    Record,
    Source,
    StatedClaim,
    StatedTotal,
    reference_fields,
    table_columns,
)
from .problems import Location, Problem

_NOT_LOADED = object()
_SQLITE_INTEGERS = range(-(2**63), 2**63)
_AUTHORED_TABLES = {model.table: model for model in RECORD_MODELS}


class SourceTexts:
    """The text of every source read so far, and the check of a quote against its source.

    Sources are read before anything else (see ``inputs``), so every quote can be located.
    Problems go to ``problems``.
    """

    def __init__(self, data_dir: Path, problems: list[Problem]):
        self.data_dir = data_dir
        self.problems = problems
        self.texts: dict[str, str | None] = {}
        """Each source's carried text, or None for a source whose text is not carried."""

    def read(self, source: Source, location: Location) -> None:
        """Keep the source's text: inline, or read from its file, checked against its sha256."""
        if source.file is None:
            if source.text is not None and source.sha256 is not None and _sha256(source.text.encode()) != source.sha256:
                self.problems.append(Problem(location, "sha256 does not match the inline text", "sha256"))
            self.texts[source.id] = source.text
            return
        if source.text is not None:
            self.problems.append(Problem(location, "give the text inline or in a file, not both: the build reads the file's text into this field", "text"))
            return
        if source.file.lower().endswith(RECORD_SUFFIXES):
            # Every such file under data/ is read as records, and a document's lines are not records.
            hint = f"carry the document as '{source.file}.txt'"
            self.problems.append(Problem(location, f"'{source.file}' ends like a record file, so it is read as records too; {hint}", "file"))
            return
        try:
            path = (self.data_dir / source.file).resolve()
            content = path.read_bytes() if path.is_relative_to(self.data_dir.resolve()) and path.is_file() else None
        except (OSError, ValueError) as error:  # a name too long, with a NUL byte, or a file that cannot be read
            self.problems.append(Problem(location, f"cannot read {source.file!r}: {getattr(error, 'strerror', None) or error}", "file"))
            return
        if content is None:
            self.problems.append(Problem(location, f"no file {source.file!r} under the data folder", "file"))
            return
        digest = _sha256(content)
        if digest != source.sha256:
            # Its quotes are still checked against the file: if only the hash is wrong, the same run says so too.
            self.problems.append(
                Problem(location, f"the sha256 of {source.file} is {digest}, not {source.sha256}: the document changed, or the hash is wrong", "sha256")
            )
        try:
            source.text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            self.problems.append(Problem(location, f"'{source.file}' is not valid UTF-8 (offset {error.start})", "file"))
            return
        if not source.text.strip():
            self.problems.append(Problem(location, f"'{source.file}' holds no text: nothing could be quoted from it", "file"))
            return
        self.texts[source.id] = source.text
        for position, passage in enumerate(source.boilerplate):
            if passage not in source.text:
                self.problems.append(Problem(location, f"boilerplate passage not found in the text: {_preview(passage)}", f"boilerplate.{position}"))

    def check_quoted(self, quoted: Evidence | Claim, location: Location) -> bool:
        """Whether an evidence row or claim names a citable record and field, and its quote is in its source."""
        model = _AUTHORED_TABLES.get(quoted.record_table)
        if model is None or "id" not in model.primary_key:
            tables = ", ".join(m.table for m in RECORD_MODELS if "id" in m.primary_key)
            self.problems.append(
                Problem(location, f"'{quoted.record_table}' is not a table whose records can be cited; expected one of: {tables}", "record_table")
            )
            return False
        if quoted.field is not None and (quoted.field not in model.model_fields or (isinstance(quoted, Claim) and quoted.field == "id")):
            fields = ", ".join(name for name in model.model_fields if name != "id")
            self.problems.append(Problem(location, f"{quoted.record_table} has no field '{quoted.field}'; its fields: {fields}", "field"))
            return False
        text = self.texts.get(quoted.source_id, _NOT_LOADED)
        if text is _NOT_LOADED:
            return True  # an unknown source is reported by the reference check
        if text is None:
            if isinstance(quoted, Evidence) and (quoted.start is not None or quoted.end is not None):
                self.problems.append(Problem(location, "the source's text is not carried, so the quote cannot have offsets", "start"))
                return False
            if len(quoted.quote) > MAX_UNCARRIED_QUOTE:
                self.problems.append(
                    Problem(
                        location,
                        f"the quote has {len(quoted.quote)} characters; from a source whose text is not carried, quote the shortest phrase "
                        f"that states the fact, at most {MAX_UNCARRIED_QUOTE} characters",
                        "quote",
                    )
                )
                return False
            return True
        try:
            start = locate_quote(quoted.quote, text, quoted.occurrence, quoted.source_id)  # type: ignore[arg-type]
        except FieldError as error:
            self.problems.append(Problem(location, str(error), error.field))
            return False
        if isinstance(quoted, Evidence):
            end = start + len(quoted.quote)
            for name, given, actual in (("start", quoted.start, start), ("end", quoted.end, end)):
                if given is not None and given != actual:
                    self.problems.append(Problem(location, f"{name}={given}, but the quote is found at {name}={actual}", name))
                    return False
            quoted.start, quoted.end = start, end
        return True


def validated(model: type[BaseModel], data: dict[str, Any], location: Location) -> tuple[Any, list[Problem]]:
    """The model's instance of ``data``, or None and what is wrong with it, in the project's words."""
    try:
        record = model.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            # A check across fields has no location of its own; a FieldError names the field it blames.
            blamed = getattr(detail.get("ctx", {}).get("error"), "field", None)
            field = ".".join(str(part) for part in detail["loc"]) or blamed
            problems.append(Problem(location, _describe(detail), field))
        return None, problems
    # SQLite stores integers in 64 bits; a larger one would stop the build with an OverflowError.
    if not _integer_fields(model):
        return record, []
    integers = {name: getattr(record, name) for name in _integer_fields(model)}
    too_large = [
        Problem(location, f"{number} is too large to store: integers must lie between -2**63 and 2**63 - 1", name)
        for name, value in integers.items()
        for number in (value.values() if isinstance(value, dict) else (value,))
        if isinstance(number, int) and number not in _SQLITE_INTEGERS
    ]
    return (None, too_large) if too_large else (record, [])


def stated_total_problems(total: StatedTotal, location: Location) -> list[Problem]:
    """What is wrong with a stated total: a table or columns that do not exist."""
    # Only authored tables: the derived ones (build_info) do not exist yet when totals are checked.
    model = _AUTHORED_TABLES.get(total.record_table)
    if model is None:
        return [Problem(location, f"no table named '{total.record_table}'; expected one of: {', '.join(_AUTHORED_TABLES)}", "record_table")]
    return [
        Problem(location, f"{total.record_table} has no column '{column}'", f"match.{column}") for column in total.match if column not in model.model_fields
    ]


class RecordValidator:
    """Validates raw records one by one and turns their citations into evidence records.

    Keeps the text of every source seen so far, so that evidence quotes can be
    located; sources are read before anything else (see ``inputs``).
    """

    def __init__(self, data_dir: Path, problems: list[Problem]):
        self.problems = problems
        self.sources = SourceTexts(data_dir, problems)
        self.source_ids: set[str] = set()
        """Every valid source read: all of them are, before any record that cites one (see ``inputs``)."""
        self.unknown_bundle_sources: set[tuple[str, str | None]] = set()
        """(file, source_id) of each bundle whose source_id names no source, said once."""
        self.rejected: set[tuple[str, str]] = set()
        self.unread_files: dict[str, str] = {}
        """Files none of whose records could be read, each with its table (or ``*`` for a bundle)."""

    def validate(self, raw: RawRecord) -> list[tuple[Record, Location]]:
        """The record and the evidence it carries, or nothing when the record is invalid."""
        model = MODELS_BY_TABLE.get(raw.table)
        if model in _SELF_CONTAINED and raw.valid:
            # The short way, taken by most records: this runs for every record read. A record
            # that fails here (or carries citations, an unknown field to its model) goes the
            # full way below, which says what is wrong.
            try:
                # What model_validate calls, without the arguments it checks first.
                record = model.__pydantic_validator__.validate_python(raw.data)
            except ValidationError:
                pass
            else:
                integers = _integer_fields(model)
                if not integers or _integers_fit(record, integers):
                    return [(record, raw.location)]
        if not raw.valid and not raw.data:  # a file whose records are unknown (see read_share)
            self.unread_files[raw.location.file] = raw.table
            return []
        model = MODELS_BY_TABLE[raw.table]
        data = dict(raw.data)
        quoting = model in _QUOTING
        citations = data.pop("evidence", []) if not quoting else []
        claims = data.pop("claims", []) if not quoting and "id" in model.primary_key else []
        if quoting and raw.default_source_id and "source_id" not in data:
            if not self._bundle_source_is_known(raw):
                return []
            data["source_id"] = raw.default_source_id
        record = self._model(model, data, raw.location) if raw.valid else None
        if record is None:
            self._note_rejected(model, data)
            return []
        if isinstance(record, Source):
            self.source_ids.add(record.id)
            self.sources.read(record, raw.location)
        if quoting:
            return [(record, raw.location)] if self.sources.check_quoted(record, raw.location) else []
        if isinstance(record, StatedTotal):
            self.problems.extend(stated_total_problems(record, raw.location))
        validated = [(record, raw.location)]
        if citations != []:  # most records carry none, and this runs for every record
            validated.extend(self._citations(record, citations, raw))
        if claims != []:
            validated.extend(self._claims(record, claims, raw))
        return validated

    def _bundle_source_is_known(self, raw: RawRecord) -> bool:
        """Whether the source_id at the top of the record's bundle names a source read.

        When it does not, that is said once for the bundle, not for each citation that relies on
        it; a source that was read but found invalid has its own problem already.
        """
        source_id = raw.default_source_id
        if source_id in self.source_ids:
            return True
        maybe_unread = {(Source.table, source_id), (Source.table, "*")} & self.rejected  # a source file could not be read
        if not maybe_unread and (raw.location.file, source_id) not in self.unknown_bundle_sources:
            self.unknown_bundle_sources.add((raw.location.file, source_id))
            message = f"no source '{source_id}' under data/sources/; the quotes that do not name a source of their own are left unchecked until it is fixed"
            self.problems.append(Problem(Location(raw.location.file, path="source_id"), message, "source_id"))
        return False

    def _note_rejected(self, model: type[Record], data: dict[str, Any]) -> None:
        """Remember the id of an invalid record, so that records naming it are not also reported."""
        if "id" not in model.model_fields:
            return
        try:
            ident = data.get("id") or model.derived_id(data)
        except Exception:  # derived ids read other fields, which may be of any type here
            return
        # An id with a lone surrogate cannot be stored, nor can a reference to it: it has its own problem.
        if isinstance(ident, str) and encodable(ident):
            self.rejected.add((model.table, ident))

    def _model(self, model: type[BaseModel], data: dict[str, Any], location: Location) -> Any:
        record, problems = validated(model, data, location)
        self.problems.extend(problems)
        return record

    def _citations(self, record: Record, citations: Any, raw: RawRecord) -> Iterator[tuple[Record, Location]]:
        for location, citation, source_id in self._written_inside(record, citations, "evidence", Citation, raw):
            evidence = self._quoted(Evidence, record, citation.field, citation.quote, citation.occurrence, source_id, location)
            if evidence is not None:
                yield evidence, location

    def _claims(self, record: Record, claims: Any, raw: RawRecord) -> Iterator[tuple[Record, Location]]:
        """The claims written inside a record; one whose value is the record's supports it, and is its evidence too."""
        for location, stated, source_id in self._written_inside(record, claims, "claims", StatedClaim, raw):
            claim = self._quoted(
                Claim, record, stated.field, stated.quote, stated.occurrence, source_id, location, value=stated.value, preferred=stated.preferred
            )
            if claim is None:
                self._lose(Claim.table)
                continue
            yield claim, location
            if stated.field in type(record).model_fields and stated.value == _as_text(getattr(record, stated.field)):
                evidence = self._quoted(Evidence, record, stated.field, stated.quote, stated.occurrence, source_id, location)
                if evidence is not None:
                    yield evidence, location

    def _written_inside(self, record: Record, items: Any, key: str, model: type[BaseModel], raw: RawRecord) -> Iterator[tuple[Location, Any, str]]:
        """Each valid citation or claim under ``key`` of a record, with its place and its source."""
        if not isinstance(items, list):
            self.problems.append(Problem(raw.location, f"{key} must be a list", key))
            return
        if items and "id" not in record.primary_key:
            self.problems.append(Problem(raw.location, f"records of {record.table} have no id to cite; cite the record they name instead", key))
            return
        lost = Claim.table if key == "claims" else None  # a claim lost leaves its fact's claims not all known
        for position, data in enumerate(items):
            location = Location(raw.location.file, raw.location.line, f"{raw.location.path or ''}.{key}[{position}]".lstrip("."))
            if not isinstance(data, dict):
                self.problems.append(
                    Problem(location, "a citation is an object with a quote" if key == "evidence" else "a claim is an object with a field, a value and a quote")
                )
                self._lose(lost)
                continue
            written = self._model(model, data, location)
            if written is None:
                self._lose(lost)
                continue
            source_id = written.source_id or raw.default_source_id
            if source_id is None:
                self.problems.append(Problem(location, "no source_id: name one in the citation or at the top of the bundle", "source_id"))
                self._lose(lost)
                continue
            if written.source_id is None and not self._bundle_source_is_known(raw):
                self._lose(lost)
                continue
            yield location, written, source_id

    def _lose(self, table: str | None) -> None:
        if table is not None:
            self.rejected.add((table, "*"))

    def _quoted(
        self, model: type[Record], record: Record, field: str | None, quote: str, occurrence: int | None, source_id: str, location: Location, **more: Any
    ) -> Record | None:
        """An evidence row or claim about ``record``, checked (None, with its problems said, when it is wrong)."""
        data = {"source_id": source_id, "record_table": record.table, "record_id": record.id, "field": field, "quote": quote, "occurrence": occurrence, **more}  # type: ignore[attr-defined]
        quoted = self._model(model, data, location)
        return quoted if quoted is not None and self.sources.check_quoted(quoted, location) else None


_QUOTING = (Evidence, Claim)
"""Models whose records quote a source, and are checked against its text."""

_SELF_CONTAINED = {model for model in RECORD_MODELS if model not in (Source, StatedTotal, *_QUOTING)}
"""Models whose records need no check beyond the model's own: no source text to read, no quote
to find in it, no stated total whose table and columns must exist."""


def _integers_fit(record: Record, names: tuple[str, ...]) -> bool:
    """True when the fields ``names`` (see _integer_fields) of a record of ``_SELF_CONTAINED`` fit SQLite's 64 bits."""
    return all(value is None or value in _SQLITE_INTEGERS for value in map(record.__dict__.get, names))


@cache
def _integer_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields that can hold integers, alone or as values of an object: the only ones whose range needs checking."""
    return tuple(column.name for column in table_columns(model) if column.type in ("integer", "object"))


def locate_quote(quote: str, text: str, occurrence: int | None = None, source_id: str | None = None) -> int:
    """Where ``quote`` starts in ``text``: at its only occurrence, or at the one ``occurrence`` names.

    Raises FieldError (naming the source ``source_id``, if given) with the field to fix when the quote is not in the text, occurs more than
    once and no occurrence is given, or occurs fewer times than asked.

    >>> locate_quote("go on", "go on, go on", occurrence=2)
    7
    """
    starts = _starts_of(quote, text)
    found = len(starts)
    source = f"source '{source_id}'" if source_id else "the source"
    if found == 0:
        raise FieldError("quote", f"quote not found in {source}: {_preview(quote)}{_near_miss(quote, text) or _where_it_differs(quote, text)}")
    if occurrence is None and found > 1:
        raise FieldError("occurrence", f"quote occurs {found} times in {source}; say which with occurrence (1 to {found})")
    if occurrence is not None and occurrence > found:
        raise FieldError("occurrence", f"occurrence {occurrence} asked, but the quote occurs {found} time(s)")
    return starts[(occurrence or 1) - 1]


def _as_text(value: Any) -> str | None:
    """A field's value as a claim states it: as text, None for none."""
    return None if value is None else str(value)


def _starts_of(quote: str, text: str) -> list[int]:
    """Where each occurrence of ``quote`` starts in ``text``, overlapping ones too ("go on, go on"
    occurs twice in "go on, go on, go on"), which str.count would not count."""
    starts, start = [], text.find(quote)
    while start >= 0:
        starts.append(start)
        start = text.find(quote, start + 1)
    return starts


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _preview(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _where_it_differs(quote: str, text: str) -> str:
    """Where a quote that is not in the text stops matching it: after the longest start of the
    quote that the text holds, found by halving (every shorter start is in the text too)."""
    found, too_long = 0, len(quote)
    while too_long - found > 1:
        middle = (found + too_long) // 2
        if quote[:middle] in text:
            found = middle
        else:
            too_long = middle
    if found < 10:  # a few characters in common say nothing
        return ""
    at = text.find(quote[:found]) + found
    return (
        f" (the source has its first {found} characters, then {_preview(text[at : at + 20], 30)} where the quote has {_preview(quote[found : found + 20], 30)})"
    )


def _near_miss(quote: str, text: str) -> str:
    folded = " ".join(quote.split())
    if folded.lower() in " ".join(text.split()).lower():
        return " (it is there with other spacing or letter case: copy the source's exact characters)"
    return ""


def _describe(detail: ErrorDetails) -> str:
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "missing":
        return "required field is missing"
    if detail["type"] == "extra_forbidden":
        return "unknown field"
    value = detail.get("input")
    if detail["type"] == "string_pattern_mismatch" and detail.get("ctx", {}).get("pattern") in PATTERN_DESCRIPTIONS:
        return f"expected {PATTERN_DESCRIPTIONS[detail['ctx']['pattern']]} (got {_preview(str(value), 60)})"
    if detail["type"] == "string_pattern_mismatch" or not isinstance(value, (dict, list)):
        return f"{message} (got {_preview(str(value), 60)})" if "input" in detail and detail["type"] != "value_error" else message
    return message


# Cross-record checks. Each yields (table, key, field, message) for records found wrong.

Finding = tuple[str, str, str | None, str]


REJECTED_IDS_TABLE = "temp.rejected_ids"
"""Ids of records found invalid on their own: a reference to one is already explained by its problem.
An id (or table) of ``*`` stands for the unknown records of a file that could not be read."""


def note_rejected_ids(connection: sqlite3.Connection, rejected: Iterable[tuple[str, str]]) -> None:
    connection.execute(f"CREATE TABLE IF NOT EXISTS {REJECTED_IDS_TABLE} (record_table TEXT, id TEXT, PRIMARY KEY (record_table, id))")
    connection.executemany(f"INSERT OR IGNORE INTO {REJECTED_IDS_TABLE} VALUES (?, ?)", rejected)


def _dangling(table: str, key: str, column: str, target: str, kind_column: str | None = None) -> str:
    """The key and value of each row of ``table`` whose ``column`` names no ``target`` row, nor
    one found invalid; with ``kind_column``, only of rows where that column equals :kind.

    Each value is looked up once, not once a row: the distinct values come from the column's
    index, and only rows with a missing value are read. Checking every participant's person
    row by row took three times as long."""

    def of_kind(alias: str) -> str:
        return f"{alias}.{kind_column} = :kind AND " if kind_column else ""

    return (
        f"SELECT {key}, t.{column} FROM {table} t WHERE {of_kind('t')}t.{column} IN ("
        f"SELECT d.value FROM (SELECT DISTINCT c.{column} AS value FROM {table} c WHERE {of_kind('c')}c.{column} IS NOT NULL) d "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} r WHERE r.id = d.value) "
        f"AND NOT EXISTS (SELECT 1 FROM {REJECTED_IDS_TABLE} x WHERE x.record_table IN ('{target}', '*') AND x.id IN (d.value, '*')))"
    )


def check_references(connection: sqlite3.Connection) -> Iterator[Finding]:
    """Every foreign key, every evidence target and every alternate name points to an existing row."""
    for model in RECORD_MODELS:
        for column, target in reference_fields(model).items():
            for row_key, value in connection.execute(_dangling(model.table, _key_sql(model), column, target)):
                yield model.table, row_key, column, f"no {target} record with id '{value}'"
    for quoting in ("evidence", "claims"):
        for target in (model.table for model in RECORD_MODELS if "id" in model.primary_key):
            query = _dangling(quoting, "t.id", "record_id", target, kind_column="record_table")
            for row_key, value in connection.execute(query, {"kind": target}):
                yield quoting, row_key, "record_id", f"no {target} record with id '{value}'"
    alternate_names_key = _key_sql(MODELS_BY_TABLE["alternate_names"])
    for target in ("people", "organizations", "places"):
        query = _dangling("alternate_names", alternate_names_key, "entity_id", target, kind_column="entity_table")
        for row_key, value in connection.execute(query, {"kind": target}):
            yield "alternate_names", row_key, "entity_id", f"no {target} record with id '{value}'"


_PARENT_CYCLE = "parent links form a cycle: the record is its own ancestor"
LINKS_THAT_MUST_NOT_LOOP = (
    (Event, "parent_id", _PARENT_CYCLE),
    (Place, "parent_id", _PARENT_CYCLE),
    (Source, "copy_of_id", "copy_of_id links form a loop: the source is, through its copies, a copy of itself"),
)


def check_parent_cycles(connection: sqlite3.Connection) -> Iterator[Finding]:
    """No event or place is, through its parents, inside itself; no source is a copy of a copy of
    itself. Each loop is reported once, on its first record by id, naming all of its records.

    Linear in the number of links, with no depth limit: a record on a loop has a link and is linked
    to, so only such records are walked, each once (a chain of 12,000 is as quick as one of 12).
    """
    for model, column, message in LINKS_THAT_MUST_NOT_LOOP:
        links = dict(connection.execute(f"SELECT id, {column} FROM {model.table} WHERE {column} IS NOT NULL AND id IN (SELECT {column} FROM {model.table})"))
        for loop in _loops(links):
            first = min(loop)
            at = loop.index(first)
            members = loop[at:] + loop[:at]
            yield model.table, first, column, f"{message} ({' -> '.join([*members, first])})"


def _loops(links: dict[str, str]) -> Iterator[list[str]]:
    """Each loop of ``links`` (record -> the record it links to), once, in link order."""
    done: set[str] = set()
    for start in sorted(links):
        path: dict[str, int] = {}  # the records of this walk, in order
        node: str | None = start
        while node is not None and node not in done and node not in path:
            path[node] = len(path)
            node = links.get(node)
        if node is not None and node in path:  # the walk came back to a record of its own
            walked = list(path)
            yield walked[path[node] :]
        done.update(path)


def earliest_day_sql(date: str) -> str:
    """``models.earliest_day`` in SQL, as ISO text, for a partial date given as an SQL expression."""
    return f"CASE length({date}) WHEN 4 THEN {date} || '-01-01' WHEN 7 THEN {date} || '-01' ELSE {date} END"


def latest_day_sql(date: str) -> str:
    """``models.latest_day`` in SQL, as ISO text, for a partial date given as an SQL expression."""
    return f"CASE length({date}) WHEN 4 THEN {date} || '-12-31' WHEN 7 THEN date({date} || '-01', '+1 month', '-1 day') ELSE {date} END"


def check_event_dates(connection: sqlite3.Connection) -> Iterator[Finding]:
    """A child event lies within its parent's dates."""
    # In SQL, not Python functions, because this runs once for every event that has a parent.
    # An event with one date only starts and ends on it.
    child_start, child_end = "coalesce(c.start_date, c.end_date)", "coalesce(c.end_date, c.start_date)"
    parent_start, parent_end = "coalesce(p.start_date, p.end_date)", "coalesce(p.end_date, p.start_date)"
    query = f"""
        SELECT c.id, CASE WHEN c.start_date IS NULL THEN 'end_date' ELSE 'start_date' END, p.id, {parent_start}, {parent_end}
        FROM events c JOIN events p ON p.id = c.parent_id
        WHERE {child_start} IS NOT NULL AND {parent_start} IS NOT NULL AND (
            {latest_day_sql(child_end)} < {earliest_day_sql(parent_start)}
            OR {earliest_day_sql(child_start)} > {latest_day_sql(parent_end)}
            OR {latest_day_sql(child_start)} < {earliest_day_sql(parent_start)}
            OR {earliest_day_sql(child_end)} > {latest_day_sql(parent_end)})"""
    for child, field, parent, start, end in connection.execute(query):
        yield "events", child, field, f"the event lies outside its parent '{parent}' ({start} to {end})"


def check_positions_of_participants(connection: sqlite3.Connection) -> Iterator[Finding]:
    """A participant's position is held by that same participant."""
    query = """
        SELECT pa.id, po.id, po.person_id FROM participants pa JOIN positions po ON po.id = pa.position_id
        WHERE po.person_id != pa.person_id"""
    for row_id, position, holder in connection.execute(query):
        yield "participants", row_id, "position_id", f"position '{position}' is held by '{holder}', not by this participant"


def _some_unknown(connection: sqlite3.Connection, table: str) -> bool:
    """Whether records of ``table`` were found invalid or could not be read: a rule that counts them would be
    wrong, and say something that fixing the problem already reported will change."""
    query = f"SELECT EXISTS (SELECT 1 FROM {REJECTED_IDS_TABLE} WHERE record_table IN (?, '*'))"
    return bool(connection.execute(query, (table,)).fetchone()[0])


def check_preferred_counts(connection: sqlite3.Connection) -> Iterator[Finding]:
    """Where several counts report one number (an event and subject), exactly one is preferred."""
    unknown = _some_unknown(connection, "counts")
    query = """SELECT event_id, subject, group_concat(id, ', '), sum(coalesce(preferred, 0)) FROM counts
               GROUP BY event_id, subject HAVING count(*) > 1 AND sum(coalesce(preferred, 0)) != 1"""
    for event_id, subject, ids, preferred in connection.execute(query):
        first = ids.split(", ")[0]
        if preferred:
            yield "counts", first, "preferred", f"several counts of '{subject}' for '{event_id}' are preferred ({ids}); prefer one"
        elif not unknown:
            yield (
                "counts",
                first,
                "preferred",
                f"several counts of '{subject}' for '{event_id}' ({ids}) and none is preferred; mark the one the dataset prefers with preferred: true",
            )


def check_claims(connection: sqlite3.Connection) -> Iterator[Finding]:
    """Exactly one claim about a field is preferred, and it states the value the record holds."""
    unknown = _some_unknown(connection, "claims")
    query = """SELECT record_table, record_id, field, group_concat(id, ', '), sum(preferred) FROM claims
               GROUP BY record_table, record_id, field HAVING sum(preferred) != 1 ORDER BY min(rowid)"""
    for table, record_id, field, ids, preferred in connection.execute(query).fetchall():
        first = ids.split(", ")[0]
        if preferred:
            yield "claims", first, "preferred", f"{preferred} claims about {table} '{record_id}' field '{field}' are preferred ({ids}); prefer one"
        elif not unknown:
            yield "claims", first, "preferred", f"no claim about {table} '{record_id}' field '{field}' is preferred; mark the one whose value the record holds"
    pairs = connection.execute("SELECT DISTINCT record_table, field FROM claims WHERE preferred ORDER BY 1, 2").fetchall()
    for table, field in pairs:
        model = _AUTHORED_TABLES.get(table)
        if model is None or field not in model.model_fields:
            continue  # reported when the claim was validated
        differing = f"""SELECT c.id, c.value, t."{field}" FROM claims c JOIN "{table}" t ON t.id = c.record_id
                        WHERE c.record_table = ? AND c.field = ? AND c.preferred AND c.value IS NOT CAST(t."{field}" AS TEXT)"""
        for claim_id, value, held in connection.execute(differing, (table, field)):
            said = "no value" if value is None else repr(value)
            holds = "none" if held is None else repr(str(held))
            yield (
                "claims",
                claim_id,
                "value",
                f"the preferred claim states {said}, but the record holds {holds}: the record holds the value the dataset prefers",
            )


ORDERS = (
    ("speeches", ("event_id",), "reported_order", "speeches of event"),
    ("events", ("parent_id",), "sequence", "events inside"),
    ("speech_points", ("speech_id", "kind"), "ordinal", "points of"),
)
"""Numbers that put records in order within a group: each group's run 1, 2, 3 ... with none twice or left out."""


def check_orders(connection: sqlite3.Connection) -> Iterator[Finding]:
    """Where records claim an order (speeches in reported order, sub-events in sequence, points by
    ordinal), the numbers of a group run from 1 with none repeated and none missing."""
    for table, group, column, what in ORDERS:
        if _some_unknown(connection, table):
            continue  # a number missing may be that of a record already reported
        keys = ", ".join(group)
        query = f"""SELECT {keys}, group_concat({column}, ','), count(*), count(DISTINCT {column}), max({column}) FROM {table}
                    WHERE {column} IS NOT NULL AND {" AND ".join(f"{name} IS NOT NULL" for name in group)}
                    GROUP BY {keys} HAVING count(*) != count(DISTINCT {column}) OR max({column}) != count(*) ORDER BY {keys}"""
        for *named, numbers, total, distinct, largest in connection.execute(query).fetchall():
            values = sorted(int(number) for number in numbers.split(","))
            where = " AND ".join(f"{name} = ?" for name in group)
            if distinct != total:
                repeated = sorted({value for value in values if values.count(value) > 1})
                said = f"{column} {', '.join(map(str, repeated))} is given to more than one record"
                culprit = repeated[0]
            else:
                said = f"{column} runs to {largest} but {_missing_numbers(values)} is missing: number them 1, 2, 3 ... in order"
                culprit = largest
            (first,) = connection.execute(
                f"SELECT {_key_sql_plain(table)} FROM {table} WHERE {where} AND {column} = ? ORDER BY rowid LIMIT 1 OFFSET ?",
                (*named, culprit, 1 if distinct != total else 0),
            ).fetchone()
            yield table, first, column, f"among the {what} {' / '.join(map(str, named))}: {said}"


def _missing_numbers(values: list[int], at_most: int = 5) -> str:
    """The first numbers from 1 up that sorted, distinct ``values`` lack, found by walking the gaps
    between them (the largest may be too big to count up to)."""
    missing: list[int] = []
    expected = 1
    for value in values:
        missing.extend(range(expected, min(value, expected + at_most - len(missing))))
        if len(missing) >= at_most:
            return ", ".join(map(str, missing)) + " ..."
        expected = value + 1
    return ", ".join(map(str, missing))


def _key_sql_plain(table: str) -> str:
    return " || '|' || ".join(MODELS_BY_TABLE[table].primary_key)


def check_stated_totals(connection: sqlite3.Connection) -> Iterator[Finding]:
    """Where a source states how many items there are, the records add up."""
    for row_id, table, match, expected, as_reported in connection.execute(
        "SELECT id, record_table, match, expected, as_reported FROM stated_totals ORDER BY id"
    ).fetchall():
        conditions = json.loads(match)
        model = _AUTHORED_TABLES.get(table)
        if model is None or any(column not in model.model_fields for column in conditions) or _some_unknown(connection, table):
            continue  # reported when the record was validated, or the records counted are not all known
        where = " AND ".join(f'"{column}" = ?' for column in conditions) or "1"  # quoted: evidence has a column named "end"
        (actual,) = connection.execute(f"SELECT count(*) FROM {table} WHERE {where}", list(conditions.values())).fetchone()
        if actual != expected:
            yield "stated_totals", row_id, "expected", f"the source says {as_reported!r} ({expected}), but {actual} {table} record(s) match {conditions}"


def repeated_citation(evidence_id: str, record_table: str, record_id: str) -> Finding:
    """The finding for a citation that repeats another of the same record (its id names it, as the id is a hash)."""
    return "evidence", evidence_id, "quote", f"the same quote is cited twice for {record_table} '{record_id}'; remove one of the two"


def check_repeated_citations(connection: sqlite3.Connection) -> Iterator[Finding]:
    """A span of a source is cited once for a record's field. Two citations of the same quote get
    the same evidence id, and the second is refused as it is inserted; this finds the same span
    cited in two ways, as with and without ``occurrence: 1``. Quotes of a source whose text the
    project does not carry (or could not read) have no span, and are not compared."""
    span = ("record_table", "record_id", "field", "source_id", "start", '"end"')
    query = (
        f"SELECT e.id, e.record_table, e.record_id FROM evidence e JOIN "
        f"(SELECT {', '.join(span)} FROM evidence WHERE start IS NOT NULL GROUP BY {', '.join(span)} HAVING count(*) > 1) d "
        f"ON {' AND '.join(f'e.{column} IS d.{column}' for column in span)} ORDER BY e.rowid"
    )
    for evidence_id, record_table, record_id in connection.execute(query):
        yield repeated_citation(evidence_id, record_table, record_id)


CROSS_RECORD_CHECKS = (
    check_references,
    check_repeated_citations,
    check_parent_cycles,
    check_event_dates,
    check_positions_of_participants,
    check_preferred_counts,
    check_claims,
    check_orders,
    check_stated_totals,
)


def cross_record_findings(connection: sqlite3.Connection) -> list[Finding]:
    note_rejected_ids(connection, ())  # the checks read the table, which may have no rows
    return [finding for check in CROSS_RECORD_CHECKS for finding in check(connection)]


def locate(data_dir: Path, findings: Iterable[Finding]) -> list[Problem]:
    """Turn findings into problems with file and line, reading the input again to find each record."""
    wanted: dict[tuple[str, str], list[tuple[str | None, str]]] = {}
    for table, key, field, message in findings:
        details = wanted.setdefault((table, key), [])
        if (field, message) not in details:  # an id used three times is found twice, but is one problem per record
            details.append((field, message))
    problems: list[Problem] = []
    found: set[tuple[str, str]] = set()
    validator = RecordValidator(data_dir, [])
    for raw in read_records(data_dir, []):
        for record, location in validator.validate(raw):
            ident = (record.table, record.key())
            for field, message in wanted.get(ident, []):
                problems.append(Problem(location, message, field))
                found.add(ident)
    for ident, details in wanted.items():
        if ident not in found:
            problems.extend(Problem(Location(f"{ident[0]} '{ident[1]}'"), message, field) for field, message in details)
    return problems


def _key_sql(model: type[Record]) -> str:
    return " || '|' || ".join(f"t.{name}" for name in model.primary_key)
