"""Exports, each checked with its own format's tools, and the loader's conveniences."""

from __future__ import annotations

import csv
import doctest
import inspect
import json
import re
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

import wic_events
from conftest import ROOT, missing_requirement
from wic_events import exports, loader
from wic_events.cli import cli
from wic_events.compiling import build
from wic_events.models import MODELS_BY_TABLE, RECORD_MODELS, BuildInfo, Citation, date_fields
from wic_events.schemas import bundle_model, entry_model

TABLES = list(MODELS_BY_TABLE)
POPOLO_SCHEMAS = ROOT.parent / "shared" / "popolo-schemas"
POPOLO_BASE = "http://www.popoloproject.com/schemas/"
POPOLO_CLASSES = {"persons": "person", "organizations": "organization", "areas": "area", "memberships": "membership", "events": "event", "speeches": "speech"}


@pytest.fixture(scope="module")
def exported(built_db, tmp_path_factory) -> dict[str, Path]:
    """Every format exported once from the built database, by format."""
    root = tmp_path_factory.mktemp("exports")
    for format in exports.FORMATS:
        exports.export(built_db, format, root / format)
    return {format: root / format for format in exports.FORMATS}


@pytest.fixture(scope="module")
def sqlite_counts(built_db) -> dict[str, int]:
    with closing(sqlite3.connect(built_db)) as connection:
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in TABLES}


@pytest.fixture
def use_built_db(monkeypatch, built_db):
    monkeypatch.setenv("WIC_EVENTS_DB", str(built_db))


# --- every format --------------------------------------------------------------------


@pytest.mark.parametrize("format", ["csv", "json", "jsonl", "parquet"])
def test_table_formats_write_one_file_per_table(exported, format):
    assert sorted(path.name for path in exported[format].iterdir()) == sorted([f"{table}.{format}" for table in TABLES] + [exports.EXPORT_MARKER])


def test_the_data_package_and_popolo_files(exported):
    assert sorted(path.name for path in exported["datapackage"].iterdir()) == sorted(
        [f"{table}.csv" for table in TABLES] + ["datapackage.json", exports.EXPORT_MARKER]
    )
    assert sorted(path.name for path in exported["popolo"].iterdir()) == [exports.EXPORT_MARKER, "popolo.json"]


def test_json_and_jsonl_hold_the_records_as_the_models_serialise_them(exported, connection):
    for model in MODELS_BY_TABLE.values():
        expected = [json.loads(record.model_dump_json()) for record in loader.records(model, connection)]
        assert json.loads((exported["json"] / f"{model.table}.json").read_text(encoding="utf-8")) == expected
        lines = (exported["jsonl"] / f"{model.table}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == expected


def test_an_unknown_format_is_refused(built_db, tmp_path):
    with pytest.raises(ValueError, match="choose one of: csv, json, jsonl, datapackage, popolo, parquet"):
        exports.export(built_db, "xml", tmp_path)


def test_every_export_carries_the_versions_and_input_digest(exported, connection):
    (info,) = loader.records(BuildInfo, connection)
    assert info.package_version == wic_events.__version__ and info.schema_version == "1.0.0"
    with (exported["csv"] / "build_info.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["package_version"], row["schema_version"], row["input_digest"]) == (info.package_version, info.schema_version, info.input_digest)
    assert json.loads((exported["json"] / "build_info.json").read_text(encoding="utf-8"))[0]["input_digest"] == info.input_digest
    descriptor = json.loads((exported["datapackage"] / "datapackage.json").read_text(encoding="utf-8"))
    assert (descriptor["version"], descriptor["schema_version"], descriptor["input_digest"]) == (info.package_version, info.schema_version, info.input_digest)
    meta = json.loads((exported["popolo"] / "popolo.json").read_text(encoding="utf-8"))["meta"]
    assert (meta["package_version"], meta["schema_version"], meta["input_digest"]) == (info.package_version, info.schema_version, info.input_digest)
    import pyarrow.parquet

    metadata = pyarrow.parquet.read_schema(exported["parquet"] / "speeches.parquet").metadata
    assert metadata[b"wic_events.input_digest"] == info.input_digest.encode()
    assert metadata[b"wic_events.schema_version"] == info.schema_version.encode()


# --- CSV -----------------------------------------------------------------------------


def read_csv_records(model, path: Path) -> list:
    """Records from an exported CSV: empty cells are None, JSON text is parsed, derived day columns dropped."""
    json_columns = {column.name for column in exports.columns(model) if column.type in ("object", "array")}
    found = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            data = {
                name: (json.loads(value) if name in json_columns else value) if value != "" else None
                for name, value in row.items()
                if name in model.model_fields
            }
            found.append(model.model_validate(data))
    return found


@pytest.mark.parametrize("table", TABLES)
def test_csv_round_trips_into_equal_records(exported, connection, table):
    model = MODELS_BY_TABLE[table]
    assert read_csv_records(model, exported["csv"] / f"{table}.csv") == loader.records(model, connection)


def test_csv_files_are_utf8_with_a_header_row(exported):
    with (exported["csv"] / "alternate_names.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["entity_table", "entity_id", "name", "language"]
    assert ["people", "xi-jinping", "习近平", "zh-Hans"] in rows


def test_pandas_reads_every_csv_with_the_sqlite_row_counts(exported, sqlite_counts):
    import pandas

    for table in TABLES:
        frame = pandas.read_csv(exported["csv"] / f"{table}.csv")
        assert frame.shape == (sqlite_counts[table], len(exports.columns(MODELS_BY_TABLE[table]))), table


@pytest.fixture(scope="module")
def partial_dates_db(tmp_path_factory) -> Path:
    """The repository's data with one position stated only to the month, and one event only to the year."""
    import shutil

    data = tmp_path_factory.mktemp("partial") / "data"
    shutil.copytree(ROOT / "data", data)
    bundle_path = data / "events" / "wic-2015.json"
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    bundle["positions"][0]["as_of"] = "2015-12"
    bundle["events"][0]["end_date"] = "2016"
    bundle_path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return build(data, data.parent / "partial.db").output


def test_partial_dates_get_their_first_and_last_day_in_the_flat_exports(partial_dates_db, tmp_path):
    import duckdb

    exports.export(partial_dates_db, "csv", tmp_path / "csv")
    exports.export(partial_dates_db, "parquet", tmp_path / "parquet")
    with (tmp_path / "csv" / "positions.csv").open(encoding="utf-8", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["as_of"] == "2015-12")
    assert (row["as_of_earliest"], row["as_of_latest"]) == ("2015-12-01", "2015-12-31")
    (days,) = duckdb.sql(
        f"SELECT end_date_earliest::VARCHAR, end_date_latest::VARCHAR FROM '{tmp_path / 'parquet' / 'events.parquet'}' WHERE end_date = '2016'"
    ).fetchall()
    assert days == ("2016-01-01", "2016-12-31")


def test_derived_days_agree_with_the_date_range_views(partial_dates_db, tmp_path):
    import duckdb

    exports.export(partial_dates_db, "parquet", tmp_path)
    with closing(sqlite3.connect(partial_dates_db)) as connection:
        for model in RECORD_MODELS:
            names = date_fields(model)
            if not names:
                continue
            days = ", ".join(f"{name}_earliest::VARCHAR, {name}_latest::VARCHAR" for name in names)
            from_parquet = duckdb.sql(f"SELECT id, {days} FROM '{tmp_path / f'{model.table}.parquet'}' ORDER BY id").fetchall()
            days = ", ".join(f"{name}_earliest, {name}_latest" for name in names)
            assert from_parquet == connection.execute(f"SELECT id, {days} FROM {model.table}_date_ranges ORDER BY id").fetchall(), model.table


# --- Frictionless Data Package ----------------------------------------------------------


def test_frictionless_validates_the_data_package_with_zero_errors(exported):
    import frictionless

    report = frictionless.validate(exported["datapackage"] / "datapackage.json")
    assert report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"]) == []
    assert report.valid and report.stats["errors"] == 0 and report.stats["tasks"] == len(TABLES)


def test_frictionless_finds_a_broken_reference_and_a_value_outside_the_vocabulary(exported, tmp_path):
    import shutil

    import frictionless

    broken = tmp_path / "broken"
    shutil.copytree(exported["datapackage"], broken)
    speeches = broken / "speeches.csv"
    speeches.write_text(speeches.read_text(encoding="utf-8").replace(",wu-hongbo,ban-ki-moon,", ",nobody,ban-ki-moon,"), encoding="utf-8")
    places = broken / "places.csv"
    places.write_text(places.read_text(encoding="utf-8").replace("wuzhen,Wuzhen,town,", "wuzhen,Wuzhen,village,"), encoding="utf-8")
    report = frictionless.validate(broken / "datapackage.json")
    assert sorted(error[0] for error in report.flatten(["type"])) == ["constraint-error", "foreign-key"]


def test_the_table_schemas_derive_from_the_models(exported, connection):
    descriptor = json.loads((exported["datapackage"] / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["description"].endswith("remain under their publishers' terms.")  # the carried source texts
    assert descriptor["sources"] == [
        {"title": source.title or source.id, "path": source.url} for source in loader.records(MODELS_BY_TABLE["sources"], connection)
    ]
    resources = {resource["name"]: resource for resource in descriptor["resources"]}
    assert list(resources) == TABLES
    speeches = resources["speeches"]["schema"]
    assert speeches["primaryKey"] == ["id"]
    assert {"fields": "on_behalf_of_id", "reference": {"resource": "people", "fields": "id"}} in speeches["foreignKeys"]
    fields = {field["name"]: field for field in speeches["fields"]}
    assert fields["speaker_id"]["description"] == "Who delivered the speech."
    assert fields["reported_order"]["type"] == "integer" and fields["reported_order"]["constraints"] == {"required": False, "minimum": 1}
    assert fields["delivery_mode"]["constraints"]["enum"] == ["in_person", "read_on_behalf", "video", "written"]
    assert "read_on_behalf: Read out by the speaker" in fields["delivery_mode"]["description"]
    places = resources["places"]["schema"]
    assert places["foreignKeys"] == [{"fields": "parent_id", "reference": {"resource": "", "fields": "id"}}]
    event_fields = {field["name"]: field for field in resources["events"]["schema"]["fields"]}
    assert event_fields["start_date_earliest"]["type"] == "date"
    assert resources["alternate_names"]["schema"]["primaryKey"] == ["entity_table", "entity_id", "language", "name"]
    assert "primaryKey" not in resources["build_info"]["schema"]


# --- Popolo ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def popolo_validators():
    """A Draft 3 validator per Popolo class, resolving the schemas' references offline."""
    from jsonschema import Draft3Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT3

    if not POPOLO_SCHEMAS.is_dir():
        missing_requirement(f"the Popolo schemas are not at {POPOLO_SCHEMAS} (shared/ beside the repository)")
    registry = Registry().with_resources(
        (POPOLO_BASE + path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT3))
        for path in POPOLO_SCHEMAS.glob("*.json")
    )
    return {
        name: Draft3Validator(registry.contents(POPOLO_BASE + f"{name}.json"), registry=registry, format_checker=Draft3Validator.FORMAT_CHECKER)
        for name in POPOLO_CLASSES.values()
    }


@pytest.fixture(scope="module")
def popolo(exported) -> dict:
    return json.loads((exported["popolo"] / "popolo.json").read_text(encoding="utf-8"))


def test_every_popolo_object_is_valid_against_the_official_schemas(popolo, popolo_validators, sqlite_counts):
    errors = {key: [error.message for item in popolo[key] for error in popolo_validators[name].iter_errors(item)] for key, name in POPOLO_CLASSES.items()}
    assert errors == {key: [] for key in POPOLO_CLASSES}
    counts = {key: len(popolo[key]) for key in POPOLO_CLASSES}
    assert counts == {
        "persons": sqlite_counts["people"],
        "organizations": sqlite_counts["organizations"],
        "areas": sqlite_counts["places"],
        "memberships": sqlite_counts["positions"],
        "events": sqlite_counts["events"],
        "speeches": sqlite_counts["speeches"],
    }


def test_the_popolo_validators_reject_invalid_objects(popolo_validators):
    person = {"id": "x", "identifiers": [{"scheme": "wikidata"}], "other_names": [{"name": 1}], "birth_date": "16 December"}
    messages = sorted(error.message for error in popolo_validators["person"].iter_errors(person))
    assert messages == ["'16 December' does not match '^[0-9]{4}(-[0-9]{2}){0,2}$'", "'identifier' is a required property", "1 is not of type 'string'"]


def test_popolo_holds_the_hard_cases(popolo):
    persons = {person["id"]: person for person in popolo["persons"]}
    assert persons["xi-jinping"]["identifiers"] == [{"identifier": "Q15031", "scheme": "wikidata"}]
    assert {"name": "习近平", "note": "zh-Hans"} in persons["xi-jinping"]["other_names"]
    assert persons["dmitry-medvedev"]["sort_name"] == "Medvedev, Dmitry"
    speeches = {speech["id"]: speech for speech in popolo["speeches"]}
    assert speeches["wic-2015-ban-ki-moon-speech"]["creator_id"] == "wu-hongbo"
    assert speeches["wic-2015-ban-ki-moon-speech"]["attribution_text"] == "Wu Hongbo, on behalf of Ban Ki-moon"
    assert speeches["wic-2015-xi-jinping-keynote"]["attribution_text"] == "Xi Jinping"
    events = {event["id"]: event for event in popolo["events"]}
    assert events["wic-2015-opening-ceremony"]["parent_id"] == "wic-2015"
    assert events["wic-2015-opening-ceremony"]["location"] == "Wuzhen"
    assert "parent_id" not in events["wic-2015"]
    ceremony_attendees = [person["id"] for person in events["wic-2015-opening-ceremony"]["attendees"]]
    assert ceremony_attendees[:2] == ["xi-jinping", "liu-yunshan"]  # in the order the participations are written
    assert len(ceremony_attendees) == len(set(ceremony_attendees)) == 15  # Liu Yunshan chairs and speaks: once
    assert {"liu-yunshan", "wang-huning", "wu-hongbo"} <= set(ceremony_attendees) and "ban-ki-moon" not in ceremony_attendees
    assert {"id": "xi-jinping", "name": "Xi Jinping"} in events["wic-2015-group-photo"]["attendees"]
    assert events["wic-2015"]["sources"] == [
        {
            "url": "http://www.china-embassy.org/eng/zgyw/t1325603.htm",
            "note": "Xi Jinping Attends Opening Ceremony of Second World Internet Conference and Delivers Keynote Speech",
        }
    ]
    memberships = {membership["id"]: membership for membership in popolo["memberships"]}
    assert memberships["dmitry-medvedev-prime-minister"] == {
        "id": "dmitry-medvedev-prime-minister",
        "person_id": "dmitry-medvedev",
        "role": "Prime Minister",
        "area_id": "russia",
    }
    assert memberships["zhao-houlin-secretary-general-itu"]["organization_id"] == "international-telecommunication-union"
    areas = {area["id"]: area for area in popolo["areas"]}
    assert areas["wuzhen"]["parent_id"] == "tongxiang" and "geometry" not in areas["wuzhen"]  # no source gives its coordinates
    located = exports._area(MODELS_BY_TABLE["places"](id="venue", name="Venue", kind="venue", latitude=30.745, longitude=120.487))
    assert located["geometry"] == {"type": "Point", "coordinates": [120.487, 30.745]}
    organizations = {organization["id"]: organization for organization in popolo["organizations"]}
    assert organizations["united-nations"]["other_names"][0] == {"name": "UN", "note": "abbreviation"}


# --- Parquet -------------------------------------------------------------------------------


def test_duckdb_reads_every_parquet_file_with_the_sqlite_row_counts(exported, sqlite_counts):
    import duckdb

    counts = {table: duckdb.sql(f"SELECT count(*) FROM '{exported['parquet'] / f'{table}.parquet'}'").fetchall()[0][0] for table in TABLES}
    assert counts == sqlite_counts


def test_parquet_files_written_in_several_batches_hold_every_row(built_db, tmp_path, monkeypatch, sqlite_counts):
    import duckdb

    monkeypatch.setattr(exports, "PARQUET_BATCH_ROWS", 3)  # every table of more than 3 rows takes several
    exports.export(built_db, "parquet", tmp_path)
    counts = {table: duckdb.sql(f"SELECT count(*) FROM '{tmp_path / f'{table}.parquet'}'").fetchall()[0][0] for table in TABLES}
    assert counts == sqlite_counts
    ids = duckdb.sql(f"SELECT id FROM '{tmp_path / 'speeches.parquet'}'").fetchall()
    assert len(set(ids)) == sqlite_counts["speeches"]


def test_a_join_in_duckdb_gives_the_rows_sqlite_gives(exported, built_db):
    import duckdb

    join = (
        "SELECT s.id, s.reported_order, p.name, p.wikidata_id FROM {speeches} s JOIN {people} "
        "p ON p.id = s.speaker_id WHERE s.event_id = 'wic-2015-opening-ceremony' ORDER BY s.id"
    )
    from_parquet = duckdb.sql(
        join.format(speeches=f"'{exported['parquet'] / 'speeches.parquet'}'", people=f"'{exported['parquet'] / 'people.parquet'}'")
    ).fetchall()
    with closing(sqlite3.connect(built_db)) as connection:
        from_sqlite = connection.execute(join.format(speeches="speeches", people="people")).fetchall()
    assert from_parquet == from_sqlite and len(from_sqlite) == 11
    assert ("wic-2015-ban-ki-moon-speech", 10, "Wu Hongbo", None) in from_parquet


def test_parquet_column_types_come_from_the_models(exported):
    import duckdb

    def types(table):
        return dict(duckdb.sql(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{exported['parquet'] / f'{table}.parquet'}')").fetchall())

    assert types("speeches")["reported_order"] == "BIGINT"
    assert types("places")["latitude"] == "DOUBLE"
    assert types("source_sentences")["boilerplate"] == "BOOLEAN"
    assert types("events")["start_date"] == "VARCHAR" and types("events")["start_date_earliest"] == "DATE"
    ((match,),) = duckdb.sql(
        f"SELECT match FROM '{exported['parquet'] / 'stated_totals.parquet'}' WHERE id = 'wic-2015-xi-jinping-keynote-five-proposals'"
    ).fetchall()
    assert json.loads(match) == {"kind": "proposal", "speech_id": "wic-2015-xi-jinping-keynote"}


# --- command line --------------------------------------------------------------------------


def test_the_command_line_exports(built_db, tmp_path):
    result = CliRunner().invoke(cli, ["export", "--format", "datapackage", "--output", str(tmp_path / "out"), "--db", str(built_db)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {len(TABLES) + 1} file(s) to {tmp_path / 'out'}.\n"
    assert (tmp_path / "out" / "datapackage.json").is_file()


def test_a_missing_pyarrow_is_named_with_its_extra(built_db, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    result = CliRunner().invoke(cli, ["export", "--format", "parquet", "--output", str(tmp_path), "--db", str(built_db)])
    assert result.exit_code == 1
    assert "pip install 'wic-events[export]'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_cannot_finish_leaves_the_folder_as_it_was(built_db, tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    (output / "organizations.csv").write_text("an earlier export\n")
    (output / "people.csv").mkdir()  # in the way of a file the export writes
    result = CliRunner().invoke(cli, ["export", "--format", "csv", "--output", str(output), "--db", str(built_db), "--force"])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {output / 'people.csv'}: a folder of that name is in the way\n"
    assert sorted(path.name for path in output.iterdir()) == ["organizations.csv", "people.csv"]  # no scratch folder left
    assert (output / "organizations.csv").read_text() == "an earlier export\n"


def test_a_failed_export_leaves_no_folder_it_made(built_db, tmp_path, monkeypatch):
    monkeypatch.setitem(exports.EXPORTERS, "csv", lambda connection, folder: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(exports.CannotWrite, match="No space left on device"):
        exports.export(built_db, "csv", tmp_path / "new" / "out")
    assert not (tmp_path / "new" / "out").exists()


def test_an_export_under_a_file_says_which_file_is_in_the_way(built_db, tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(exports.CannotWrite, match=f"cannot write {tmp_path / 'a-file' / 'out'}: {tmp_path / 'a-file'} is a file, not a folder"):
        exports.export(built_db, "jsonl", tmp_path / "a-file" / "out")


# --- loader conveniences ----------------------------------------------------------------------


def test_to_pandas_gives_a_typed_frame_of_a_table_or_view(use_built_db, sqlite_counts):
    frame = wic_events.to_pandas("speeches")
    assert frame.shape == (sqlite_counts["speeches"], len(MODELS_BY_TABLE["speeches"].model_fields))
    assert str(frame["reported_order"].dtype) == "Int64"
    assert frame.set_index("id").loc["wic-2015-ban-ki-moon-speech", "on_behalf_of_id"] == "ban-ki-moon"
    assert str(wic_events.to_pandas("source_sentences")["boilerplate"].dtype) == "boolean"
    assert wic_events.to_pandas("speech_details").shape[0] == sqlite_counts["speeches"]
    with pytest.raises(ValueError, match="no table or view named 'speech'"):
        wic_events.to_pandas("speech")


def test_to_pandas_gives_the_days_a_partial_date_can_mean_as_datetimes(use_built_db):
    import pandas

    events = wic_events.to_pandas("events").set_index("id")
    columns = list(events.columns)
    assert columns[columns.index("start_date") : columns.index("start_date") + 3] == ["start_date", "start_date_earliest", "start_date_latest"]
    assert str(events["start_date"].dtype) == "string"  # the text as recorded, which may be a month or a year
    assert all(
        str(events[name].dtype).startswith("datetime64") for name in ("start_date_earliest", "start_date_latest", "end_date_earliest", "end_date_latest")
    )
    assert (events.loc["wic-2015", "start_date_earliest"], events.loc["wic-2015", "end_date_latest"]) == (
        pandas.Timestamp("2015-12-16"),
        pandas.Timestamp("2015-12-18"),
    )
    ranges = wic_events.to_pandas("documents_date_ranges")
    assert str(ranges["released_on_earliest"].dtype).startswith("datetime64")
    partial = ranges[ranges.released_on.str.len() < 10]
    assert (partial.released_on_latest >= partial.released_on_earliest).all()


def test_to_pandas_gives_the_views_yes_or_no_columns_as_booleans(use_built_db):
    assert str(wic_events.to_pandas("disputed_facts")["preferred"].dtype) == "boolean"
    assert str(wic_events.to_pandas("evidence_details")["located"].dtype) == "boolean"
    shared = wic_events.to_pandas("speech_details")["summary_is_shared"]
    assert str(shared.dtype) == "boolean" and shared.sum() == 9


def test_the_loader_knows_every_yes_or_no_column_of_the_views():
    from wic_events.compiling import CONVENIENCE_VIEWS
    from wic_events.loader import VIEW_BOOLEAN_COLUMNS

    computed = {name for body in CONVENIENCE_VIEWS.values() for name in re.findall(r"IS NOT NULL AS (\w+)", body)}
    assert computed == set(VIEW_BOOLEAN_COLUMNS)


def test_tables_names_every_table_with_a_description():
    described = wic_events.tables()
    assert set(described) == set(MODELS_BY_TABLE)
    assert described["people"] == MODELS_BY_TABLE["people"].table_description() != ""
    assert all(text and "``" not in text and "\n" not in text for text in described.values())


def test_load_gives_every_table_as_a_frame(use_built_db, sqlite_counts):
    frames = wic_events.load()
    assert {name: len(frame) for name, frame in frames.items()} == {name: sqlite_counts[name] for name in MODELS_BY_TABLE}
    assert str(frames["claims"]["preferred"].dtype) == "boolean"


def test_to_pandas_without_pandas_says_how_to_install_it(use_built_db, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'wic-events[export]'")):
        wic_events.to_pandas("speeches")


@pytest.mark.parametrize(
    ("query", "limit", "error", "message"),
    [
        (None, 20, TypeError, "search needs the words to look for as text (a str), not NoneType"),
        (["xi"], 20, TypeError, "not list"),
        ("internet", -1, ValueError, "limit must be a whole number of at least 1, not -1"),
        ("internet", 0, ValueError, "not 0"),
        ("internet", 2.5, ValueError, "not 2.5"),
        ("internet", True, ValueError, "not True"),
    ],
)
def test_search_refuses_bad_arguments_with_a_message(use_built_db, query, limit, error, message):
    with pytest.raises(error, match=re.escape(message)):
        wic_events.search(query, limit=limit)


def test_search_returns_typed_records_with_their_table_best_first(use_built_db):
    hits = wic_events.search("cyber sovereignty")
    assert all(isinstance(hit.record, MODELS_BY_TABLE[hit.table]) for hit in hits)
    assert [hit.rank for hit in hits] == sorted(hit.rank for hit in hits)
    assert {(hit.table, hit.record.id) for hit in hits} >= {
        ("speeches", "wic-2015-xi-jinping-keynote"),
        ("speech_points", "wic-2015-xi-jinping-keynote-principle-1"),
    }


def test_search_takes_words_not_fts_syntax(use_built_db):
    people = [hit.record.id for hit in wic_events.search("Ki-moon", limit=50) if hit.table == "people"]
    assert people == ["ban-ki-moon"]
    # Were OR an operator, this would find every text mentioning sovereignty.
    assert wic_events.search("sovereignty OR xylophone") == []
    assert wic_events.search('"sovereignty') != [] and wic_events.search("   ") == []
    assert len(wic_events.search("Xi Jinping", limit=3)) == 3


def test_every_example_in_the_docstrings_runs_and_every_public_function_has_one(use_built_db):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    sources = []
    for module in (wic_events, loader, exports):
        for test in doctest.DocTestFinder().find(module):
            runner.run(test)
            sources += [example.source for example in test.examples]
    assert runner.summarize(verbose=False).failed == 0
    public = [name for name in wic_events.__all__ if inspect.isfunction(getattr(wic_events, name))]
    assert [name for name in public if not any(re.search(rf"\b{name}\(", source) for source in sources)] == []
    assert len(public) >= 20


# --- the record template ---------------------------------------------------------------------


TEMPLATE = ROOT / "docs" / "record-template.jsonc"


def template_lines() -> list[str]:
    return TEMPLATE.read_text(encoding="utf-8").splitlines()


def test_the_record_template_is_a_valid_bundle_naming_every_field():
    from wic_events.inputs import _bundle_validator

    data = json.loads("\n".join(line for line in template_lines() if not line.lstrip().startswith("//")))
    bundle_model().model_validate(data)
    assert [error.message for error in _bundle_validator().iter_errors(data)] == []  # as the build checks a bundle
    for model in RECORD_MODELS:
        (example,) = data[model.table]
        assert list(example) == list(entry_model(model).model_fields), model.table
    citation = data["sources"][0]["evidence"][0]
    assert list(citation) == list(Citation.model_fields)


def test_every_field_of_the_record_template_has_a_comment():
    lines = template_lines()
    uncommented = [
        line.strip() for before, line in zip(lines, lines[1:], strict=False) if re.match(r'\s*"[^"]+":', line) and not before.lstrip().startswith("//")
    ]
    assert uncommented == []


def test_the_record_template_quotes_the_first_source():
    lines = template_lines()
    text = (ROOT / "data" / "sources" / "wic-2015-opening-news-release.txt").read_text(encoding="utf-8")
    quotes = re.findall(r'"quote": "((?:[^"\\]|\\.)*)"', "\n".join(line for line in lines if not line.lstrip().startswith("//")))
    assert len(quotes) >= 10
    assert [quote for quote in quotes if json.loads(f'"{quote}"') not in text] == []


def test_the_changelog_records_this_version_and_its_schema_version():
    from wic_events.models import SCHEMA_VERSION

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    section = re.search(rf"^## {re.escape(wic_events.__version__)}\b.*?(?=^## |\Z)", changelog, flags=re.MULTILINE | re.DOTALL)
    assert section and f"schema version {SCHEMA_VERSION}" in section.group()
