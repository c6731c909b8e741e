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
   query, which the time limit must cut off while the other requests keep being answered;
3. attack: the same 16 ordinary clients for --attack-seconds seconds, alone and then beside
   --attackers clients sending requests meant to exhaust the server (ATTACKS), in --rounds
   interleaved pairs. Reported: the ordinary clients' errors and p99 with attackers over
   their p99 without (goal: 0 errors, at most 2), every attack answered with a 4xx, and the
   server's memory at its peak (the proportional set size of all its processes; goal: under 1 GB).

Clients are threads with the standard library's http.client, one keep-alive connection each.
Results are printed and written to benchmarks/results/serve-<N>.json.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
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
from contextlib import closing, contextmanager
from pathlib import Path

from generate import VOCABULARY
from wic_events.site_config import CANNED_QUERIES, DATABASE_NAME

HERE = Path(__file__).resolve().parent
DB = f"/{DATABASE_NAME}"
# Costly but bounded, sent in turn every 8 s of the load test: one counts forever, and only the
# SQL time limit stops it; the other is 1,000 values each within the length bound, 60 MB in all,
# which the response bound refuses.
_ROWS_1000 = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000) "
EXPENSIVE_SQL = [
    "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n",
    _ROWS_1000 + "select hex(randomblob(30000)) from n",
]
# A value for each canned query parameter, drawn from the database: (SQL giving candidates).
PARAMETER_SAMPLES = {
    "event_id": "SELECT id FROM events WHERE kind = 'conference'",
    "person_id": "SELECT speaker_id FROM speeches",
    "speech_id": "SELECT speech_id FROM speech_points",
    "record_id": "SELECT record_id FROM evidence",
    "year": "SELECT DISTINCT substr(start_date, 1, 4) FROM events WHERE start_date IS NOT NULL",
}
OPTIONAL_PARAMETERS = {"speeches_read_on_behalf": ["year"]}
"""Queries measured with each optional parameter given, and with none."""
SAMPLES = 50
# Requests that cost gigabytes or seconds on a site without bounds: (method, path). Each must be
# refused with a 4xx, quickly, while ordinary visitors are served as before.
ATTACK_SQL = [
    "select length(randomblob(1000000000))",
    "select printf('%.*c', 1000000000, 'x')",
    _ROWS_1000 + "select hex(zeroblob(250000)) from n",
    "select fts3_tokenizer('simple')",
    "select fts3_tokenizer('simple', x'0000000000000000')",
]
ATTACKS = [
    *[("GET", f"{DB}/-/query.json?" + urllib.parse.urlencode({"sql": sql})) for sql in ATTACK_SQL],
    ("GET", f"{DB}/participants.json?" + urllib.parse.urlencode([("_facet", "role")] * 180)),
    ("GET", f"{DB}/participants.json?_facet=nonexistent"),
    ("GET", f"{DB}/events.json?_facet_array=name"),
    ("POST", f"{DB}/-/query.json?" + urllib.parse.urlencode({"sql": "select 1"})),
]


def samples(connection: sqlite3.Connection, query: str) -> list[str]:
    """Up to SAMPLES values spread over the whole result, always the same ones."""
    values = [row[0] for row in connection.execute(query)]
    step = max(1, len(values) // SAMPLES)
    return values[::step][:SAMPLES]


def page_kinds(database: Path) -> dict[str, list[str]]:
    """Each kind of page measured, with the paths a client cycles through."""
    with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        values = {name: samples(connection, query) for name, query in PARAMETER_SAMPLES.items()}
    words = list(VOCABULARY[500 : 500 + SAMPLES])  # each in about one speech summary in forty
    kinds = {
        "table page, HTML (events: default sort and facets)": [f"{DB}/events"],
        "table page, JSON (events)": [f"{DB}/events.json"],
        "faceted table page, HTML (participants by role and event)": [f"{DB}/participants"],
        "search, JSON (speeches)": [f"{DB}/speeches.json?_search={word}" for word in words],
        "search, HTML (speeches)": [f"{DB}/speeches?_search={word}" for word in words],
        "site search, JSON (every table, by rank)": [f"/-/search.json?q={word}" for word in words],
        "row page with links into it, HTML (an event)": [f"{DB}/events/{value}" for value in values["event_id"]],
    }
    values["q"] = words
    for name, query in CANNED_QUERIES.items():
        optional = OPTIONAL_PARAMETERS.get(name)
        measured = [("", [])] + [(f" (a {parameter})", [parameter]) for parameter in optional] if optional is not None else [("", query.get("params", []))]
        for label, parameters in measured:
            kinds[f"canned query {name}{label}, JSON"] = [
                f"{DB}/{name}.json?" + urllib.parse.urlencode({parameter: values[parameter][turn % len(values[parameter])] for parameter in parameters})
                for turn in range(SAMPLES if parameters else 1)
            ]
    return kinds


class Client(threading.Thread):
    """Requests paths in turn until the deadline, keeping each latency in seconds and each error.

    An ordinary client expects 200; an attacker (``refused=True``) sends (method, path) pairs and
    expects each to be refused with a 4xx: anything else, a 5xx above all, is its error."""

    def __init__(self, port: int, paths: list, deadline: float, offset: int, refused: bool = False):
        super().__init__(daemon=True)
        self.port, self.paths, self.deadline, self.offset, self.refused = port, paths, deadline, offset, refused
        self.latencies: list[tuple[float, float]] = []  # (finished at, seconds)
        self.errors: list[str] = []

    def answered_as_expected(self, status: int) -> bool:
        return 400 <= status < 500 if self.refused else status == 200

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        turn = self.offset
        while time.perf_counter() < self.deadline:
            method, path = self.paths[turn % len(self.paths)] if self.refused else ("GET", self.paths[turn % len(self.paths)])
            turn += 1
            started = time.perf_counter()
            try:
                connection.request(method, path)
                response = connection.getresponse()
                response.read()
                if not self.answered_as_expected(response.status):  # an error page may come fast: it is not a latency of the page
                    self.errors.append(f"{response.status} {method} {path[:120]}")
                    continue
            except (OSError, http.client.HTTPException) as error:
                self.errors.append(f"{type(error).__name__} {path}")
                connection.close()
                continue
            finished = time.perf_counter()
            self.latencies.append((finished, finished - started))
        connection.close()


def make_clients(port: int, paths: list, count: int, deadline: float, refused: bool = False) -> list[Client]:
    return [Client(port, paths, deadline, offset, refused) for offset in range(count)]


def run(threads: list[Client]) -> list[Client]:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads


def hammer(port: int, paths: list[str], count: int, seconds: float) -> list[Client]:
    return run(make_clients(port, paths, count, time.perf_counter() + seconds))


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
    """Send each of EXPENSIVE_SQL in turn every ``every`` seconds until ``seconds`` have passed: how each ended."""
    outcomes: list[dict[str, float | int | str]] = []
    deadline = time.perf_counter() + seconds
    turns = itertools.cycle(EXPENSIVE_SQL)
    while time.perf_counter() + every + 2 <= deadline:
        time.sleep(every)
        sql = next(turns)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        connection.request("GET", f"{DB}/-/query.json?" + urllib.parse.urlencode({"sql": sql}))
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        finished = time.perf_counter()
        connection.close()
        error = json.loads(body).get("error", "") if response.status != 200 else ""
        outcomes.append(
            {
                "sql": sql[-40:],
                "status": response.status,
                "started": started,
                "finished": finished,
                "seconds": round(finished - started, 3),
                "error": error[:100],
            }
        )
    return outcomes


def ordinary_mix(kinds: dict[str, list[str]]) -> list[str]:
    return [path for name, paths in kinds.items() if not name.startswith("row page") for path in paths[:5]]


def load_test(port: int, kinds: dict[str, list[str]], clients: int, seconds: float) -> dict:
    """Many clients on a mix of pages while expensive queries are cut off."""
    mix = ordinary_mix(kinds)
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


def memory_of(pid: int, kind: str = "Pss") -> int:
    """Bytes of memory of a process and all its descendants: their proportional set sizes, so
    that pages the forked server processes share are counted once in all. ``kind`` "Pss_Anon"
    counts only the processes' own memory, not the database file's pages that mmap maps in."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, waiting = 0, [pid]
    while waiting:
        process = waiting.pop()
        waiting += children.get(process, [])
        try:
            rollup = Path(f"/proc/{process}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith(f"{kind}:"))
    return total


class MemoryWatch(threading.Thread):
    """The peaks of memory_of(pid), in all and the processes' own, sampled every half second until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.own_peak, self.stopped = pid, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.peak = max(self.peak, memory_of(self.pid))
            self.own_peak = max(self.own_peak, memory_of(self.pid, "Pss_Anon"))


def attack_test(port: int, server_pid: int, kinds: dict[str, list[str]], count: int, attackers: int, seconds: float, rounds: int) -> dict:
    """The ordinary mix alone, then beside attackers, ``rounds`` times in turn: the ordinary
    clients' p99 with attackers over their p99 without, measured in the same run."""
    mix = ordinary_mix(kinds)
    watch = MemoryWatch(server_pid)
    watch.start()
    alone, beside, hostile = [], [], []
    for _ in range(rounds):
        alone += hammer(port, mix, count, seconds)
        deadline = time.perf_counter() + seconds
        ordinary = make_clients(port, mix, count, deadline)
        attacking = make_clients(port, ATTACKS, attackers, deadline, refused=True)
        run(ordinary + attacking)
        beside += ordinary
        hostile += attacking
    watch.stopped.set()
    watch.join()
    without, with_attackers, attacks = summary(alone, seconds * rounds), summary(beside, seconds * rounds), summary(hostile, seconds * rounds)
    return {
        "ordinary_clients": count,
        "attackers": attackers,
        "seconds_per_phase": seconds,
        "rounds": rounds,
        "without_attackers": without,
        "with_attackers": with_attackers,
        "attacks": attacks,
        "p99_with_over_without": round(with_attackers["p99_ms"] / without["p99_ms"], 2),
        "server_memory_peak_mb": round(watch.peak / 2**20),
        "server_own_memory_peak_mb": round(watch.own_peak / 2**20),
    }


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
                yield port, server.pid
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
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--attack-seconds", type=float, default=10, help="per phase, with and without attackers")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of phases, without and with attackers")
    parser.add_argument("--processes", type=int, help="server processes (default: as wic-events serve, two a core)")
    args = parser.parse_args()
    work = args.work or Path(f"/tmp/wic-bench-{args.events}")
    database = work / "wic_events.db"
    if not database.is_file():
        if not (work / "data").is_dir():
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), "--events", str(args.events), "--seed", str(args.seed), "--output", str(work / "data")],
                stdout=subprocess.DEVNULL,
                check=True,
            )
        subprocess.run(
            [str(Path(sys.executable).with_name("wic-events")), "build", "--quiet", "--data", str(work / "data"), "--output", str(database)], check=True
        )

    kinds = page_kinds(database)
    processes = args.processes or 2 * (os.cpu_count() or 1)
    report: dict = {"events": args.events, "clients": args.clients, "server_processes": processes, "seconds_per_kind": args.seconds, "latency": {}}
    with served(database, work / "data", processes) as (port, server_pid):
        hammer(port, [path for paths in kinds.values() for path in paths[:2]], 2, 3)  # warm the page cache
        print(f"{args.events:,} events; {processes} server processes; {args.clients} concurrent clients, {args.seconds:g} s per kind of page")
        print(f"{'':64} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>6}")
        for name, paths in kinds.items():
            result = summary(hammer(port, paths, args.clients, args.seconds), args.seconds)
            report["latency"][name] = result
            print(f"{name:64} {result.get('p50_ms', '-'):>8} {result.get('p99_ms', '-'):>8} {result['requests_per_second']:>7} {result['errors']:>6}")
        load = load_test(port, kinds, args.load_clients, args.load_seconds)
        attack = attack_test(port, server_pid, kinds, args.load_clients, args.attackers, args.attack_seconds, args.rounds)
    report["load"] = {"clients": args.load_clients, "seconds": args.load_seconds, **load}
    print(
        f"load: {args.load_clients} clients for {args.load_seconds:g} s: {load['requests']} "
        f"requests, {load['errors']} errors, p50 {load.get('p50_ms')} ms, p99 {load.get('p99_ms')} ms"
    )
    for outcome in load["expensive_queries"]:
        print(
            f"  expensive query ...{outcome['sql']}: status {outcome['status']} after {outcome['seconds']} s ({outcome['error']!r}); "
            f"{outcome['other_requests_answered_meanwhile']} other requests answered meanwhile, p50 {outcome['their_p50_ms']} ms"
        )
    report["attack"] = attack
    without, beside, attacks = attack["without_attackers"], attack["with_attackers"], attack["attacks"]
    print(f"attack: {args.load_clients} ordinary clients, {args.rounds} x {args.attack_seconds:g} s alone and beside {args.attackers} attackers")
    print(f"  alone:           {without['requests']} requests, {without['errors']} errors, p50 {without.get('p50_ms')} ms, p99 {without.get('p99_ms')} ms")
    print(f"  beside attacks:  {beside['requests']} requests, {beside['errors']} errors, p50 {beside.get('p50_ms')} ms, p99 {beside.get('p99_ms')} ms")
    print(f"  attacks:         {attacks['requests']} refused with a 4xx, {attacks['errors']} answered otherwise {attacks.get('first_errors', '')}")
    print(
        f"  p99 beside attackers / alone: {attack['p99_with_over_without']} (goal <= 2); "
        f"server memory at its peak: {attack['server_memory_peak_mb']} MB with the database's mapped pages, "
        f"{attack['server_own_memory_peak_mb']} MB of the processes' own (goal < 1024)"
    )
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"serve-{args.events}.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
