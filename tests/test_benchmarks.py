"""The benchmark generator keeps its promise: valid input, the row counts it states, the same bytes each time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wic_events import compiling

GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"


def generate(output: Path, events: int = 200) -> dict[str, int]:
    done = subprocess.run([sys.executable, str(GENERATOR), "--events", str(events), "--seed", "7", "--output", str(output)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_generated_input_builds_with_the_promised_row_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    promised = generate(tmp_path / "data")
    # Validate in other processes, as the build does for big inputs, so that this path is tested too.
    monkeypatch.setattr(compiling, "WORKER_MIN_BYTES", 0)
    result = compiling.build(tmp_path / "data", tmp_path / "wic_events.db")
    assert result.counts == promised


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    generate(tmp_path / "one")
    generate(tmp_path / "two")
    files = sorted(path.relative_to(tmp_path / "one") for path in (tmp_path / "one").rglob("*") if path.is_file())
    assert files and all((tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes() for name in files)
    assert files == sorted(path.relative_to(tmp_path / "two") for path in (tmp_path / "two").rglob("*") if path.is_file())
