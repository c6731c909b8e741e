"""Time the validated build against SQLite's own importer and against sqlite-utils, in one run.

    python benchmarks/bench_build.py --events 200000

(a) build: ``wic-events build`` of synthetic input (benchmarks/generate.py), with every check;
(b) floor: the sqlite3 shell ``.import --csv`` of the same rows into the same tables, then the
    same indexes, full-text tables and views, with no validation, in one transaction;
(c) peer: sqlite-utils ``insert_all`` of the same rows, then the same indexes, FTS and views.

All three write with the build's settings (compiling.LOAD_PRAGMAS: no journal, no syncing, the
same page cache); only the build syncs its file at the end. The rows for (b) and (c) are exported
from the database (a) built in the first round, untimed, so all three hold the same data, except that the shell
imports an empty CSV cell as an empty string where the others store NULL. Each runs in a child
process; see run() for what is measured. The three run in turn, in --rounds rounds (default
3), and each ratio reported is the median of the rounds' ratios.
Needs the sqlite3 shell on PATH (Debian: apt-get install sqlite3). Results are printed and
written to benchmarks/results/build-<N>.json; the built database stays in the work folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

from wic_events.compiling import LOAD_PRAGMAS, create_table_sql, fts_table_sql, index_sql, view_sql
from wic_events.models import DERIVED_MODELS, RECORD_MODELS

HERE = Path(__file__).resolve().parent
MODELS = (*RECORD_MODELS, *DERIVED_MODELS)


def run(command: list[str], stdin: str | None = None) -> dict[str, float]:
    """Run a child process: its wall time, its CPU time (with its children's), and its peak memory.

    CPU time is given because other processes on a shared machine stretch wall time, not CPU time.
    Memory is the peak, sampled every 50 ms by a thread, of the proportional set size (PSS) summed
    over the process and its children: the build validates in forked processes, whose pages shared
    with their parent PSS counts once. wait4() gives the peak RSS of the largest single process.
    Written files are flushed to disk first, so that the kernel's writeback of earlier work (the
    generated input, the exported CSV) does not run during the timing.
    """
    os.sync()
    started = time.perf_counter()
    child = subprocess.Popen(command, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=subprocess.DEVNULL, text=True)
    peak_kb = 0
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak_kb
        while not finished.wait(0.05):
            peak_kb = max(peak_kb, tree_pss_kb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)  # it must not keep the benchmark alive if this fails
    sampler.start()
    if stdin is not None:
        child.stdin.write(stdin)
        child.stdin.close()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    finished.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{command[0]} failed with status {os.waitstatus_to_exitcode(status)}")
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_pss_mb": round(peak_kb / 1024, 1),
        "peak_rss_largest_process_mb": round(usage.ru_maxrss / 1024, 1),
    }


def tree_pss_kb(pid: int) -> int:
    """PSS in kB of a process and its descendants; processes that end meanwhile count nothing."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
            for task in Path(f"/proc/{current}/task").iterdir():  # a child may be started by any thread
                pending += [int(found) for found in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            pass
    return total


def export_csv(database: Path, folder: Path) -> None:
    """One headerless CSV per table, columns in table order, as the sqlite3 shell writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    script = ".mode csv\n.headers off\n" + "".join(f'.output {folder / model.table}.csv\nSELECT * FROM "{model.table}";\n' for model in MODELS)
    subprocess.run(["sqlite3", "-bail", str(database)], input=script, text=True, check=True)


def finishing_sql() -> list[str]:
    """What the build does after loading the rows, minus its checks: indexes, FTS, views."""
    return [statement for model in MODELS for statement in index_sql(model) + full_text_sql(model)] + view_sql()


def full_text_sql(model) -> list[str]:
    """The model's full-text table, filled from the whole table at once (the build fills it while it loads)."""
    if not model.fts_table:
        return []
    return [fts_table_sql(model), f'INSERT INTO "{model.fts_table}"("{model.fts_table}") VALUES(\'rebuild\')']


def floor_script(folder: Path) -> str:
    lines = [".bail on", *(f"PRAGMA {pragma};" for pragma in LOAD_PRAGMAS), "BEGIN;"]
    for model in MODELS:
        lines += [create_table_sql(model) + ";", f".import --csv {folder / model.table}.csv {model.table}"]
    lines += [statement + ";" for statement in finishing_sql()]
    return "\n".join(lines + ["COMMIT;", ""])


def peer(database: Path, folder: Path) -> None:
    """The sqlite-utils load (run in a child process by main)."""
    import sqlite_utils

    db = sqlite_utils.Database(database)
    for pragma in LOAD_PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    for model in MODELS:
        db.execute(create_table_sql(model))
        names = list(model.model_fields)
        with (folder / f"{model.table}.csv").open(newline="", encoding="utf-8") as handle:
            # The shell writes NULL as an empty cell; give sqlite-utils the NULLs the build stored.
            rows = ({name: cell if cell != "" else None for name, cell in zip(names, row, strict=True)} for row in csv.reader(handle))
            db[model.table].insert_all(rows)
    for statement in finishing_sql():
        db.execute(statement)
    db.conn.commit()


def table_counts(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as connection:
        return {model.table: connection.execute(f'SELECT count(*) FROM "{model.table}"').fetchone()[0] for model in MODELS}


def generated_input(work: Path, events: int, seed: int) -> Path:
    """work/data, generated unless it already holds the input of these events and seed.

    The input is generated into a folder beside it and renamed when whole, and what it was
    generated from is written down, so that neither an interrupted run nor another seed is reused.
    """
    data, marker = work / "data", work / "generated.json"
    wanted = {"events": events, "seed": seed}
    if data.is_dir() and marker.is_file() and json.loads(marker.read_text()) == wanted:
        return data
    partial = work / "data.partial"
    for stale in (data, partial):
        shutil.rmtree(stale, ignore_errors=True)
    marker.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), "--events", str(events), "--seed", str(seed), "--output", str(partial)],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    partial.rename(data)
    marker.write_text(json.dumps(wanted) + "\n")
    return data


def machine() -> dict[str, str | int]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor()
    )
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    sqlite_version = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    return {"cpus": os.cpu_count() or 0, "cpu": cpu, "ram_gb": round(memory_kb / 1024**2), "python": platform.python_version(), "sqlite3_shell": sqlite_version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="scratch folder (default /tmp/wic-bench-<N>); its generated data is reused")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three, interleaved; the medians are reported")
    parser.add_argument("--results", type=Path, default=HERE / "results", help="folder for build-<N>.json (default: benchmarks/results)")
    parser.add_argument("--peer", nargs=2, type=Path, metavar=("DB", "CSV_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer(*args.peer)
        return
    if not shutil.which("sqlite3"):
        raise SystemExit("the sqlite3 shell is needed for the floor (Debian: apt-get install sqlite3)")
    work = args.work or Path(f"/tmp/wic-bench-{args.events}")
    data = generated_input(work, args.events, args.seed)
    csv_dir = work / "csv"
    # The build's database is kept: bench_serve.py serves it.
    paths = {"build": work / "wic_events.db", "floor": work / "floor.db", "peer": work / "peer.db"}
    for path in paths.values():
        path.unlink(missing_ok=True)

    wic_events = str(Path(sys.executable).with_name("wic-events"))
    commands = {
        "build": ([wic_events, "build", "--quiet", "--data", str(data), "--output", str(paths["build"])], None),
        "floor": (["sqlite3", str(paths["floor"])], floor_script(csv_dir)),
        "peer": ([sys.executable, __file__, "--events", str(args.events), "--peer", str(paths["peer"]), str(csv_dir)], None),
    }
    rounds: list[dict[str, dict[str, float]]] = []
    for number in range(args.rounds):
        # Interleaved, so that a slow minute of a shared machine slows all three of a round.
        results = {}
        for name, (command, stdin) in commands.items():
            if number or name != "build":
                paths[name].unlink(missing_ok=True)
            results[name] = run(command, stdin=stdin)
            if name == "build" and not number:
                export_csv(paths["build"], csv_dir)  # the rows the floor and the peer import, untimed
        rounds.append(results)
        print(f"round {number + 1}: build / floor {ratio(results, 'build', 'floor')}, build / peer {ratio(results, 'build', 'peer')}", flush=True)

    counts = {name: table_counts(path) for name, path in paths.items()}
    if not counts["build"] == counts["floor"] == counts["peer"]:
        raise SystemExit(f"the three databases hold different numbers of rows, so their times do not compare: {counts}")
    rows = sum(counts["build"].values())
    median = {name: {key: statistics.median(results[name][key] for results in rounds) for key in rounds[0][name]} for name in commands}
    for result in median.values():
        result["records_per_second"] = round(rows / result["seconds"])
    report = {
        "events": args.events,
        "rows": rows,
        "rounds": rounds,
        "results": median,
        # Each ratio is the median of the rounds' own ratios, each measured within one round.
        "build_over_floor": round(statistics.median(ratio(results, "build", "floor") for results in rounds), 3),
        "build_over_peer": round(statistics.median(ratio(results, "build", "peer") for results in rounds), 3),
        "build_over_floor_cpu": round(statistics.median(ratio(results, "build", "floor", "cpu_seconds") for results in rounds), 3),
        "machine": machine(),
    }
    print(f"{args.events:,} events, {rows:,} rows; medians of {args.rounds} rounds")
    print(f"{'':6} {'seconds':>8} {'CPU s':>8} {'records/s':>10} {'peak PSS MB':>12} {'largest RSS MB':>15}")
    for name, result in median.items():
        print(
            f"{name:6} {result['seconds']:8.2f} {result['cpu_seconds']:8.2f} {result['records_per_second']:10,} "
            f"{result['peak_pss_mb']:12.1f} {result['peak_rss_largest_process_mb']:15.1f}"
        )
    print(f"build / floor = {report['build_over_floor']} (target <= 1.3; in CPU time {report['build_over_floor_cpu']})")
    print(f"build / peer = {report['build_over_peer']} (target <= 0.67)")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"build-{args.events}.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    paths["floor"].unlink()
    paths["peer"].unlink()
    shutil.rmtree(csv_dir)


def ratio(results: dict[str, dict[str, float]], over: str, under: str, measure: str = "seconds") -> float:
    return round(results[over][measure] / results[under][measure], 3)


if __name__ == "__main__":
    main()
