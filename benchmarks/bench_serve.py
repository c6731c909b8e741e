"""Latency of the published site at scale, and a load test, over loopback.

    python benchmarks/bench_serve.py --events 1000000

Serves the N-event database of bench_build.py's work folder (building it first if it is
missing) with ``wic-events serve``: immutable, with an inspect file for exact row counts, in
two server processes a core unless --processes says otherwise. Then, all on 127.0.0.1 and each phase bounded in time:

1. latency: for each kind of page in turn, 8 concurrent clients for --seconds seconds;
   median and p99 of each (table page HTML and JSON, faceted table page, full-text search,
   each canned query with parameters, a row page with the links into it);
2. load: 16 concurrent clients for --load-seconds seconds on a mix of table pages, searches
   and canned queries, counting errors; meanwhile, every 8 s, a deliberately expensive SQL
   query, which the time limit must cut off while the other requests keep being answered.

Clients are threads with the standard library's http.client, one keep-alive connection each.
Results are printed and written to benchmarks/results/serve-<N>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

from generate import VOCABULARY
from wic_events.site_config import CANNED_QUERIES, DATABASE_NAME

HERE = Path(__file__).resolve().parent
DB = f"/{DATABASE_NAME}"
# Counts forever; only the SQL time limit stops it.
EXPENSIVE_SQL = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
# A value for each canned query parameter, drawn from the database: (SQL giving candidates).
PARAMETER_SAMPLES = {
    "event_id": "SELECT id FROM events WHERE kind = 'conference'",
    "person_id": "SELECT speaker_id FROM speeches",
    "speech_id": "SELECT speech_id FROM speech_points",
    "record_id": "SELECT record_id FROM evidence",
}
SAMPLES = 50


def samples(connection: sqlite3.Connection, query: str) -> list[str]:
    """Up to SAMPLES values spread over the whole result, always the same ones."""
    values = [row[0] for row in connection.execute(query)]
    step = max(1, len(values) // SAMPLES)
    return values[::step][:SAMPLES]


def page_kinds(database: Path) -> dict[str, list[str]]:
    """Each kind of page measured, with the paths a client cycles through."""
    with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as connection:
        values = {name: samples(connection, query) for name, query in PARAMETER_SAMPLES.items()}
    words = list(VOCABULARY[500 : 500 + SAMPLES])  # each in about one speech summary in forty
    kinds = {
        "table page, HTML (events: default sort and facets)": [f"{DB}/events"],
        "table page, JSON (events)": [f"{DB}/events.json"],
        "faceted table page, HTML (participants by role and event)": [f"{DB}/participants"],
        "search, JSON (speeches)": [f"{DB}/speeches.json?_search={word}" for word in words],
        "search, HTML (speeches)": [f"{DB}/speeches?_search={word}" for word in words],
        "row page with links into it, HTML (an event)": [f"{DB}/events/{value}" for value in values["event_id"]],
    }
    values["q"] = words
    for name, query in CANNED_QUERIES.items():
        parameters = query.get("params", [])
        kinds[f"canned query {name}, JSON"] = [
            f"{DB}/{name}.json?" + urllib.parse.urlencode({parameter: values[parameter][turn % len(values[parameter])] for parameter in parameters})
            for turn in range(SAMPLES if parameters else 1)
        ]
    return kinds


class Client(threading.Thread):
    """Requests paths in turn until the deadline, keeping each latency in seconds and each error."""

    def __init__(self, port: int, paths: list[str], deadline: float, offset: int):
        super().__init__(daemon=True)
        self.port, self.paths, self.deadline, self.offset = port, paths, deadline, offset
        self.latencies: list[tuple[float, float]] = []  # (finished at, seconds)
        self.errors: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        turn = self.offset
        while time.perf_counter() < self.deadline:
            path = self.paths[turn % len(self.paths)]
            turn += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:  # an error page may come fast: it is not a latency of the page
                    self.errors.append(f"{response.status} {path}")
                    continue
            except (OSError, http.client.HTTPException) as error:
                self.errors.append(f"{type(error).__name__} {path}")
                connection.close()
                continue
            finished = time.perf_counter()
            self.latencies.append((finished, finished - started))
        connection.close()


def hammer(port: int, paths: list[str], clients: int, seconds: float) -> list[Client]:
    deadline = time.perf_counter() + seconds
    threads = [Client(port, paths, deadline, offset) for offset in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads


def summary(threads: list[Client], seconds: float) -> dict[str, float | int | list[str]]:
    latencies = sorted(latency for thread in threads for _, latency in thread.latencies)
    errors = [error for thread in threads for error in thread.errors]
    result: dict[str, float | int | list[str]] = {"requests": len(latencies), "errors": len(errors), "requests_per_second": round(len(latencies) / seconds, 1)}
    if len(latencies) >= 2:
        result["p50_ms"] = round(statistics.median(latencies) * 1000, 1)
        # Inclusive: within the latencies measured, never beyond the slowest (with fewer than 100
        # requests the p99 is then near the slowest one).
        result["p99_ms"] = round(statistics.quantiles(latencies, n=100, method="inclusive")[98] * 1000, 1)
    if errors:
        result["first_errors"] = errors[:5]
    return result


def expensive_queries(port: int, every: float, seconds: float) -> list[dict[str, float | int | str]]:
    """Send EXPENSIVE_SQL every ``every`` seconds until ``seconds`` have passed: how each ended."""
    outcomes = []
    deadline = time.perf_counter() + seconds
    path = f"{DB}/-/query.json?" + urllib.parse.urlencode({"sql": EXPENSIVE_SQL})
    while True:
        time.sleep(every)
        if time.perf_counter() + 2 > deadline:
            return outcomes
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        finished = time.perf_counter()
        connection.close()
        outcomes.append({"status": response.status, "started": started, "finished": finished, "seconds": round(finished - started, 3), "error": json.loads(body).get("error", "")[:100]})


def load_test(port: int, kinds: dict[str, list[str]], clients: int, seconds: float) -> dict:
    """Many clients on a mix of pages while expensive queries are cut off."""
    mix = [path for name, paths in kinds.items() if not name.startswith("row page") for path in paths[:5]]
    spoiler: list[dict] = []
    thread = threading.Thread(target=lambda: spoiler.extend(expensive_queries(port, 8, seconds)), daemon=True)
    thread.start()
    threads = hammer(port, mix, clients, seconds)
    thread.join()
    result = summary(threads, seconds)
    # Were other requests answered while each expensive query ran?
    for outcome in spoiler:
        during = [latency for client in threads for finished, latency in client.latencies if outcome["started"] <= finished <= outcome["finished"]]
        outcome["other_requests_answered_meanwhile"] = len(during)
        outcome["their_p50_ms"] = round(statistics.median(during) * 1000, 1) if during else None
        del outcome["started"], outcome["finished"]
    result["expensive_queries"] = spoiler
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(database: Path, data: Path, processes: int | None):
    """``wic-events serve`` of the database on a free loopback port."""
    with tempfile.TemporaryDirectory(prefix="wic-bench-serve-") as scratch:
        port = free_port()
        command = [str(Path(sys.executable).with_name("wic-events")), "serve", "--db", str(database), "--data", str(data), "--port", str(port)]
        if processes:
            command += ["--processes", str(processes)]
        with (Path(scratch) / "server.log").open("w") as log:
            server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until_up(port, server)
                yield port
            finally:
                server.terminate()  # it stops the server processes it started
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def wait_until_up(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/-/versions.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer within {seconds} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="bench_build.py's work folder (default /tmp/wic-bench-<N>)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5, help="per kind of page")
    parser.add_argument("--load-clients", type=int, default=16)
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--processes", type=int, help="server processes (default: as wic-events serve, two a core)")
    args = parser.parse_args()
    work = args.work or Path(f"/tmp/wic-bench-{args.events}")
    database = work / "wic_events.db"
    if not database.is_file():
        if not (work / "data").is_dir():
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--events", str(args.events), "--seed", str(args.seed), "--output", str(work / "data")], stdout=subprocess.DEVNULL, check=True)
        subprocess.run([str(Path(sys.executable).with_name("wic-events")), "build", "--quiet", "--data", str(work / "data"), "--output", str(database)], check=True)

    kinds = page_kinds(database)
    processes = args.processes or 2 * (os.cpu_count() or 1)
    report: dict = {"events": args.events, "clients": args.clients, "server_processes": processes, "seconds_per_kind": args.seconds, "latency": {}}
    with served(database, work / "data", processes) as port:
        hammer(port, [path for paths in kinds.values() for path in paths[:2]], 2, 3)  # warm the page cache
        print(f"{args.events:,} events; {processes} server processes; {args.clients} concurrent clients, {args.seconds:g} s per kind of page")
        print(f"{'':64} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>6}")
        for name, paths in kinds.items():
            result = summary(hammer(port, paths, args.clients, args.seconds), args.seconds)
            report["latency"][name] = result
            print(f"{name:64} {result.get('p50_ms', '-'):>8} {result.get('p99_ms', '-'):>8} {result['requests_per_second']:>7} {result['errors']:>6}")
        load = load_test(port, kinds, args.load_clients, args.load_seconds)
    report["load"] = {"clients": args.load_clients, "seconds": args.load_seconds, **load}
    print(f"load: {args.load_clients} clients for {args.load_seconds:g} s: {load['requests']} requests, {load['errors']} errors, p50 {load.get('p50_ms')} ms, p99 {load.get('p99_ms')} ms")
    for outcome in load["expensive_queries"]:
        print(f"  expensive query: status {outcome['status']} after {outcome['seconds']} s ({outcome['error']!r}); {outcome['other_requests_answered_meanwhile']} other requests answered meanwhile, p50 {outcome['their_p50_ms']} ms")
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"serve-{args.events}.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
