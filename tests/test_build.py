"""The compiled database: the public contract, keys, indexes, full-text search, views."""

import sqlite3
from contextlib import closing

import pytest

from conftest import DATA_DIR
from wic_events.compiling import build
from wic_events.models import RECORD_MODELS, reference_fields

CONTRACT = {
    "sources": "id, title, publisher, url, language, published_on, sha256, text",
    "places": "id, name, kind, parent_id, country_code, latitude, longitude",
    "organizations": "id, name, abbreviation, kind, country_code",
    "people": "id, name, sort_name, wikidata_id",
    "alternate_names": "entity_table, entity_id, name, language",
    "positions": "id, person_id, title, organization_id, country_code, start_date, end_date, as_of",
    "events": "id, name, kind, series, edition, parent_id, sequence, start_date, end_date, time_of_day, place_id, theme, source_id",
    "counts": "id, event_id, subject, value, qualifier, low, high, as_reported",
    "participants": "id, event_id, person_id, role, position_id",
    "speeches": "id, event_id, speaker_id, on_behalf_of_id, delivery_mode, kind, title, summary",
    "speech_points": "id, speech_id, ordinal, kind, label, text",
    "evidence": "id, source_id, record_table, record_id, start, end, quote",
    "build_info": "package_version, schema_version, input_digest, record_counts, built_at",
}

CONTRACT_REFERENCES = {
    ("places", "parent_id"): "places",
    ("positions", "person_id"): "people",
    ("positions", "organization_id"): "organizations",
    ("events", "parent_id"): "events",
    ("events", "place_id"): "places",
    ("events", "source_id"): "sources",
    ("counts", "event_id"): "events",
    ("participants", "event_id"): "events",
    ("participants", "person_id"): "people",
    ("participants", "position_id"): "positions",
    ("speeches", "event_id"): "events",
    ("speeches", "speaker_id"): "people",
    ("speeches", "on_behalf_of_id"): "people",
    ("speech_points", "speech_id"): "speeches",
    ("evidence", "source_id"): "sources",
}


@pytest.mark.parametrize("table", CONTRACT)
def test_every_contract_column_exists(connection, table):
    columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
    assert set(CONTRACT[table].split(", ")) <= columns


def test_contract_foreign_keys_are_declared(connection):
    declared = {}
    for table in CONTRACT:
        for row in connection.execute(f"PRAGMA foreign_key_list({table})"):
            declared[(table, row["from"])] = row["table"]
    assert CONTRACT_REFERENCES.items() <= declared.items()


def test_foreign_keys_hold_and_the_file_is_sound(connection):
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_vocabulary_columns_reject_values_outside_the_vocabulary(connection):
    scratch = sqlite3.connect(":memory:")
    (schema,) = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'participants'").fetchone()
    scratch.execute(schema)
    scratch.execute("INSERT INTO participants (id, event_id, person_id, role) VALUES ('a', 'e', 'p', 'chair')")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        scratch.execute("INSERT INTO participants (id, event_id, person_id, role) VALUES ('b', 'e', 'p', 'chairman')")
    (schema,) = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()
    scratch.execute(schema)
    scratch.execute("INSERT INTO events (id, name, kind) VALUES ('e', 'E', 'ceremony')")  # no time_of_day: NULL passes
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        scratch.execute("INSERT INTO events (id, name, kind) VALUES ('f', 'F', 'party')")


def test_every_foreign_key_column_is_indexed(connection):
    for model in RECORD_MODELS:
        indexed = {
            connection.execute(f"PRAGMA index_info('{index['name']}')").fetchone()["name"] for index in connection.execute(f"PRAGMA index_list({model.table})")
        }
        for column in reference_fields(model):
            assert column in indexed, f"{model.table}.{column}"


@pytest.mark.parametrize(
    "table, query, expected",
    [
        ("speeches", "sovereignty", "wic-2015-xi-jinping-keynote"),
        ("speech_points", "infrastructure", "wic-2015-xi-jinping-keynote-proposal-1"),
        ("events", "Interconnected", "wic-2015"),
        ("people", "Medvedev", "dmitry-medvedev"),
        ("sources", "Wuzhen", "wic-2015-opening-news-release"),
        ("summaries", "digital", "wic-2015-opening-guest-speeches"),
    ],
)
def test_full_text_search(connection, table, query, expected):
    rows = connection.execute(f"SELECT t.id FROM {table}_fts JOIN {table} t ON t.rowid = {table}_fts.rowid WHERE {table}_fts MATCH ?", (query,)).fetchall()
    assert expected in [row[0] for row in rows]


def test_evidence_quotes_equal_their_span_of_the_source(connection):
    rows = connection.execute(
        'SELECT e.quote, substr(s.text, e.start + 1, e."end" - e.start) FROM evidence e JOIN sources s ON s.id = e.source_id WHERE s.text IS NOT NULL'
    ).fetchall()
    assert len(rows) > 100
    assert all(quote == span for quote, span in rows)


def test_speech_details_view_names_speaker_and_reader(connection):
    row = connection.execute("SELECT * FROM speech_details WHERE id = 'wic-2015-ban-ki-moon-speech'").fetchone()
    assert (row["speaker_name"], row["on_behalf_of_name"], row["event_name"]) == (
        "Wu Hongbo",
        "Ban Ki-moon",
        "Opening ceremony of the Second World Internet Conference",
    )
    assert row["summary_is_shared"] == 1 and row["summary"].startswith("The visiting leaders")


def test_date_range_views_give_earliest_and_latest_days(connection):
    row = connection.execute("SELECT * FROM events_date_ranges WHERE id = 'wic-2015'").fetchone()
    assert (row["start_date_earliest"], row["end_date_latest"]) == ("2015-12-16", "2015-12-18")


def test_build_info_records_versions_digest_and_counts(connection):
    import json

    from wic_events import __version__
    from wic_events.models import SCHEMA_VERSION

    (info,) = connection.execute("SELECT * FROM build_info").fetchall()
    assert (info["package_version"], info["schema_version"]) == (__version__, SCHEMA_VERSION)
    assert len(info["input_digest"]) == 64
    counts = json.loads(info["record_counts"])
    assert counts["speeches"] == connection.execute("SELECT count(*) FROM speeches").fetchone()[0] > 11
    assert set(counts) >= {"claims", "documents", "events", "sources"}


def test_a_failed_build_leaves_the_previous_file_untouched(data_copy, tmp_path):
    from wic_events.problems import InvalidData

    output = tmp_path / "out.db"
    build(data_copy, output)
    before = output.read_bytes()
    people = data_copy / "people.csv"
    people.write_text(people.read_text(encoding="utf-8") + "Bad Id,X,X,\n", encoding="utf-8")
    with pytest.raises(InvalidData):
        build(data_copy, output)
    assert output.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("out.db")] == ["out.db"]


def test_a_full_disk_stops_the_build_with_a_message_and_the_previous_file_untouched(tmp_path, monkeypatch):
    from wic_events import compiling
    from wic_events.problems import CannotWrite

    output = tmp_path / "out.db"
    build(DATA_DIR, output)
    before = output.read_bytes()
    connect = sqlite3.connect

    def connect_to_a_small_disk(*arguments, **options):
        connection = connect(*arguments, **options)
        connection.execute("PRAGMA max_page_count = 20")  # SQLite then reports SQLITE_FULL, as on a full disk
        return connection

    monkeypatch.setattr(compiling.sqlite3, "connect", connect_to_a_small_disk)
    with pytest.raises(CannotWrite, match=f"cannot write {output}: database or disk is full"):
        build(DATA_DIR, output)
    assert output.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["out.db"]


def test_a_folder_that_cannot_be_written_to_stops_the_build_before_it_reads(tmp_path, monkeypatch):
    from pathlib import Path

    from wic_events.problems import CannotWrite

    def refuse(path, *arguments, **options):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "touch", refuse)  # root, who runs CI, may write anywhere
    with pytest.raises(CannotWrite, match=f"cannot write {tmp_path / 'out.db'}: Permission denied"):
        build(DATA_DIR, tmp_path / "out.db")
    assert list(tmp_path.iterdir()) == []


def test_the_database_is_not_writable_through_the_loader(connection):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM people")


def test_an_overlapping_occurrence_of_a_quote_is_located(data_copy, tmp_path):
    import json

    text = "He said: go on, go on, go on."
    source = {"id": "echo", "title": "Echo", "language": "en", "text": text}
    (data_copy / "sources" / "echo.json").write_text(json.dumps({"sources": [source]}), encoding="utf-8")
    bundle_path = data_copy / "events" / "wic-2015.json"
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    bundle["evidence"].append({"record_table": "events", "record_id": "wic-2015", "source_id": "echo", "quote": "go on, go on", "occurrence": 2})
    bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
    build(data_copy, tmp_path / "out.db")
    with closing(sqlite3.connect(tmp_path / "out.db")) as connection:
        ((start, end),) = connection.execute("SELECT start, \"end\" FROM evidence WHERE source_id = 'echo'").fetchall()
    assert (start, end) == (16, 28) and text[start:end] == "go on, go on"
