"""Exports of the built database to the formats researchers' tools read directly.

``csv``, ``json``, ``jsonl``, ``parquet`` (one file per table), ``datapackage`` (the CSV
files and a Frictionless ``datapackage.json``) and ``popolo`` (one Popolo JSON document).
Every exporter reads the same thing: each table's records, streamed in primary-key order
by ``loader.iter_records``, so memory stays flat however large the tables are. The tables
are those of the models: every authored table, ``source_sentences`` and ``build_info``.

Partial dates: the flat formats (CSV, the data package, Parquet) add, after each date
column, ``<column>_earliest`` and ``<column>_latest``: the first and last day the date can
mean (``2015-12`` -> 2015-12-01 and 2015-12-31), computed by ``models.earliest_day`` and
``models.latest_day``. JSON and JSON Lines hold the records exactly as the models
serialise them, and Popolo keeps the partial dates, which it allows.

Versions: every export carries the package version, schema version and input digest of
the database it came from: in the exported ``build_info`` table, and also in
``datapackage.json``, in the Popolo document's ``meta`` and in each Parquet file's metadata.
"""

from __future__ import annotations

import csv
import functools
import inspect
import itertools
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import IO, Any

from .loader import connect, iter_records, records
from .models import (
    DERIVED_MODELS,
    PARTIAL_DATE_PATTERN,
    RECORD_MODELS,
    SOURCE_TEXTS_TERMS,
    AlternateName,
    BuildInfo,
    Column,
    Event,
    Organization,
    Person,
    Place,
    Position,
    Record,
    Source,
    Speech,
    date_fields,
    earliest_day,
    json_text,
    latest_day,
    reference_fields,
    table_columns,
)
from .problems import CannotWrite

EXPORT_MODELS: tuple[type[Record], ...] = (*RECORD_MODELS, *DERIVED_MODELS)
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
PARQUET_BATCH_ROWS = 10_000
EXTRA_HINT = "pip install 'wic-events[export]'"


def export(
    connection_or_db: sqlite3.Connection | Path | str | None, format: str, output_dir: Path | str, *, raw: bool = False, force: bool = False
) -> list[Path]:
    """Write the database in ``format`` into ``output_dir`` (created if missing); returns the files written.

    ``connection_or_db`` is an open connection, a database path, or None for the
    package's database. The files are written into a scratch folder inside ``output_dir``
    and moved in when all are whole, so that a failed export leaves the folder as it was;
    ``CannotWrite`` says what stood in the way. A folder holding files that no export wrote
    (each export lists its files in ``.wic-events-export.json``) is refused unless ``force``.

    CSV cells (also in the data package) that a spreadsheet would run as a formula, those
    starting with ``= + - @``, a tab or a carriage return, get a ``'`` in front, and so do cells
    already starting with ``'``: removing one leading ``'`` from every cell that has one gives
    the data back. ``raw`` writes every cell as it is.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in export(None, "jsonl", folder)][:3]
    ['sources.jsonl', 'places.jsonl', 'organizations.jsonl']
    """
    if format not in EXPORTERS:
        raise ValueError(f"no export format {format!r}; choose one of: {', '.join(EXPORTERS)}")
    exporter = RAW_EXPORTERS.get(format, EXPORTERS[format]) if raw else EXPORTERS[format]
    output_dir = Path(output_dir)
    if not force:
        _refuse_others_files(output_dir)
    if isinstance(connection_or_db, sqlite3.Connection):
        return _export_into(connection_or_db, exporter, output_dir)
    with closing(connect(connection_or_db)) as connection:
        return _export_into(connection, exporter, output_dir)


EXPORT_MARKER = ".wic-events-export.json"
"""Lists the files the exports into a folder wrote, so that another export may replace them."""
_SCRATCH_PREFIX = ".wic-events-export-"


def _exported_before(output_dir: Path) -> set[str]:
    try:
        return set(json.loads((output_dir / EXPORT_MARKER).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _refuse_others_files(output_dir: Path) -> None:
    """Raise CannotWrite if ``output_dir`` holds anything a wic-events export did not write."""
    if not output_dir.is_dir():
        return
    ours = _exported_before(output_dir) | {EXPORT_MARKER}
    others = sorted(path.name for path in output_dir.iterdir() if path.name not in ours and not path.name.startswith(_SCRATCH_PREFIX))
    if others:
        listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise CannotWrite(
            f"{output_dir} holds files that no wic-events export wrote ({listed}); export into an empty or new folder, or pass --force to write beside them"
        )


def _export_into(connection: sqlite3.Connection, exporter: Callable[[sqlite3.Connection, Path], list[Path]], output_dir: Path) -> list[Path]:
    made = not output_dir.exists()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=_SCRATCH_PREFIX) as scratch:
            targets = {path: output_dir / path.name for path in exporter(connection, Path(scratch))}
            if in_the_way := [target for target in targets.values() if target.is_dir()]:
                raise CannotWrite(f"cannot write {in_the_way[0]}: a folder of that name is in the way")
            marker = Path(scratch) / EXPORT_MARKER
            listed = sorted(_exported_before(output_dir) | {target.name for target in targets.values()})
            marker.write_text(json.dumps({"files": listed}, indent=2) + "\n", encoding="utf-8")
            for path, target in targets.items():
                os.replace(path, target)
            os.replace(marker, output_dir / EXPORT_MARKER)
    except BaseException as error:
        if made and output_dir.is_dir() and not any(output_dir.iterdir()):
            output_dir.rmdir()  # the folder this export made, left as it was: absent
        if isinstance(error, OSError):
            raise CannotWrite.because(output_dir, error) from None
        raise
    return list(targets.values())


# --- columns of the flat formats, derived from the models ------------------------


@functools.cache
def columns(model: type[Record]) -> tuple[Column, ...]:
    """The columns of ``model``'s table in the flat exports, in order: its own, each partial date
    followed by the first and last day it can mean."""
    found: list[Column] = []
    for column in table_columns(model):
        found.append(column)
        if column.constraints.get("pattern") == PARTIAL_DATE_PATTERN:
            found += [
                Column(f"{column.name}_earliest", "date", column.required, f"The first day that {column.name} can mean (derived from {column.name})."),
                Column(f"{column.name}_latest", "date", column.required, f"The last day that {column.name} can mean (derived from {column.name})."),
            ]
    return tuple(found)


def flat_rows(model: type[Record], connection: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """The table's records as flat rows: objects and lists as JSON text, plus the days of each partial date."""
    dates = date_fields(model)
    for record in iter_records(model, connection):
        row = {}
        for name, value in record.model_dump().items():
            # The same JSON text the SQLite column holds, so that every format agrees.
            row[name] = json_text(value) if isinstance(value, (dict, list)) else value
            if name in dates:
                row[f"{name}_earliest"] = earliest_day(value) if value else None
                row[f"{name}_latest"] = latest_day(value) if value else None
        yield row


# --- one file per table ------------------------------------------------------------


def _per_table(suffix: str, write: Callable[[type[Record], sqlite3.Connection, Path], None]):
    """An exporter writing ``<table>.<suffix>`` for every table with ``write``."""

    def exporter(connection: sqlite3.Connection, output_dir: Path) -> list[Path]:
        paths = []
        for model in EXPORT_MODELS:
            path = output_dir / f"{model.table}.{suffix}"
            write(model, connection, path)
            paths.append(path)
        return paths

    return exporter


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
"""What a spreadsheet reads as the start of a formula (OWASP's list), and the escape itself, so that the escape can be undone."""


def spreadsheet_safe(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, with a ' in front; anything else as it is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv_writer(escape: bool) -> Callable[[type[Record], sqlite3.Connection, Path], None]:
    def write_csv(model: type[Record], connection: sqlite3.Connection, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, [column.name for column in columns(model)])
            writer.writeheader()
            for row in flat_rows(model, connection):
                # csv writes None as an empty cell; booleans are spelled as in JSON.
                writer.writerow(
                    {
                        name: ("true" if value else "false") if isinstance(value, bool) else spreadsheet_safe(value) if escape else value
                        for name, value in row.items()
                    }
                )

    return write_csv


def _write_json(model: type[Record], connection: sqlite3.Connection, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        _write_json_array(handle, (record.model_dump_json() for record in iter_records(model, connection)))
        handle.write("\n")


def _write_jsonl(model: type[Record], connection: sqlite3.Connection, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in iter_records(model, connection):
            handle.write(record.model_dump_json() + "\n")


def _write_json_array(handle: IO[str], items: Iterable[str]) -> None:
    """Write a JSON array of already serialised items, one per line, without holding them all."""
    handle.write("[")
    for position, item in enumerate(items):
        handle.write(",\n" if position else "\n")
        handle.write(item)
    handle.write("\n]")


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as error:
        raise ImportError(f"the parquet export needs pyarrow; install it with: {EXTRA_HINT}") from error
    return pyarrow


def arrow_schema(model: type[Record]):
    """The Arrow schema of ``model``'s table: types and nullability from the model."""
    pa = _pyarrow()
    return pa.schema([column.to_arrow(pa) for column in columns(model)])


def _write_parquet(model: type[Record], connection: sqlite3.Connection, path: Path) -> None:
    pa = _pyarrow()
    (info,) = records(BuildInfo, connection)
    schema = arrow_schema(model).with_metadata({f"wic_events.{name}": getattr(info, name) for name in ("package_version", "schema_version", "input_digest")})
    rows = flat_rows(model, connection)
    with pa.parquet.ParquetWriter(path, schema) as writer:
        while batch := list(itertools.islice(rows, PARQUET_BATCH_ROWS)):
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))


def _export_parquet(connection: sqlite3.Connection, output_dir: Path) -> list[Path]:
    _pyarrow()  # fail with the install hint before writing anything
    return _per_table("parquet", _write_parquet)(connection, output_dir)


# --- Frictionless Data Package -----------------------------------------------------


def _datapackage(write_csv: Callable[[type[Record], sqlite3.Connection, Path], None]) -> Callable[[sqlite3.Connection, Path], list[Path]]:
    return lambda connection, output_dir: _export_datapackage(connection, output_dir, write_csv)


def _export_datapackage(connection: sqlite3.Connection, output_dir: Path, write_csv: Callable[[type[Record], sqlite3.Connection, Path], None]) -> list[Path]:
    paths = _per_table("csv", write_csv)(connection, output_dir)
    (info,) = records(BuildInfo, connection)
    descriptor = {
        "profile": "tabular-data-package",
        "name": "wic-events",
        "title": "World Internet Conference events",
        "description": "Events, speeches, people, organizations and places of the World Internet Conference, each fact tied to its source. "
        + SOURCE_TEXTS_TERMS,
        "version": info.package_version,
        "schema_version": info.schema_version,
        "input_digest": info.input_digest,
        "licenses": [LICENSE],
        "sources": [{"title": source.title or source.id, **({"path": source.url} if source.url else {})} for source in iter_records(Source, connection)],
        "resources": [_resource(model) for model in EXPORT_MODELS],
    }
    path = output_dir / "datapackage.json"
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*paths, path]


def _resource(model: type[Record]) -> dict[str, Any]:
    """A tabular data resource with its Table Schema, derived from the model."""
    schema: dict[str, Any] = {"fields": [column.to_frictionless() for column in columns(model)]}
    if model.primary_key:
        schema["primaryKey"] = list(model.primary_key)
    schema["foreignKeys"] = [
        # An empty resource name is Table Schema's way to point at the same table.
        {"fields": column, "reference": {"resource": "" if target == model.table else target, "fields": "id"}}
        for column, target in reference_fields(model).items()
    ]
    return {
        "name": model.table,
        "path": f"{model.table}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": inspect.cleandoc(model.__doc__ or ""),
        "schema": schema,
    }


# --- Popolo ------------------------------------------------------------------------


def _export_popolo(connection: sqlite3.Connection, output_dir: Path) -> list[Path]:
    """One Popolo JSON document: persons, organizations, areas, memberships, events and speeches.

    Places become areas; positions become memberships (``role`` is the post's title, and
    a post of a country points to that country's area; a post known only on the day a source
    states it, ``as_of``, has no Popolo date); an event's theme is its description, and the
    people taking part in it, in any role, are its ``attendees``; a speech's ``creator_id`` is
    the person who delivered it, and its ``attribution_text`` names whose speech it is when it
    was read out on someone's behalf. Other names carry their BCP 47 language tag in ``note``.
    Participants' roles, counts, speech points and evidence have no Popolo class; the other
    formats hold them.
    """
    (info,) = records(BuildInfo, connection)
    lookup = _lookup(connection)
    countries = {place.country_code: place.id for place in iter_records(Place, connection, kind="country") if place.country_code}
    collections = {
        "persons": (_person(person, connection) for person in iter_records(Person, connection)),
        "organizations": (_organization(organization, connection, countries) for organization in iter_records(Organization, connection)),
        "areas": (_area(place) for place in iter_records(Place, connection)),
        "memberships": (_membership(position, countries) for position in iter_records(Position, connection)),
        "events": (_event(event, lookup, connection) for event in iter_records(Event, connection)),
        "speeches": (_speech(speech, lookup) for speech in iter_records(Speech, connection)),
    }
    meta = {**info.model_dump(include={"package_version", "schema_version", "input_digest", "built_at"}), "license": LICENSE["name"]}
    path = output_dir / "popolo.json"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"meta": ' + json.dumps(meta))
        for key, objects in collections.items():
            handle.write(f',\n"{key}": ')
            _write_json_array(handle, (json.dumps(_without_empty_properties(item), ensure_ascii=False) for item in objects))
        handle.write("}\n")
    return [path]


def _lookup(connection: sqlite3.Connection) -> Callable[[type[Record], str | None], Any]:
    """A cached fetch of one record by id, for the names and URLs Popolo objects repeat."""

    @functools.lru_cache(maxsize=1024)
    def find(model: type[Record], record_id: str | None) -> Record | None:
        found = records(model, connection, id=record_id) if record_id else []
        return found[0] if found else None

    return find


def _without_empty_properties(item: dict[str, Any]) -> dict[str, Any]:
    """Leave out empty properties: Popolo readers treat a missing property as unknown."""
    return {key: value for key, value in item.items() if value not in (None, [])}


def _other_names(connection: sqlite3.Connection, table: str, entity_id: str) -> list[dict[str, str]]:
    return [{"name": other.name, "note": other.language} for other in iter_records(AlternateName, connection, entity_table=table, entity_id=entity_id)]


def _person(person: Person, connection: sqlite3.Connection) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "sort_name": person.sort_name,
        "other_names": _other_names(connection, "people", person.id),
        "identifiers": [{"identifier": person.wikidata_id, "scheme": "wikidata"}] if person.wikidata_id else [],
    }


def _organization(organization: Organization, connection: sqlite3.Connection, countries: dict[str, str]) -> dict[str, Any]:
    abbreviation = [{"name": organization.abbreviation, "note": "abbreviation"}] if organization.abbreviation else []
    return {
        "id": organization.id,
        "name": organization.name,
        "classification": organization.kind,
        "other_names": abbreviation + _other_names(connection, "organizations", organization.id),
        "area_id": countries.get(organization.country_code) if organization.country_code else None,
    }


def _area(place: Place) -> dict[str, Any]:
    located = place.latitude is not None and place.longitude is not None
    return {
        "id": place.id,
        "name": place.name,
        "classification": place.kind,
        "parent_id": place.parent_id,
        "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]} if located else None,
    }


def _membership(position: Position, countries: dict[str, str]) -> dict[str, Any]:
    return {
        "id": position.id,
        "person_id": position.person_id,
        "organization_id": position.organization_id,
        "role": position.title,
        "area_id": countries.get(position.country_code) if position.country_code else None,
        "start_date": position.start_date,
        "end_date": position.end_date,
    }


def _event(event: Event, lookup: Callable[[type[Record], str | None], Any], connection: sqlite3.Connection) -> dict[str, Any]:
    place = lookup(Place, event.place_id)
    source = lookup(Source, event.source_id)
    # Each person once, however many roles they had, in the order their participations were written.
    attendees = connection.execute(
        "SELECT pe.id, pe.name FROM participants pa JOIN people pe ON pe.id = pa.person_id WHERE pa.event_id = ? GROUP BY pe.id ORDER BY min(pa.rowid)",
        (event.id,),
    )
    return {
        "id": event.id,
        "name": event.name,
        "classification": event.kind,
        "description": event.theme,
        "parent_id": event.parent_id,
        "start_date": event.start_date,
        "end_date": event.end_date,
        "location": place.name if place else None,
        "sources": [{"url": source.url, "note": source.title}] if source and source.url else [],
        "attendees": [{"id": person_id, "name": name} for person_id, name in attendees],
    }


def _speech(speech: Speech, lookup: Callable[[type[Record], str | None], Any]) -> dict[str, Any]:
    speaker = lookup(Person, speech.speaker_id).name
    author = lookup(Person, speech.on_behalf_of_id)
    return {
        "id": speech.id,
        "creator_id": speech.speaker_id,
        "attribution_text": f"{speaker}, on behalf of {author.name}" if author else speaker,
        "event_id": speech.event_id,
        "title": speech.title,
        "type": "speech",
        "position": speech.reported_order,
    }


EXPORTERS: dict[str, Callable[[sqlite3.Connection, Path], list[Path]]] = {
    "csv": _per_table("csv", _csv_writer(escape=True)),
    "json": _per_table("json", _write_json),
    "jsonl": _per_table("jsonl", _write_jsonl),
    "datapackage": _datapackage(_csv_writer(escape=True)),
    "popolo": _export_popolo,
    "parquet": _export_parquet,
}
RAW_EXPORTERS = {"csv": _per_table("csv", _csv_writer(escape=False)), "datapackage": _datapackage(_csv_writer(escape=False))}
"""The formats whose cells are escaped for spreadsheets, without the escape."""
FORMATS = tuple(EXPORTERS)
