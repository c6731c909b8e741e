import sqlite3
from contextlib import closing

import pytest

import wic_events
from wic_events.models import Person, Speech


@pytest.fixture(autouse=True)
def use_built_db(monkeypatch, built_db):
    monkeypatch.setenv("WIC_EVENTS_DB", str(built_db))


def test_db_path_honours_the_environment(built_db):
    assert wic_events.db_path() == built_db


def test_connect_is_read_only():
    with closing(wic_events.connect()) as connection:
        assert connection.execute("SELECT count(*) FROM speeches WHERE event_id = 'wic-2015-opening-ceremony'").fetchone()[0] == 11
        with pytest.raises(sqlite3.OperationalError):
            connection.execute("INSERT INTO people (id, name, sort_name) VALUES ('x', 'X', 'X')")


def test_connect_says_when_a_file_is_not_a_wic_events_database(tmp_path):
    from wic_events.loader import NotADatabase

    (tmp_path / "notes.db").write_text("not SQLite at all\n" * 100)
    with pytest.raises(NotADatabase, match=f"{tmp_path / 'notes.db'} is not a wic-events database \\(file is not a database\\)"):
        wic_events.connect(tmp_path / "notes.db")
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(NotADatabase, match="no such table: build_info"):
        wic_events.connect(tmp_path / "other.db")


def test_accessors_return_models_filtered_by_columns():
    speeches = wic_events.speeches(event_id="wic-2015-opening-ceremony")
    assert len(speeches) == 11 and all(isinstance(speech, Speech) for speech in speeches)
    (read_out,) = wic_events.speeches(delivery_mode="read_on_behalf", event_id="wic-2015-opening-ceremony")
    assert (read_out.speaker_id, read_out.on_behalf_of_id) == ("wu-hongbo", "ban-ki-moon")
    assert wic_events.people(id="nobody") == []
    assert isinstance(wic_events.people(id="xi-jinping")[0], Person)


def test_a_filter_on_null_matches_missing_values():
    assert {s.id for s in wic_events.speeches(summary_id=None, event_id="wic-2015-opening-ceremony")} == {
        "wic-2015-xi-jinping-keynote",
        "wic-2015-liu-yunshan-address",
    }


def test_json_columns_come_back_as_python_values():
    (source,) = wic_events.sources(id="wic-2015-opening-news-release")
    assert source.boilerplate == ["Suggest to a Friend:"]
    assert source.text.startswith("Xi Jinping Attends")
    total = wic_events.stated_totals(id="wic-2015-xi-jinping-keynote-five-proposals")[0]
    assert total.match == {"kind": "proposal", "speech_id": "wic-2015-xi-jinping-keynote"}


def test_unknown_filters_are_refused_with_the_allowed_columns():
    with pytest.raises(TypeError, match="speeches has no column"):
        wic_events.speeches(speaker="xi-jinping")


def test_a_missing_database_is_reported_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("WIC_EVENTS_DB", str(tmp_path / "missing.db"))
    with pytest.raises(FileNotFoundError, match="wic-events build"):
        wic_events.connect()


def test_the_loader_does_not_import_the_build_machinery():
    import subprocess
    import sys

    code = "import sys, wic_events; print(sorted(m for m in sys.modules if m.startswith(('wic_events', 'jsonschema'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for module in ("wic_events.compiling", "wic_events.validation", "wic_events.inputs", "jsonschema"):
        assert module not in loaded


def test_the_models_import_nothing_else_of_the_package():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(wic_events.models.__file__).read_text(encoding="utf-8"))
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]
    assert relative == []


def test_rows_read_by_name_or_position_and_print_as_tuples():
    with closing(wic_events.connect()) as connection:
        row = connection.execute("SELECT count(*) AS speeches, 'x' AS letter FROM speeches WHERE event_id = 'wic-2015-opening-ceremony'").fetchone()
    assert (row["speeches"], row[0], row["letter"]) == (11, 11, "x")
    assert repr(row) == "(11, 'x')"


def test_functions_close_the_connection_they_open_and_leave_the_callers_open(monkeypatch):
    from wic_events import loader

    opened = []
    connect = loader.connect

    def tracked_connect(*arguments):
        opened.append(connect(*arguments))
        return opened[-1]

    monkeypatch.setattr(loader, "connect", tracked_connect)
    wic_events.people()
    list(wic_events.iter_records(Speech))
    wic_events.search("internet")
    wic_events.to_pandas("speeches")
    assert len(opened) == 4
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    mine = connect()
    wic_events.records(Person, mine)
    wic_events.search("internet", mine)
    wic_events.to_pandas("people", mine)
    assert mine.execute("SELECT count(*) FROM people WHERE id = 'xi-jinping'").fetchone()[0] == 1  # still open
    mine.close()


def test_list_and_object_columns_can_be_filtered_by_their_value():
    (total,) = wic_events.stated_totals(match={"kind": "proposal", "speech_id": "wic-2015-xi-jinping-keynote"})
    assert total.expected == 5
    (source,) = wic_events.sources(boilerplate=wic_events.sources(id="wic-2015-opening-news-release")[0].boilerplate)
    assert source.id == "wic-2015-opening-news-release"
    with pytest.raises(TypeError, match="speeches.kind is filtered by one value, not by a list"):
        wic_events.speeches(kind=["keynote", "address"])


def test_search_finds_a_record_by_a_whole_other_name():
    (hit,) = wic_events.search(" 习近平 ")
    assert (hit.table, hit.record.id, hit.rank) == ("people", "xi-jinping", float("-inf"))
    assert [hit.record.id for hit in wic_events.search("Дмитрий Медведев")] == ["dmitry-medvedev"]
    assert wic_events.search("习") == []  # whole names only, as on the site


def test_search_gives_a_record_found_by_its_other_name_and_its_text_once(built_db, tmp_path):
    copy = tmp_path / "copy.db"
    copy.write_bytes(built_db.read_bytes())
    with closing(sqlite3.connect(copy)) as connection, connection:
        connection.execute("INSERT INTO alternate_names VALUES ('people', 'dmitry-medvedev', 'Medvedev', 'en')")
        connection.execute("INSERT INTO alternate_names VALUES ('people', 'nobody', 'Ghost', 'en')")
    with closing(wic_events.connect(copy)) as connection:
        hits = wic_events.search("Medvedev", connection)
    assert [(hit.table, hit.record.id, hit.rank) for hit in hits if hit.table == "people"] == [("people", "dmitry-medvedev", float("-inf"))]
    assert hits[0].table == "people" and len(hits) > 1  # then the quotes that name him
    with closing(wic_events.connect(copy)) as connection:
        assert wic_events.search("Ghost", connection) == []  # a name for no record, as a hand-edited database may hold
