"""Validating in several processes gives the same database, and the same problems, as in one.

Big inputs are read and validated by several processes, each taking every n-th chunk of the
input, while the build inserts their rows in chunk order (see inputs.Share). Here the chunks
are made tiny, so that a small generated input is cut into many.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from wic_events import compiling, inputs
from wic_events.models import RECORD_MODELS
from wic_events.problems import InvalidData

GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("generated") / "data"
    subprocess.run([sys.executable, str(GENERATOR), "--events", "200", "--seed", "3", "--output", str(data)], capture_output=True, check=True)
    return data


def build_with(processes: int, data: Path, output: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Build with ``processes`` validating processes (0: in this one); the problems found, if any."""
    monkeypatch.setattr(inputs, "CHUNK_UNITS", 7)
    monkeypatch.setattr(compiling, "_worker_count", lambda data_dir: processes)
    try:
        compiling.build(data, output)
    except InvalidData as error:
        return [str(problem) for problem in error.problems]
    return []


@pytest.mark.parametrize("processes", [2, 3])
def test_the_database_is_the_same_whatever_the_number_of_processes(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int) -> None:
    assert build_with(0, generated, tmp_path / "one.db", monkeypatch) == []
    assert build_with(processes, generated, tmp_path / "several.db", monkeypatch) == []
    assert (tmp_path / "one.db").read_bytes() == (tmp_path / "several.db").read_bytes()


@pytest.mark.parametrize("batch_rows", [5, 1_000_000], ids=["in batches", "all at the end"])
def test_the_full_text_indexes_hold_every_row_however_they_are_filled(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    """Rows go into the full-text indexes a batch at a time while loading, and the rest at the end."""
    monkeypatch.setattr(compiling, "FTS_BATCH_ROWS", batch_rows)
    assert build_with(2, generated, tmp_path / "built.db", monkeypatch) == []
    with closing(sqlite3.connect(tmp_path / "built.db")) as connection:
        tables = [model.table for model in RECORD_MODELS if model.search_fields]
        counts = {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        assert counts["speeches"] > 2 * 5  # with batches of 5, some are whole, and the rest goes in at the end
        for table in tables:
            # FTS5 compares the index with the table it indexes, and fails if a row is missing from it.
            connection.execute(f'INSERT INTO "{table}_fts"("{table}_fts", rank) VALUES (\'integrity-check\', 1)')
            assert connection.execute(f'SELECT count(*) FROM "{table}_fts_docsize"').fetchone()[0] == counts[table]


def break_input(data: Path) -> None:
    """Problems of every reach: lines, rows, whole files, duplicates and references across records."""
    events = data / "events" / "events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = '{"id": \n'
    lines[40] = lines[40].replace('"kind": "', '"kind": "party-', 1)
    lines.insert(60, "\n")
    events.write_text("".join(lines), encoding="utf-8")
    participants = data / "participants" / "participants.csv"
    rows = participants.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[100] = rows[100].rstrip("\n") + ",extra\n"
    rows[300] = rows[300].replace("person-", "nobody-", 1)
    participants.write_text("".join(rows), encoding="utf-8")
    people = data / "people.csv"
    people.write_text(people.read_text(encoding="utf-8") + people.read_text(encoding="utf-8").splitlines(keepends=True)[2], encoding="utf-8")
    (data / "counts" / "more.jsonl").write_text("\n\n", encoding="utf-8")
    (data / "positions" / "more.csv").write_text("id,nonsense\nx,y\n", encoding="utf-8")
    (data / "speeches" / "late.jsonl").write_text("[1]\n", encoding="utf-8")


def test_problems_are_the_same_whatever_the_number_of_processes(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    subprocess.run(["cp", "-r", str(generated), str(data)], check=True)
    break_input(data)
    in_one = build_with(0, data, tmp_path / "one.db", monkeypatch)
    in_three = build_with(3, data, tmp_path / "three.db", monkeypatch)
    assert len(in_one) == 15  # 7 of lines, rows and files; 8 across records, 5 of them about the unreadable event
    assert in_three == in_one
    assert [problem for problem in in_one if problem.startswith("events/events.jsonl:5:")] == [
        "events/events.jsonl:5: malformed JSON: Expecting value (line 5, column 8)"
    ]
    assert not (tmp_path / "one.db").exists() and not (tmp_path / "three.db").exists()


def replace_lines(path: Path, numbers: range, text: str) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    for number in numbers:
        lines[number - 1] = text.encode() if isinstance(text, str) else text
    path.write_bytes(b"".join(lines))


# Each breaks the input across several 7-unit chunks, so that the processes' parts differ.
BREAKAGES = {
    # Problems before a chunk's first record, and more of them than the limit.
    "bad lines across chunks": (lambda data: replace_lines(data / "events" / "events.jsonl", range(11, 61), "{\n"), None),
    # A CSV that cannot be read past its fourth row (a quote in the middle of a cell): the rows
    # after it are unknown, so references into the table are not reported missing.
    "a CSV that stops": (lambda data: replace_lines(data / "positions" / "positions.csv", range(4, 5), 'a,"b"x,c\n'), None),
    # All the rows some process reads of a file are bad, but the file as a whole gave records.
    "a bad run of rows": (lambda data: replace_lines(data / "positions" / "positions.csv", range(2, 11), "a,b,c,d,e,f,g,h,i,j\n"), None),
    # Lines that look blank but are not, and lines that are not UTF-8.
    "a blank-looking file": (lambda data: (data / "speeches" / "zz.jsonl").write_text("\n" * 4 + "\u3000\n" * 3, encoding="utf-8"), 1),
    "a file of undecodable lines": (lambda data: (data / "speeches" / "zz.jsonl").write_bytes(b"\xff\n" * 6), 7),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
@pytest.mark.parametrize("limit", [1000, 10])
def test_each_kind_of_problem_is_reported_once_in_reading_order(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breakage: str, limit: int
) -> None:
    data = tmp_path / "data"
    subprocess.run(["cp", "-r", str(generated), str(data)], check=True)
    break_one, expected_count = BREAKAGES[breakage]
    break_one(data)
    monkeypatch.setattr(compiling, "MAX_PROBLEMS_BEFORE_STOP", limit)
    reports = {processes: build_with(processes, data, tmp_path / f"{processes}.db", monkeypatch) for processes in (0, 2, 3)}
    assert reports[0], "the breakage went unnoticed"
    assert reports[2] == reports[0] and reports[3] == reports[0]
    if expected_count is not None and expected_count < limit:
        assert len(reports[0]) == expected_count
    # Reading stops at the limit (the checks across records, after reading, are then skipped).
    stopped = [problem for problem in reports[0] if problem.endswith(f": stopped after {limit} problems; fix these first")]
    assert bool(stopped) == (breakage == "bad lines across chunks" and limit == 10)
    if stopped:
        assert len(reports[0]) == limit + 1 and reports[0][-1] == stopped[0]
