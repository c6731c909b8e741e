"""The benchmark generator keeps its promise: valid input, the row counts it states, the same bytes each time."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from wic_events import compiling

GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"


def generate(output: Path, events: int = 200) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--events", str(events), "--seed", "7", "--output", str(output)], capture_output=True, text=True, check=True
    )
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


def bench_build():
    """benchmarks/bench_build.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_build", GENERATOR.with_name("bench_build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_build_reuses_generated_input_only_for_the_same_events_and_seed(tmp_path: Path) -> None:
    bench = bench_build()
    data = bench.generated_input(tmp_path, 200, 1)
    assert json.loads((tmp_path / "generated.json").read_text()) == {"events": 200, "seed": 1}
    (data / "marker").write_text("kept")
    assert bench.generated_input(tmp_path, 200, 1) == data and (data / "marker").is_file()
    assert bench.generated_input(tmp_path, 200, 2) == data and not (data / "marker").exists()  # another seed: generated again
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "generated.json"]


def test_bench_build_measures_a_child_process_time_and_memory() -> None:
    measured = bench_build().run([sys.executable, "-c", "import time; held = bytearray(80_000_000); time.sleep(0.5)"])
    assert 0.5 <= measured["seconds"] < 10
    assert measured["peak_pss_mb"] >= 70 and measured["peak_rss_largest_process_mb"] >= 70


def test_the_floor_and_the_peer_write_with_the_builds_settings(tmp_path: Path) -> None:
    bench = bench_build()
    script = bench.floor_script(tmp_path)
    assert all(f"PRAGMA {pragma};" in script for pragma in compiling.LOAD_PRAGMAS)
    assert script.index("PRAGMA") < script.index("BEGIN;")
    import sqlite_utils

    executed = []
    original = sqlite_utils.Database.execute

    def execute(self, sql, *arguments):
        executed.append(sql)
        return original(self, sql, *arguments)

    for model in bench.MODELS:
        (tmp_path / f"{model.table}.csv").write_text("")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite_utils.Database, "execute", execute)
        bench.peer(tmp_path / "peer.db", tmp_path)
    before_loading = executed[: next(i for i, sql in enumerate(executed) if sql.startswith("CREATE TABLE"))]
    assert all(f"PRAGMA {pragma}" in before_loading for pragma in compiling.LOAD_PRAGMAS)
