"""Validating in several processes gives the same database, and the same problems, as in one.

Big inputs are read and validated by several processes, each taking every n-th chunk of the
input, while the build inserts their rows in chunk order (see reading.Share). Here the chunks
are made tiny, so that a small generated input is cut into many.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wic_events import compiling, reading
from wic_events.problems import InvalidData

GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("generated") / "data"
    subprocess.run([sys.executable, str(GENERATOR), "--events", "200", "--seed", "3", "--output", str(data)], capture_output=True, check=True)
    return data


def build_with(processes: int, data: Path, output: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Build with ``processes`` validating processes (0: in this one); the problems found, if any."""
    monkeypatch.setattr(reading, "CHUNK_UNITS", 7)
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
    assert [problem for problem in in_one if problem.startswith("events/events.jsonl:5:")] == ["events/events.jsonl:5: malformed JSON: Expecting value (line 5, column 8)"]
    assert not (tmp_path / "one.db").exists() and not (tmp_path / "three.db").exists()
