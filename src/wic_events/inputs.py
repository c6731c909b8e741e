"""The input: record files under data/ (JSON bundles, JSON Lines and CSV), read into located raw records.

Every record comes out with its table and the place it was read from, so that
any later stage can say exactly where a problem lies. Reading streams: a JSON
Lines or CSV file of any size is read one line at a time.

Layout rules:

* ``*.json`` files are bundles (see ``schemas.bundle_model``), checked against
  ``schema/bundle.schema.json`` with ``jsonschema``.
* ``*.csv`` and ``*.jsonl`` files hold records of one table: the file's stem when the
  file lies directly in data/ (``data/people.csv``), otherwise the name of its top
  folder (``data/events/part-001.jsonl``).
* Records of the ``sources`` table live under ``data/sources/``, which is read first,
  so that evidence anywhere else can be checked against the source texts, and no
  other records do. Other files there (the source documents themselves) are read
  only through a source's ``file``.
"""

from __future__ import annotations

import csv
import errno
import json
import json.decoder
import json.scanner
import os
import re
import stat
from collections.abc import Generator, Iterator
from functools import cache
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema

from .checkout import checkout_root
from .models import MODELS_BY_TABLE, PATTERN_DESCRIPTIONS, RECORD_MODELS, Source
from .problems import InvalidData, Location, Problem
from .schemas import bundle_model

RECORD_SUFFIXES = (".json", ".jsonl", ".csv")
AUTHORED_MODELS = {model.table: model for model in RECORD_MODELS}
"""The tables records are written for; the build computes the others (source_sentences, build_info)."""
SOURCES_FOLDER = "sources"


class RawRecord(NamedTuple):
    """A record as written in a file, before validation (a tuple: one is made for every record read)."""

    table: str
    data: dict[str, Any]
    location: Location
    default_source_id: str | None = None
    valid: bool = True
    """False when reading already found the record invalid (its problems are reported): it is
    passed on only so that references to it are not reported as missing too."""
    unit: int = 0
    """The reading unit the record came from (see ``Share``); -1 for a record of a source that
    another process reports, read here only for its text."""


CHUNK_UNITS = 2_000


class Share(NamedTuple):
    """The part of the input one of several validating processes reads.

    The input is cut into units in reading order, each JSON Lines line, CSV row and bundle
    being one, and the units into chunks of CHUNK_UNITS, dealt out in turn: process ``worker``
    of ``workers`` reads chunks worker, worker + workers, ... It skips the other units unparsed, and
    reports only the problems in its own: a problem of a whole file belongs to the chunk the
    file starts in, or, if it is found at the end ("the file is empty"), to the chunk of the
    file's last unit. Sources, read first, are outside the units: every process reads them
    all, as evidence is checked against their texts, and process 0 reports them.
    """

    worker: int = 0
    workers: int = 1

    def owns(self, unit: int) -> bool:
        return chunk_of(unit) % self.workers == self.worker


def chunk_of(unit: int) -> int:
    return unit // CHUNK_UNITS


EVERYTHING = Share()


class ChunkStart(NamedTuple):
    """Comes from read_share before anything (a record or a problem) of the next chunk of a
    share other than the whole, so that each problem is reported with the chunk it is in."""

    chunk: int


class UnknownRecords(NamedTuple):
    """Comes from read_share where records could be there but are not known: the rest of a CSV
    file after a malformed row or of a file that failed to read, or a bundle's list under a key
    that names no table (``*``).
    References into ``table`` are then not reported missing: they may name one of those."""

    table: str


def default_data_dir() -> Path:
    """The repository's data/ when running from a checkout, else the copy inside the package."""
    root = checkout_root()
    return root / "data" if root else Path(__file__).resolve().parent / "data"


def record_files(data_dir: Path) -> list[Path]:
    """Record files in reading order: data/sources/ first, then the rest by path."""
    files = [path for path in _files_under(data_dir) if path.suffix.lower() in RECORD_SUFFIXES]
    return sorted(files, key=lambda path: (path.relative_to(data_dir).parts[0] != SOURCES_FOLDER, path.as_posix()))


def input_files(data_dir: Path) -> list[Path]:
    """Every file under data_dir that the build reads, record files and carried documents alike."""
    return sorted(_files_under(data_dir))


def _files_under(data_dir: Path) -> Iterator[Path]:
    """Every file under ``data_dir``, at any depth, but hidden ones (a name starting with a dot,
    as editors' and systems' own files have) and those in hidden folders.

    Raises InvalidData for a folder that cannot be listed (the records in it would otherwise be
    left out without a word), and for anything that is not a regular file or folder of the data
    folder's own: a link to a folder, or to a file outside the data folder, a link to nothing or
    to itself, a FIFO, a socket or a device. Such a thing is named, never read.
    """

    def refuse(error: OSError) -> None:
        folder = Path(error.filename or data_dir)
        where = f"{folder.relative_to(data_dir).as_posix()}/" if folder != data_dir else "."
        raise InvalidData([Problem(Location(where), f"cannot read the folder: {error.strerror or error}")])

    root = data_dir.resolve()
    for folder, subfolders, names in os.walk(data_dir, onerror=refuse):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in subfolders:
            if Path(folder, name).is_symlink():
                _refuse(data_dir, Path(folder, name), "is a link to a folder, which is not followed; move the folder here instead")
        for name in names:
            if name.startswith("."):
                continue
            path = Path(folder, name)
            try:
                if path.is_symlink():
                    target = path.resolve(strict=True)
                    if not target.is_relative_to(root):
                        _refuse(data_dir, path, "is a link to a file outside the data folder; copy the file here instead")
                mode = path.stat().st_mode
            except FileNotFoundError:
                _refuse(data_dir, path, "is a link to nothing (its target is missing)")
            except RuntimeError:  # Python before 3.13 says a loop this way
                _refuse(data_dir, path, "is a link that leads back to itself")
            except OSError as error:
                if error.errno == errno.ELOOP:
                    _refuse(data_dir, path, "is a link that leads back to itself")
                refuse(error)  # a folder that can be listed but not entered
            if not stat.S_ISREG(mode):
                _refuse(data_dir, path, "is not a regular file (a FIFO, socket or device); only files are read")
            yield path


def _refuse(data_dir: Path, path: Path, why: str) -> None:
    raise InvalidData([Problem(Location(path.relative_to(data_dir).as_posix()), why)])


def read_records(data_dir: Path, problems: list[Problem]) -> Iterator[RawRecord]:
    """Yield every record under ``data_dir``; append what cannot be read to ``problems`` (see read_share)."""
    return (item for item in read_share(data_dir, problems, EVERYTHING) if type(item) is RawRecord)


def read_share(
    data_dir: Path, problems: list[Problem], share: Share, files_with_records: set[str] | None = None
) -> Iterator[RawRecord | ChunkStart | UnknownRecords]:
    """Yield every record under ``data_dir`` of ``share``; append what cannot be read to ``problems``.

    A file none of whose records could be read ends with a placeholder record (no data, not
    valid) for its table, or for every table (``*``) if it is a bundle: what it holds is unknown,
    so references into those tables are not reported missing on its account. With a share
    other than the whole, "none" means none in the share: the file is unread only if it is not
    in any share's ``files_with_records``, which gets the file of every record yielded.

    A ChunkStart comes before each chunk. With a share other than the whole, the records of
    sources another process reports come with unit -1: they are read only for their texts.
    """
    units = _Units(share)
    for path in record_files(data_dir):
        relative = path.relative_to(data_dir).as_posix()
        in_sources_folder = relative.startswith(SOURCES_FOLDER + "/")
        if in_sources_folder:
            reports = share.worker == 0
            file_units = _Units(EVERYTHING, stamp=0 if reports else -1)
        else:
            reports = share.owns(units.next)
            file_units = units
        # Problems of the whole file are reported by one process only; those of a unit, by its
        # owner, except in sources, all of whose problems are reported by one process.
        file_problems = problems if reports else []
        unit_problems = file_problems if file_units is not units else problems
        if reports and (start := file_units.enter(file_units.next)):
            yield start  # before any problem of the whole file
        problems_before, yielded = len(problems), 0
        table = "*"
        counted: Generator[RawRecord | ChunkStart | UnknownRecords, None, int]
        if path.suffix.lower() == ".json":
            unit = file_units.take()
            bundle = _read_bundle(path, relative, file_problems, unit) if unit is not None else iter(())
            counted = _in_their_folder(bundle, in_sources_folder, problems, file_problems)
        else:
            table = _table_for(path.relative_to(data_dir))
            if table not in AUTHORED_MODELS:
                file_problems.append(Problem(Location(relative), f"no table named {table!r}; expected one of: {', '.join(m.table for m in RECORD_MODELS)}"))
                continue
            reader = _read_jsonl if path.suffix.lower() == ".jsonl" else _read_csv
            counted = reader(path, relative, table, file_problems, unit_problems, file_units)
            if (table == Source.table) != in_sources_folder:  # records of a file out of its place
                counted = _in_their_folder(counted, in_sources_folder, problems, file_problems)
        try:
            yielded = yield from counted
        except OSError as error:  # a bundle that cannot be read (the other readers say so themselves)
            file_problems.append(cannot_read(relative, error))
        if yielded and files_with_records is not None:
            files_with_records.add(relative)
        if yielded == 0 and len(problems) > problems_before:
            yield RawRecord(table, {}, Location(relative), valid=False)
        if yielded == 0 and file_units is not units and (file_problems or len(problems) > problems_before):
            # Every process reads the sources, one reports their problems: each must know that
            # sources may be missing, so as not to say that a record cites one that is not there.
            yield UnknownRecords(Source.table)


def _in_their_folder(
    records: Iterator[RawRecord | ChunkStart | UnknownRecords], in_sources_folder: bool, problems: list[Problem], file_problems: list[Problem]
) -> Generator[RawRecord | ChunkStart | UnknownRecords, None, int]:
    """The records of a bundle, or of a file in the wrong folder, leaving out (and reporting) those
    in the wrong place; returns how many it yielded."""
    yielded = 0
    for record in records:
        if type(record) is not RawRecord:  # a ChunkStart or UnknownRecords
            yield record
            continue
        if record.table == Source.table and not in_sources_folder:
            problems.append(Problem(record.location, "source records belong under data/sources/, which is read first"))
            continue
        if record.table != Source.table and in_sources_folder:
            # Read before every source text is known, its quotes could not all be checked.
            file_problems.append(
                Problem(
                    record.location, f"only source records go under data/sources/, which is read first; write these {record.table} records in another folder"
                )
            )
            continue
        yielded += 1
        yield record
    return yielded


def cannot_read(relative: str, error: OSError) -> Problem:
    """The problem of an unreadable file: permissions, a file that vanished, an I/O error."""
    return Problem(Location(relative), f"cannot read the file: {error.strerror or error}")


class _Units:
    """Numbers the units read (see ``Share``) and says which are the share's own."""

    def __init__(self, share: Share, stamp: int | None = None):
        self.share = share
        self.stamp = stamp  # a number every unit is given instead of its own
        self.next = 0
        self.chunk: int | None = None  # of the units read last
        self.start: ChunkStart | None = None
        """Set by ``take`` when the unit it gave begins a chunk: the reader yields it (see ``started``)."""
        self._chunk_end = 0  # ownership is decided once a chunk, not for every unit: take runs for every record
        self._owned = False

    def take(self) -> int | None:
        """The next unit's number if the share owns it, else None: it is to be skipped unread."""
        unit = self.next
        self.next = unit + 1
        if unit >= self._chunk_end:
            self._chunk_end = (chunk_of(unit) + 1) * CHUNK_UNITS
            self._owned = self.share.owns(unit)
            if self._owned:
                self.start = self.enter(unit)
        if not self._owned:
            return None
        return unit if self.stamp is None else self.stamp

    def started(self) -> ChunkStart:
        """The ChunkStart ``take`` set, once (called only when there is one)."""
        start, self.start = self.start, None
        assert start is not None
        return start

    def enter(self, unit: int) -> ChunkStart | None:
        """A ChunkStart if ``unit``, one of the share's own, is the first read of its chunk."""
        if self.stamp is not None or chunk_of(unit) == self.chunk:
            return None
        self.chunk = chunk_of(unit)
        return ChunkStart(self.chunk)


def _table_for(relative: Path) -> str:
    return relative.stem if len(relative.parts) == 1 else relative.parts[0]


def _decode(path: Path, relative: str, problems: list[Problem]) -> str | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(Problem(Location(relative, line), f"invalid UTF-8 (byte {data[error.start]:#04x} at offset {error.start}); save the file as UTF-8"))
        return None
    if not text.strip():
        problems.append(Problem(Location(relative), "the file is empty; remove it or add records"))
        return None
    return text.removeprefix("\ufeff")


def _is_text(path: Path, relative: str, problems: list[Problem]) -> bool:
    """What ``_decode`` checks (valid UTF-8, not empty), a block at a time, so that memory stays flat."""
    offset = lines = 0
    empty = True
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20) + handle.readline(), b""):  # whole lines: no character is cut
            try:
                text = block.decode("utf-8")
            except UnicodeDecodeError as error:
                line = lines + block[: error.start].count(b"\n") + 1
                problems.append(
                    Problem(
                        Location(relative, line), f"invalid UTF-8 (byte {block[error.start]:#04x} at offset {offset + error.start}); save the file as UTF-8"
                    )
                )
                return False
            empty = empty and not text.strip()
            offset += len(block)
            lines += block.count(b"\n")
    if empty:
        problems.append(Problem(Location(relative), "the file is empty; remove it or add records"))
    return not empty


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):  # looked for only when there is one: this runs for every object read
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key '{key}' in one object")
            seen.add(key)
    return result


_JSON = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys)
_SCAN = _JSON.scan_once  # type: ignore[attr-defined]  # the C scanner the decoder made; typeshed does not list it


UNPARSED = object()
"""What _parse_json returns for text that is not JSON (None is JSON's null)."""


def _parse_json(text: str, location: Location, problems: list[Problem]) -> Any:
    try:
        return _JSON.decode(text)
    except json.JSONDecodeError as error:
        line = location.line + error.lineno - 1 if location.line else error.lineno
        # The record template's comments are the likeliest cause: JSON has none.
        hint = "; JSON has no comments: delete the // lines" if text[error.pos : error.pos + 2] in ("//", "/*") else ""
        problems.append(Problem(Location(location.file, line), f"malformed JSON: {error.msg} (line {line}, column {error.colno}){hint}"))
    except ValueError as error:
        problems.append(_value_problem(text, location, error))
    except RecursionError:
        problems.append(Problem(location, "malformed JSON: arrays or objects nested too deeply to read"))
    return UNPARSED


class _DuplicateKey(ValueError):
    def __init__(self, key: str, position: int):
        super().__init__(key)
        self.key, self.position = key, position


def _duplicate_key_at(text: str) -> _DuplicateKey | None:
    """The first key repeated within one object, and where that object starts: read again with
    json's own pure-Python scanner, whose objects know their position (the fast one's do not)."""
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any, object_hook: Any, object_pairs_hook: Any, memo: Any = None) -> Any:
        position = s_and_end[1] - 1  # of the opening brace

        def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    raise _DuplicateKey(key, position)
                seen.add(key)
            return dict(pairs)

        return json.decoder.JSONObject(s_and_end, strict, scan_once, object_hook, unique, memo)  # type: ignore[attr-defined]

    decoder.parse_object = parse_object  # type: ignore[attr-defined]  # an instance of our own, not json's
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except _DuplicateKey as found:
        return found
    except (ValueError, RecursionError):
        pass
    return None


_LONG_NUMBER = re.compile(r"[0-9]{4301,}")


def _value_problem(text: str, location: Location, error: ValueError) -> Problem:
    """The problem of JSON that parses but cannot be taken: a key twice in one object, a number too long."""

    def line_at(position: int) -> int:
        return (location.line or 1) + text.count("\n", 0, position)

    if "duplicate key" in str(error) and (found := _duplicate_key_at(text)) is not None:
        return Problem(
            Location(location.file, line_at(found.position)), f"the key '{found.key}' is given twice in the object that starts on this line; keep one"
        )
    if (long := _LONG_NUMBER.search(text)) is not None:
        digits = len(long.group())
        return Problem(
            Location(location.file, line_at(long.start())), f"a number of {digits} digits is too long to read; numbers here fit in 64 bits (at most 19 digits)"
        )
    return Problem(location, f"malformed JSON: {error}")


def _parse_json_line(line: str, location: Location, problems: list[Problem]) -> Any:
    """What _parse_json gives for one line of JSON Lines, the line end left on.

    Most lines are one object and nothing else: the decoder's scanner reads them without the
    checks around it, which cost as much again; any other line goes the full way, which says
    what is wrong with it.
    """
    try:
        value, end = _SCAN(line, 0)
    except (StopIteration, ValueError, RecursionError):
        pass
    else:
        if end == len(line) or not line[end:].strip(" \t\n\r"):  # JSON's own spaces: others are extra data
            return value
    return _parse_json(line.rstrip("\r\n"), location, problems)  # so an error at the line end is on this line


def _json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    kinds = {list: "a list", str: "a string", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


@cache
def _bundle_validator() -> jsonschema.protocols.Validator:
    schema = bundle_model().model_json_schema(by_alias=True)
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)


def _read_bundle(path: Path, relative: str, problems: list[Problem], unit: int = 0) -> Iterator[RawRecord | UnknownRecords]:
    text = _decode(path, relative, problems)
    if text is None:
        return
    bundle = _parse_json(text, Location(relative), problems)
    if bundle is UNPARSED:
        return
    if not isinstance(bundle, dict):
        problems.append(Problem(Location(relative), f"a bundle is a JSON object with a list per table, not {_json_kind(bundle)}"))
        return
    rejected: set[tuple[str, int]] = set()
    errors = sorted(_bundle_validator().iter_errors(bundle), key=lambda e: [f"{part:09d}" if isinstance(part, int) else str(part) for part in e.absolute_path])
    for error in errors:
        where = list(error.absolute_path)
        if len(where) >= 2 and isinstance(where[1], int):
            rejected.add((where[0], where[1]))
        field = _blamed_field(where, _named_keys(error))
        problems.append(Problem(Location(relative, path=_key_path(where)), _schema_message(error), field))
    if any(list(error.absolute_path) == ["source_id"] for error in errors):
        return  # every citation would repeat that the bundle names no valid source; the one problem above says so
    if _SURROGATE_ESCAPE.search(text):
        for parts in _lone_surrogates(bundle, []):
            if len(parts) >= 2 and isinstance(parts[1], int) and (parts[0], parts[1]) not in rejected:
                rejected.add((parts[0], parts[1]))
                field = _blamed_field(parts, [])
                problems.append(Problem(Location(relative, path=_key_path(parts)), LONE_SURROGATE, field))
    source_id = bundle.get("source_id") if isinstance(bundle.get("source_id"), str) else None
    for table, records in bundle.items():
        if table not in AUTHORED_MODELS or not isinstance(records, list):  # the schema errors above say why
            if table not in MODELS_BY_TABLE and isinstance(records, list) and records:  # perhaps a table's name misspelled
                yield UnknownRecords("*")
            continue
        for position, record in enumerate(records):
            if not isinstance(record, dict):
                continue
            location = Location(relative, path=f"{table}[{position}]")
            yield RawRecord(table, record, location, source_id, (table, position) not in rejected, unit)


_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = "text with a lone surrogate (an escape like \\ud800 without its pair), which is no character and cannot be stored"


def _lone_surrogates(value: Any, parts: list[Any]) -> Iterator[list[Any]]:
    """Key paths to the strings holding a lone surrogate, which JSON can escape but UTF-8 cannot encode.

    Pydantic rejects them in plain text fields only, so they are looked for here, and only
    when the JSON text holds such an escape at all.
    """
    if isinstance(value, str):
        if not encodable(value):
            yield parts
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _lone_surrogates(item, [*parts, position])
    elif isinstance(value, dict):
        for key, item in value.items():
            if not encodable(key):
                yield [*parts, key]
            yield from _lone_surrogates(item, [*parts, key])


def encodable(text: str) -> bool:
    """Whether SQLite can store the text: UTF-8 has no lone surrogate (which JSON can escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _key_path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:  # a key with spaces, control characters or lone surrogates is shown quoted and escaped
            text += f"[{part!r}]"
    return text or "(top level)"


def _blamed_field(where: list[Any], named: list[str]) -> str | None:
    """The field a problem at key path ``where`` in a bundle is about: the record's own field, or
    within a citation (``events[0].evidence[0]``) the citation's, as for JSON Lines and CSV records;
    ``named`` are the keys an error of a whole object names (a field missing, or unknown)."""
    inside = where[4:] if len(where) >= 4 and where[2] == "evidence" else where[2:]
    if inside:
        return _field_name(inside[0])
    return ", ".join(map(_field_name, named)) or (_field_name(where[2]) if len(where) >= 3 else None)


def _named_keys(error: jsonschema.ValidationError) -> list[str]:
    """The keys a 'required' or 'additionalProperties' error is about, which jsonschema puts only in its message."""
    if not isinstance(error.instance, dict):
        return []
    if error.validator == "required":
        return [name for name in error.validator_value if name not in error.instance]
    if error.validator == "additionalProperties":
        return [name for name in error.instance if name not in error.schema.get("properties", {})]
    return []


def _field_name(key: Any) -> str:
    return key if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else repr(key)


_JSON_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return f"required field {', '.join(map(repr, _named_keys(error)))} is missing"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"unknown field(s) {', '.join(map(repr, _named_keys(error)))}; allowed fields: {', '.join(allowed)}"
    if error.validator == "pattern":
        expected = PATTERN_DESCRIPTIONS.get(error.validator_value, f"text matching {error.validator_value}")
        return f"expected {expected}, got {_preview(error.instance)}"
    if error.validator in ("maxLength", "minLength") and isinstance(error.instance, str):
        bound = "at most" if error.validator == "maxLength" else "at least"
        plural = "" if error.validator_value == 1 else "s"
        return f"expected {bound} {error.validator_value} character{plural}, got {len(error.instance)} ({_preview(error.instance)})"
    if error.validator == "type":
        return f"expected {_JSON_TYPE_NAMES.get(error.validator_value, error.validator_value)}, got {_preview(error.instance)}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        # An optional field is 'anyOf: [the type, null]': say what was wrong with the type, and that it may be left out.
        nullable = any(option.get("type") == "null" for option in error.validator_value)
        causes = [cause for cause in error.context if cause.schema.get("type") != "null"]
        if not causes:
            return error.message
        if error.instance == "":  # too short and not matching the text pattern: one thing to say
            return "empty text" + (" (or leave the field out)" if nullable else "")
        if all(cause.validator == "type" for cause in causes):
            expected = " or ".join(_JSON_TYPE_NAMES.get(cause.validator_value, str(cause.validator_value)) for cause in causes)
            message = f"expected {expected}, got {_preview(error.instance)}"
        else:
            message = "; ".join(dict.fromkeys(_schema_message(cause) for cause in causes if cause.validator != "type"))
        return message + (" (or leave the field out)" if nullable else "")
    return error.message


def _preview(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _has_text(line: bytes) -> bool:
    """Whether a line counts as written (see _read_jsonl): valid UTF-8, and not only spaces."""
    try:
        return bool(line.decode("utf-8").strip())
    except UnicodeDecodeError:
        return False


def _read_jsonl(
    path: Path, relative: str, table: str, file_problems: list[Problem], problems: list[Problem], units: _Units
) -> Generator[RawRecord | ChunkStart | UnknownRecords, None, int]:
    """The records of a JSON Lines file; returns how many it yielded."""
    first_unit = units.next
    take = units.take
    yielded = 0
    try:
        with path.open("rb") as handle:
            seen_any = False
            for line_number, raw_line in enumerate(handle, start=1):
                unit = take()
                if unit is None:  # another process reads it; whether the file is all blank is every process's to know
                    seen_any = seen_any or _has_text(raw_line)
                    continue
                if units.start:
                    yield units.started()
                location = Location(relative, line_number)
                try:
                    line = raw_line.decode("utf-8")
                except UnicodeDecodeError as error:
                    problems.append(Problem(location, f"invalid UTF-8 (byte {raw_line[error.start]:#04x} at column {error.start + 1}); save the file as UTF-8"))
                    continue
                if line_number == 1:
                    line = line.removeprefix("\ufeff")  # a byte order mark some editors write
                if not line or line.isspace():
                    continue
                seen_any = True
                record = _parse_json_line(line, location, problems)
                if record is UNPARSED:
                    continue
                if not isinstance(record, dict):
                    problems.append(Problem(location, f"each line holds one JSON object, not {_json_kind(record)}"))
                    continue
                if _SURROGATE_ESCAPE.search(line) and (found := list(_lone_surrogates(record, []))):
                    problems.extend(Problem(Location(relative, line_number, _key_path(parts)), LONE_SURROGATE, _field_name(parts[0])) for parts in found)
                    continue
                yielded += 1
                yield RawRecord(table, record, location, None, True, unit)
        # Said by the owner of the file's last line (of the next unit if it has none), as after every line.
        last_unit = max(units.next - 1, first_unit)
        if not seen_any and units.share.owns(last_unit):
            if start := units.enter(last_unit):
                yield start
            problems.append(Problem(Location(relative), "the file is empty; remove it or add records"))
    except OSError as error:  # unreadable: permissions, a file that vanished, an I/O error
        file_problems.append(cannot_read(relative, error))
        yield UnknownRecords(table)  # the rest of the file, which references may name
    return yielded


def _read_csv(
    path: Path, relative: str, table: str, file_problems: list[Problem], problems: list[Problem], units: _Units
) -> Generator[RawRecord | ChunkStart | UnknownRecords, None, int]:
    """The records of a CSV file; returns how many it yielded, those passed on invalid included."""
    yielded = 0
    try:
        if not _is_text(path, relative, file_problems):
            return yielded
        model = AUTHORED_MODELS[table]
        # Streamed, not read whole: CSV files hold the biggest tables. utf-8-sig drops a byte order mark.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle, strict=True)
            try:
                header = next(rows)
                header_problems = _check_header(header, model.model_fields, Location(relative, 1))
                if header_problems:
                    file_problems.extend(header_problems)
                    return yielded
                take, width = units.take, len(header)
                starts_on = rows.line_num + 1
                for row in rows:
                    # line_num is the row's last line; a quoted cell may hold line breaks, and a record is
                    # named by the line it starts on.
                    line, starts_on = starts_on, rows.line_num + 1
                    unit = take()
                    if unit is None:
                        continue
                    if units.start:
                        yield units.started()
                    location = Location(relative, line)
                    if not (row and row[0][:1].strip()) and not "".join(row).strip():  # the whole row only when its start is blank
                        continue
                    if len(row) != width:
                        problems.append(Problem(location, f"{len(row)} cells where the header has {width} ({', '.join(header)})"))
                        # Passed on invalid, with the cells it has: records naming its id are not reported too.
                        yielded += 1
                        yield RawRecord(table, dict(zip(header, row, strict=False)), location, valid=False, unit=unit)
                        continue
                    yielded += 1
                    # An empty cell is a field left out; compress keeps the cells that are not empty.
                    yield RawRecord(table, dict(compress(zip(header, row, strict=True), row)), location, None, True, unit)
            except csv.Error as error:  # it stops the file in every process: its owner is the next unit's
                if (unit := units.take()) is not None:
                    if units.start:
                        yield units.started()
                    problems.append(Problem(Location(relative, rows.line_num), f"malformed CSV: {error}"))
                yield UnknownRecords(table)
    except OSError as error:  # unreadable: permissions, a file that vanished, an I/O error
        file_problems.append(cannot_read(relative, error))
        yield UnknownRecords(table)  # the rest of the file, which references may name
    return yielded


def _check_header(header: list[str], fields: dict[str, Any], location: Location) -> list[Problem]:
    found = []
    unknown = [name for name in header if name not in fields]
    if unknown:
        found.append(Problem(location, f"unknown column(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(fields)}"))
    missing = [name for name, info in fields.items() if info.is_required() and name not in header]
    if missing:
        found.append(Problem(location, f"missing required column(s) {', '.join(map(repr, missing))}"))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        found.append(Problem(location, f"column(s) named twice: {', '.join(map(repr, repeated))}"))
    return found
