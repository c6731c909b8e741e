"""Nothing half-written, and the same bytes every time.

A build writes a temporary file and renames it into place, so a failed or killed
build leaves the previous database as it was; the database is sound and opened
read-only; two builds of the same inputs are byte-identical wherever and whenever
they run, and build_info's digest changes with any input byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

import wic_events
from conftest import DATA_DIR
from wic_events.compiling import _check_integrity, build, input_digest
from wic_events.problems import InvalidData

SOURCE_RECORD = "sources/wic-2015-opening-news-release.json"
SOURCE_TEXT = "sources/wic-2015-opening-news-release.txt"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_info(path: Path) -> sqlite3.Row:
    with closing(wic_events.connect(path)) as connection:
        return connection.execute("SELECT * FROM build_info").fetchone()


# --- integrity -------------------------------------------------------------------------


def test_the_database_is_sound(connection: sqlite3.Connection) -> None:
    assert [tuple(row) for row in connection.execute("PRAGMA integrity_check")] == [("ok",)]
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO people (id, name, sort_name) VALUES ('intruder', 'I', 'I')", "DELETE FROM people", "CREATE TABLE scratch (x)", "PRAGMA user_version = 7"],
)
def test_the_loader_opens_the_database_read_only(built_db: Path, statement: str) -> None:
    before = built_db.read_bytes()
    with closing(wic_events.connect(built_db)) as connection:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute(statement)
    assert built_db.read_bytes() == before


def test_a_failed_build_leaves_the_previous_database_byte_identical(built_db: Path, data_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "wic_events.db"
    shutil.copyfile(built_db, output)
    before = output.read_bytes()
    (data_copy / "people.csv").write_text("id,name,sort_name\nNot A Slug,X,X\n", encoding="utf-8")
    with pytest.raises(InvalidData):
        build(data_copy, output)
    assert output.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "wic_events.db"]  # no temporary file left


def test_a_build_killed_partway_leaves_the_previous_database_byte_identical(built_db: Path, data_copy: Path, tmp_path: Path) -> None:
    # Large enough that the build runs for seconds: 200,000 people written straight to JSON Lines.
    (data_copy / "people").mkdir()
    with (data_copy / "people" / "synthetic.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(f'{{"id": "person-{i}", "name": "Person {i}", "sort_name": "{i}, Person"}}\n' for i in range(200_000))
    output = tmp_path / "out" / "wic_events.db"
    output.parent.mkdir()
    shutil.copyfile(built_db, output)
    before = output.read_bytes()

    command = [sys.executable, "-c", "from wic_events.cli import cli; cli()", "build", "--quiet", "--data", str(data_copy), "--output", str(output)]
    # A session of its own, so that any helper process the build starts can be found (and, failing the test, ended).
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    temporary = output.with_name(f"{output.name}.{process.pid}.tmp")
    deadline = time.monotonic() + 60
    while not temporary.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # into the loading of records
    process.send_signal(signal.SIGKILL)  # the build's own process only, as kill -9 <pid> would
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed; make the input larger"
    assert_no_process_left(process.pid)

    assert temporary.exists()  # the kill came while the new file was being written beside the old one
    assert output.read_bytes() == before
    with closing(sqlite3.connect(f"{output.as_uri()}?mode=ro", uri=True)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("SELECT count(*) FROM people").fetchone()[0] < 200_000

    # The next build removes what the killed one left behind.
    shutil.rmtree(data_copy / "people")
    build(data_copy, output)
    assert not temporary.exists()
    assert sorted(path.name for path in output.parent.iterdir()) == [output.name]


def assert_no_process_left(group: int, wait: float = 10) -> None:
    """Nothing the killed build started lives on (a helper blocked forever on a pipe, say)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("a process of the killed build was still running; it has now been killed")


# --- reproducibility ----------------------------------------------------------------------


def build_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Build a copy of data/ placed in ``folder``, from inside it, with relative paths."""
    folder.mkdir(parents=True)
    shutil.copytree(DATA_DIR, folder / "data")
    monkeypatch.chdir(folder)
    build(Path("data"), Path("wic_events.db"))
    return (folder / "wic_events.db").read_bytes()


def test_builds_in_different_folders_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = build_in(tmp_path / "one", monkeypatch)
    time.sleep(1.1)  # a clock that leaked into the file would now differ
    second = build_in(tmp_path / "two" / "deeper", monkeypatch)
    assert first == second


def test_builds_with_the_same_source_date_epoch_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1450224000")
    first = build_in(tmp_path / "one", monkeypatch)
    time.sleep(1.1)  # a clock that leaked into the file would now differ
    second = build_in(tmp_path / "two", monkeypatch)
    assert first == second


def test_built_at_is_empty_unless_source_date_epoch_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(DATA_DIR, tmp_path / "plain.db")
    assert build_info(tmp_path / "plain.db")["built_at"] is None

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1450224000")
    build(DATA_DIR, tmp_path / "dated.db")
    assert build_info(tmp_path / "dated.db")["built_at"] == "2015-12-16T00:00:00+00:00"
    # The build time is the only difference: the digest describes the inputs alone.
    assert build_info(tmp_path / "dated.db")["input_digest"] == build_info(tmp_path / "plain.db")["input_digest"]


def change_a_data_file(data: Path) -> None:
    path = data / "people.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Xi Jinping,Xi Jinping", "Xi Jinping,Xi  Jinping", 1), encoding="utf-8")


def change_the_source_text(data: Path) -> None:
    # A byte added at the end keeps every quote in place; the record states the new hash, so the build passes.
    text = data / SOURCE_TEXT
    text.chmod(0o644)
    text.write_bytes(text.read_bytes() + b"\n")
    record = data / SOURCE_RECORD
    bundle = json.loads(record.read_text(encoding="utf-8"))
    bundle["sources"][0]["sha256"] = digest(text)
    record.write_text(json.dumps(bundle, ensure_ascii=False, indent=2), encoding="utf-8")


def rename_a_file(data: Path) -> None:
    (data / "people").mkdir()
    (data / "people.csv").rename(data / "people" / "people.csv")


@pytest.mark.parametrize("change", [change_a_data_file, change_the_source_text, rename_a_file])
def test_the_input_digest_changes_with_any_input_byte(change, data_copy: Path, built_db: Path, tmp_path: Path) -> None:
    original = build_info(built_db)["input_digest"]
    assert original == input_digest(DATA_DIR)
    change(data_copy)
    build(data_copy, tmp_path / "changed.db")
    changed = build_info(tmp_path / "changed.db")["input_digest"]
    assert changed == input_digest(data_copy)
    assert changed != original


def test_the_input_digest_covers_every_byte_of_every_file(data_copy: Path) -> None:
    original = input_digest(data_copy)
    for path in sorted(p for p in data_copy.rglob("*") if p.is_file()):
        content = path.read_bytes()
        path.chmod(0o644)
        for at in {0, len(content) // 2, len(content) - 1}:  # flip one bit of the first, a middle and the last byte
            path.write_bytes(content[:at] + bytes([content[at] ^ 1]) + content[at + 1 :])
            assert input_digest(data_copy) != original, (path, at)
        path.write_bytes(content)
    assert input_digest(data_copy) == original


def test_the_integrity_check_reads_the_written_file(built_db: Path, tmp_path: Path) -> None:
    """The build's last check opens the finished file on a connection of its own: a broken page is found there."""
    copy = tmp_path / "copy.db"
    shutil.copy(built_db, copy)
    _check_integrity(copy)  # sound as built
    with closing(sqlite3.connect(copy)) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'idx_participants_person_id'").fetchone()
    with copy.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\x0d" + b"\xff" * 11)  # a leaf page header claiming cells it does not have
    with pytest.raises(RuntimeError, match="quick_check failed"):
        _check_integrity(copy)
