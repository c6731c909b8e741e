"""Compiling data/ into one SQLite file: tables from the models, checks, indexes, FTS5, views.

The build streams records into a temporary file beside the output, a chunk at a
time (read and validated in other processes when the input is big), filling the
full-text indexes as rows come and creating the other indexes only after loading;
it replaces the output only when the new file is whole and checked. A failed or
killed build leaves the previous database as it was.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import multiprocessing
import operator
import os
import signal
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._version import __version__
from .inputs import EVERYTHING, RECORD_SUFFIXES, ChunkStart, RawRecord, Share, UnknownRecords, cannot_read, input_files, read_share, record_files
from .models import (
    DERIVED_MODELS,
    MODELS_BY_TABLE,
    RECORD_MODELS,
    SCHEMA_VERSION,
    BuildInfo,
    Count,
    Record,
    Source,
    SourceSentence,
    date_fields,
    json_text,
    reference_fields,
    table_columns,
)
from .problems import CannotBuild, CannotWrite, InvalidData, Location, Problem
from .sentences import sentence_spans
from .validation import Finding, RecordValidator, cross_record_findings, earliest_day_sql, latest_day_sql, locate, note_rejected_ids, repeated_citation

MAX_PROBLEMS_BEFORE_STOP = 1_000
WORKER_MIN_BYTES = 8 * 2**20
"""Record files at least this large in all are read and validated in other processes, one a
core, while this one inserts: validating takes longer than inserting."""
MAX_WORKERS = 4
"""More validating processes would only wait for the one that inserts."""
VALIDATOR_NICENESS = 10
FTS_BATCH_ROWS = 20_000
"""Rows of a table put in its full-text index at once while loading: each statement leaves FTS5 a
segment to merge later, and segments of a chunk each (2,000 units) cost a third more at 200k events."""
LOAD_PRAGMAS = ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -16384", "foreign_keys = OFF")
"""How the build writes: no journal and no syncing while it loads (the file is a temporary one,
replaced whole or removed, and synced once at the end), a 16 MB page cache, and foreign keys
checked by the cross-record checks instead of row by row."""


INDEXED_MODELS: tuple[type[Record], ...] = (*RECORD_MODELS, SourceSentence)
"""The tables the build fills and indexes, and counts in build_info (build_info itself aside)."""


@dataclass
class BuildResult:
    output: Path
    counts: dict[str, int]
    input_digest: str


# --- SQL derived from the models -------------------------------------------------


def create_table_sql(model: type[Record]) -> str:
    """CREATE TABLE for a model: its columns (see models.Column.to_sql), primary and foreign keys."""
    lines = [column.to_sql() for column in table_columns(model)]
    if model.primary_key:
        lines.append("PRIMARY KEY (" + ", ".join(f'"{name}"' for name in model.primary_key) + ")")
    for column, target in reference_fields(model).items():
        lines.append(f'FOREIGN KEY ("{column}") REFERENCES "{target}" ("id")')
    return f'CREATE TABLE "{model.table}" (\n    ' + ",\n    ".join(lines) + "\n)"


# Indexes that serve a canned query's filter and order at once; each also serves lookups by its
# first column, so no index on that column alone is made.
COMPOSITE_INDEXES: dict[str, list[tuple[str, ...]]] = {
    # speeches_at_event (event_id, in reported order) and speeches_read_on_behalf (per event, by mode).
    "speeches": [("event_id", "delivery_mode", "reported_order")],
}


def index_sql(model: type[Record]) -> list[str]:
    """An index on every foreign-key column, on evidence's record columns, and on each column
    the published site sorts or facets the table by: with millions of rows, a table's first
    page must not sort or count every row."""
    columns = list(COMPOSITE_INDEXES.get(model.table, []))
    for column in reference_fields(model):
        if all(names[0] != column for names in columns):
            columns.append((column,))
    if model.table in ("evidence", "claims"):
        columns.append(("record_table", "record_id"))
    if model.table == "alternate_names":
        columns += [("entity_id",), ("name",)]  # the second for search_everything, which matches whole names
    if (sort := model.sort_field) and all(names[0] != sort for names in columns):
        # With the primary key after it: Datasette orders a sorted page by both.
        columns.append((sort, *model.primary_key))
    for column in model.facet_fields:
        if all(names[0] != column for names in columns):
            columns.append((column,))
    statements = [
        f'CREATE INDEX "idx_{model.table}_{"_".join(names)}" ON "{model.table}" ({", ".join(chr(34) + n + chr(34) for n in names)})' for names in columns
    ]
    if model.table == "people":  # person_activity finds a person by name as typed, in any case
        statements.append('CREATE INDEX "idx_people_name_nocase" ON "people" ("name" COLLATE NOCASE)')
    return statements


def fts_table_sql(model: type[Record]) -> str:
    columns = ", ".join(f'"{name}"' for name in model.search_fields)
    return f'CREATE VIRTUAL TABLE "{model.fts_table}" USING fts5({columns}, content="{model.table}", content_rowid="rowid", tokenize="porter unicode61")'


def fts_append_sql(model: type[Record]) -> str:
    """Index the rows after a given rowid. The build indexes rows while it loads, FTS_BATCH_ROWS of
    a table at a time, so that the work is done while the validating processes are still busy."""
    columns = ", ".join(f'"{name}"' for name in model.search_fields)
    return f'INSERT INTO "{model.fts_table}"(rowid, {columns}) SELECT rowid, {columns} FROM "{model.table}" WHERE rowid > ?'


def date_range_view_sql(model: type[Record]) -> str | None:
    """A view giving, for each partial date, the earliest and latest day it can mean."""
    names = date_fields(model)
    if not names:
        return None
    columns = ["id"]
    for name in names:
        columns += [name, f"{earliest_day_sql(name)} AS {name}_earliest", f"{latest_day_sql(name)} AS {name}_latest"]
    return f'CREATE VIEW "{model.table}_date_ranges" AS SELECT {", ".join(columns)} FROM "{model.table}"'


CONVENIENCE_VIEWS = {
    "speech_details": """
        SELECT s.id, s.event_id, e.name AS event_name, s.reported_order,
               s.speaker_id, sp.name AS speaker_name, s.on_behalf_of_id, ob.name AS on_behalf_of_name,
               s.delivery_mode, s.kind, s.title, coalesce(s.summary, sm.text) AS summary,
               s.summary_id IS NOT NULL AS summary_is_shared
        FROM speeches s
        JOIN events e ON e.id = s.event_id
        JOIN people sp ON sp.id = s.speaker_id
        LEFT JOIN people ob ON ob.id = s.on_behalf_of_id
        LEFT JOIN summaries sm ON sm.id = s.summary_id""",
    "participant_details": """
        SELECT pa.id, pa.event_id, e.name AS event_name, pa.person_id, pe.name AS person_name, pa.role,
               pa.position_id, po.title AS position_title, po.country_code AS position_country_code,
               o.name AS position_organization
        FROM participants pa
        JOIN events e ON e.id = pa.event_id
        JOIN people pe ON pe.id = pa.person_id
        LEFT JOIN positions po ON po.id = pa.position_id
        LEFT JOIN organizations o ON o.id = po.organization_id""",
    "record_sentences": """
        SELECT ev.record_table, ev.record_id, ev.field, ev.quote, ss.id AS sentence_id, ss.text AS sentence,
               ev.source_id, ev.id AS evidence_id
        FROM evidence ev JOIN source_sentences ss
          ON ss.source_id = ev.source_id AND ss.start < ev."end" AND ss."end" > ev.start""",
    "sentence_coverage": """
        SELECT ss.id, ss.source_id, ss.ordinal, ss.text, ss.boilerplate,
               (SELECT count(*) FROM evidence ev WHERE ev.source_id = ss.source_id
                  AND ev.start < ss."end" AND ev."end" > ss.start) AS evidence_count
        FROM source_sentences ss""",
    # Every claim about every disputed fact: the claims table, and the counts of one subject at one
    # event that do not all say the same (each count is one source's claim about the number).
    "disputed_facts": f"""
        SELECT c.record_table, c.record_id, c.field, c.value, c.source_id, c.quote, c.preferred,
               CASE c.record_table WHEN 'events' THEN c.record_id
                    ELSE (SELECT x.event_id FROM speeches x WHERE c.record_table = 'speeches' AND x.id = c.record_id
                          UNION ALL SELECT x.event_id FROM participants x WHERE c.record_table = 'participants' AND x.id = c.record_id
                          UNION ALL SELECT x.event_id FROM documents x WHERE c.record_table = 'documents' AND x.id = c.record_id) END AS event_id,
               c.record_id || ' ' || c.field AS fact
        FROM claims c
        UNION ALL
        SELECT 'counts', n.id, 'value', {Count.value_sql("n")}, n.source_id,
               (SELECT e.quote FROM evidence e WHERE e.record_table = 'counts' AND e.record_id = n.id ORDER BY e.field IS NOT 'value', e.rowid LIMIT 1),
               coalesce(n.preferred, 0), n.event_id, n.event_id || ' ' || n.subject
        FROM counts n
        WHERE EXISTS (
            -- Another count of the subject at the event that says otherwise; through the index on
            -- event_id, so that one count's claims are found without grouping every count.
            SELECT 1 FROM counts o WHERE o.event_id = n.event_id AND o.subject = n.subject AND (o.qualifier != n.qualifier OR o.value != n.value))""",
    "evidence_details": """
        SELECT ev.id, ev.record_table, ev.record_id, ev.field, ev.quote, ev.source_id, so.title AS source_title,
               so.url AS source_url, ev.start, ev."end", ev.start IS NOT NULL AS located,
               CASE WHEN ev.start IS NOT NULL THEN substr(so.text, max(ev.start - 200, 0) + 1, min(ev.start, 200)) END AS before_quote,
               CASE WHEN ev.start IS NOT NULL THEN substr(so.text, ev."end" + 1, 200) END AS after_quote
        FROM evidence ev JOIN sources so ON so.id = ev.source_id""",
}


def view_sql() -> list[str]:
    statements = [sql for model in RECORD_MODELS if (sql := date_range_view_sql(model))]
    statements += [f'CREATE VIEW "{name}" AS {body.strip()}' for name, body in CONVENIENCE_VIEWS.items()]
    return statements


def row_values(record: Record, columns: list[str]) -> tuple:
    """A record's values in column order, as SQLite stores them."""
    return tuple(_sql_value(getattr(record, name)) for name in columns)


def _sql_value(value: Any) -> Any:
    return json_text(value) if isinstance(value, (dict, list)) else value


# --- the build -------------------------------------------------------------------


def input_digest(data_dir: Path) -> str:
    """SHA-256 over every input file's path and bytes."""
    digest = hashlib.sha256()
    for path in input_files(data_dir):
        relative = path.relative_to(data_dir).as_posix()
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        try:
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        except OSError as error:  # every input counts towards the digest, so one that cannot be read stops the build
            raise InvalidData([cannot_read(relative, error)]) from None
    return digest.hexdigest()


def build(data_dir: Path, output: Path, progress: Callable[[int], None] | None = None) -> BuildResult:
    """Validate everything under ``data_dir`` and write the database to ``output``.

    Raises ``InvalidData`` with every problem found, or ``CannotWrite`` when ``output``
    cannot be written; ``output`` is then untouched.
    """
    build_time()  # a bad SOURCE_DATE_EPOCH is said before any work, not after it
    output = output.resolve()
    if output.is_dir():
        raise CannotWrite(f"{output} is a folder; give the path of a file for the database")
    if output.is_relative_to(data_dir.resolve()):
        raise CannotWrite(f"{output} lies inside the data folder {data_dir}, which the build reads; write the database elsewhere")
    if output.exists() and not is_wic_events_database(output):
        raise CannotWrite(
            f"{output} exists and is not a wic-events database; the build replaces only a database it wrote: remove the file or choose another path"
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(output)
        temporary = output.with_name(f"{output.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        temporary.touch()  # so that a folder we may not write to is reported here, and not by SQLite as "unable to open"
    except OSError as error:
        raise CannotWrite.because(output, error) from None
    try:
        result = _build_into(data_dir, temporary, progress)
        try:
            os.replace(temporary, output)
        except OSError as error:  # the output became a folder meanwhile, say
            raise CannotWrite.because(output, error) from None
        result.output = output
        return result
    except sqlite3.OperationalError as error:
        # A full disk or a failing one, met while writing; any other SQLite error is a bug, and is not hidden.
        if getattr(error, "sqlite_errorname", "").startswith(("SQLITE_FULL", "SQLITE_IOERR")):
            raise CannotWrite(f"cannot write {output}: {error}") from None
        raise
    finally:
        temporary.unlink(missing_ok=True)


def _remove_leftovers(output: Path) -> None:
    """Remove temporary files of earlier builds of ``output`` that were killed before cleaning up."""
    for leftover in output.parent.glob(f"{output.name}.*.tmp"):
        pid = leftover.name[len(output.name) + 1 : -len(".tmp")]
        if pid.isdigit() and not _is_running(int(pid)):
            leftover.unlink(missing_ok=True)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_dead_scratch(prefix: str) -> None:
    """Remove the scratch folders of validate runs that were killed (kill -9) before cleaning up:
    their names hold the process id after ``prefix``."""
    import shutil
    import tempfile

    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = folder.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not _is_running(int(pid)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def check_only(data_dir: Path, scratch_dir: Path) -> list[Problem]:
    """Every problem a build would report, writing nothing but a scratch file that is removed."""
    try:
        build(data_dir, scratch_dir / "validate.db")
    except InvalidData as error:
        return error.problems
    finally:
        (scratch_dir / "validate.db").unlink(missing_ok=True)
    return []


def _build_into(data_dir: Path, path: Path, progress: Callable[[int], None] | None) -> BuildResult:
    """Write the database to ``path``, on disk (fsync) and checked when this returns."""
    workers = _worker_count(data_dir)
    # Reading every input byte again for the digest takes seconds at a million events; a thread
    # does it meanwhile (hashing and reading let other threads run). So do the fsync and the
    # integrity check at the end.
    # The workers start before the database is opened, so that they hold no copy of the connection.
    with (
        ThreadPoolExecutor(max_workers=3) as background,
        closing(_Workers(data_dir, workers) if workers else _validate(data_dir)) as messages,
        closing(sqlite3.connect(path, isolation_level=None)) as connection,
    ):
        digest_of_input = background.submit(input_digest, data_dir)
        for pragma in LOAD_PRAGMAS:
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("BEGIN")
        for model in RECORD_MODELS:
            connection.execute(create_table_sql(model))
            if model.search_fields:
                connection.execute(fts_table_sql(model))
        problems: list[Problem] = []
        duplicates = _insert_rows(connection, messages, problems, progress)
        if not problems and not any(connection.execute(f'SELECT EXISTS (SELECT 1 FROM "{model.table}")').fetchone()[0] for model in RECORD_MODELS):
            # A wrong --data folder would otherwise replace the database with an empty one.
            problems.append(
                Problem(Location("."), f"no records found in the data folder; records are kept in {', '.join(RECORD_SUFFIXES)} files (see the README)")
            )
        # Every record was read unless the load stopped at the problem limit; only then would the
        # cross-record checks report little but the records left unread.
        checked_across = len(problems) < MAX_PROBLEMS_BEFORE_STOP
        if checked_across:
            # Before the cross-record checks, which look rows up by these columns.
            for model in INDEXED_MODELS:
                for statement in index_sql(model):
                    connection.execute(statement)
            # Statistics for the query planner, sampled from each index so that it takes little time.
            # Without them it can pick the wrong index (speech_points by kind, not by speech_id), and
            # the site would read all of evidence to find a record_id.
            connection.execute("PRAGMA analysis_limit = 1000")
            connection.execute("ANALYZE")
        digest: str | None = None
        if checked_across:
            try:
                digest = digest_of_input.result()
            except InvalidData as error:  # an input file that cannot be read, said with everything else found
                problems.extend(problem for problem in error.problems if problem not in problems)  # a record file's reader said it already
        result: BuildResult | None = None
        on_disk: list[Future[None]] = []
        if digest is not None and not problems and not duplicates:
            # Likely to pass: finish and commit the database now, so that its integrity check, with a
            # connection of its own in a thread, runs while this one checks across records.
            result = BuildResult(path, _finish(connection, digest), digest)
            on_disk = [background.submit(_fsync, path), background.submit(_check_integrity, path)]
        findings = duplicates + (cross_record_findings(connection) if checked_across else [])
        if findings:
            problems.extend(locate(data_dir, findings))
        if problems:
            raise InvalidData(problems)
        for job in on_disk:
            job.result()
        assert result is not None, "with no problem found, the database was finished above"
        return result


def _finish(connection: sqlite3.Connection, digest: str) -> dict[str, int]:
    """Write the views and build_info, commit, and let other connections read; the row counts."""
    for statement in view_sql():
        connection.execute(statement)
    counts = {model.table: connection.execute(f'SELECT count(*) FROM "{model.table}"').fetchone()[0] for model in INDEXED_MODELS}
    _write_build_info(connection, counts, digest)
    connection.execute("COMMIT")
    connection.execute("PRAGMA locking_mode = NORMAL")
    connection.execute("SELECT 1 FROM sqlite_master").fetchone()  # the exclusive lock goes with the next read
    return counts


# Reading and validating yields messages: ("chunk", its number, rows by table, records read,
# problems) for each chunk of the input (see inputs.Share) in order, and last ("done", source
# texts, boilerplate passages by source, the (table, id) of records found invalid, the files
# with no record read and their tables, the files with records read).
Message = tuple


def _validate(data_dir: Path, share: Share = EVERYTHING) -> Generator[Message, None, None]:
    """Read and validate the records of ``share``, as rows in column order, a chunk at a time."""
    problems: list[Problem] = []
    validator = RecordValidator(data_dir, problems)
    row_makers = {model.table: _row_maker(model) for model in RECORD_MODELS}
    boilerplate: dict[str, list[str]] = {}
    files_with_records: set[str] = set()
    rows: defaultdict[str, list[tuple]] = defaultdict(list)
    chunk, seen, reported = share.worker, 0, 0  # the first chunk of the share
    for raw in read_share(data_dir, problems, share, files_with_records):
        if type(raw) is not RawRecord:
            if type(raw) is UnknownRecords:
                validator.rejected.add((raw.table, "*"))
            elif isinstance(raw, ChunkStart) and raw.chunk != chunk:
                if rows or seen or len(problems) > reported:
                    yield "chunk", chunk, dict(rows), seen, problems[reported:]
                chunk, rows, seen, reported = raw.chunk, defaultdict(list), 0, len(problems)
            continue
        if raw.unit < 0:  # a source another process reports: read here for its text only
            before = len(problems)
            for record, _location in validator.validate(raw):
                if type(record) is Source and record.boilerplate:
                    boilerplate[record.id] = record.boilerplate
            del problems[before:]
            continue
        for record, _location in validator.validate(raw):
            table = record.table
            rows[table].append(row_makers[table](record))
            if type(record) is Source and record.boilerplate:
                boilerplate[record.id] = record.boilerplate
        seen += 1
        if len(problems) >= MAX_PROBLEMS_BEFORE_STOP:
            break
    if rows or seen or len(problems) > reported:
        yield "chunk", chunk, dict(rows), seen, problems[reported:]
    yield "done", validator.sources.texts, boilerplate, validator.rejected, validator.unread_files, files_with_records


def _row_maker(model: type[Record]) -> Callable[[Record], tuple]:
    """A function giving a record's values in column order; attrgetter runs in C."""
    names = list(model.model_fields)
    if any(column.type in ("object", "array") for column in table_columns(model)):
        return lambda record: row_values(record, names)
    return operator.attrgetter(*names)


def _worker_count(data_dir: Path) -> int:
    """How many processes to read and validate in, besides this one, which inserts: none for small inputs."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if sum(path.stat().st_size for path in record_files(data_dir)) < WORKER_MIN_BYTES:
        return 0
    return min(os.cpu_count() or 1, MAX_WORKERS)


class _Workers:
    """The messages of ``_validate`` over the whole input, computed in forked processes, each
    taking a share, and sent through pipes; they come out in chunk order, so the rows are
    inserted in the same order whatever the number of processes, and the file is the same.

    Each process sends a chunk when it is whole, and can be a chunk ahead of the one inserted.
    """

    def __init__(self, data_dir: Path, count: int):
        context = multiprocessing.get_context("fork")
        self.receivers: list[multiprocessing.connection.Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        try:
            for index in range(count):
                receiver, sender = context.Pipe(duplex=False)
                self.receivers.append(receiver)
                process = context.Process(
                    target=_send_messages, args=(data_dir, Share(index, count), sender, self.receivers), daemon=True, name=f"wic-events-validate-{index}"
                )
                process.start()
                sender.close()
                self.processes.append(process)
        except BaseException:
            self.close()  # the processes already started
            raise

    def __iter__(self) -> Iterator[Message]:
        count = len(self.processes)
        waiting: dict[int, Message] = {}  # a process's next chunk, while earlier ones of others go in
        finished: dict[int, Message] = {}
        chunk = 0
        while len(finished) < count:
            owner = chunk % count
            if owner not in finished:
                message = waiting.pop(owner, None) or self._receive(owner)
                if message[0] == "done":
                    finished[owner] = message
                elif message[1] == chunk:
                    yield message
                elif message[1] > chunk:  # the owner had nothing in this chunk
                    waiting[owner] = message
                else:  # it would wait here for ever
                    raise RuntimeError(f"validating process {owner} sent chunk {message[1]} after chunk {chunk}")
            chunk += 1
        _, texts, boilerplate, *_ = finished[0]  # every process read all the sources
        rejected: set[tuple[str, str]] = set()
        unread_files: dict[str, Any] = {}
        files_with_records: set[str] = set()
        for _, _, _, its_rejected, its_unread_files, its_files_with_records in finished.values():
            rejected |= its_rejected
            unread_files |= its_unread_files
            files_with_records |= its_files_with_records
        yield "done", texts, boilerplate, rejected, unread_files, files_with_records

    def _receive(self, index: int) -> Message:
        try:
            return self.receivers[index].recv()
        except EOFError:
            process = self.processes[index]
            process.join()
            killed = " (killed; an out-of-memory kill looks like this)" if process.exitcode in (-signal.SIGKILL, -signal.SIGTERM) else ""
            raise CannotBuild(f"a validating process stopped unexpectedly with exit code {process.exitcode}{killed}; nothing was written") from None

    def close(self) -> None:
        for receiver in self.receivers:
            receiver.close()  # a worker still sending gets BrokenPipeError and stops
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


def _send_messages(data_dir: Path, share: Share, sender: multiprocessing.connection.Connection, receivers: list[multiprocessing.connection.Connection]) -> None:
    # The forked copies of the reading ends must go: only then does a pipe break when the build
    # dies (even by kill -9), and the worker stop instead of waiting for a reader forever.
    for receiver in receivers:
        receiver.close()
    # Ctrl+C reaches every process; the build handles it, and the workers stop as the pipes break.
    # SIGTERM ends a worker as it is: the command line's handler is for the build's own process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The inserting process is the one the build waits for at the end; when cores are short it
    # goes first, and the validators take the time it leaves (7% off the build on 2 cores).
    os.nice(VALIDATOR_NICENESS)
    try:
        for message in _validate(data_dir, share):
            sender.send(message)
    except BrokenPipeError:
        pass  # the build stopped reading: it failed or was interrupted, and says why itself


def _insert_rows(connection: sqlite3.Connection, messages: Iterable[Message], problems: list[Problem], progress: Callable[[int], None] | None) -> list:
    """Insert the rows of every valid record; returns findings for ids defined more than once."""
    columns = {model.table: list(model.model_fields) for model in RECORD_MODELS}
    statements = {
        table: f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in names)}) VALUES ({", ".join("?" * len(names))})'
        for table, names in columns.items()
    }
    duplicates: list = []
    indexed_up_to = dict.fromkeys(statements, 0)  # rowid of the last row in the full-text index
    unindexed = dict.fromkeys(statements, 0)

    def insert(table: str, rows: list[tuple]) -> None:
        insert_rows(table, rows)
        if MODELS_BY_TABLE[table].search_fields:
            unindexed[table] += len(rows)
            if unindexed[table] >= FTS_BATCH_ROWS:
                index_text(table)

    def index_text(table: str) -> None:
        connection.execute(fts_append_sql(MODELS_BY_TABLE[table]), (indexed_up_to[table],))
        (indexed_up_to[table],) = connection.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()
        unindexed[table] = 0

    def insert_rows(table: str, rows: list[tuple]) -> None:
        # executemany stops at a duplicate key with the rows before it inserted, and with
        # journal_mode OFF they cannot be rolled back: so note the row that failed and go on
        # with the rest of the same iterator. total_changes says how many rows went in.
        pending = iter(rows)
        consumed = 0
        while True:
            before = connection.total_changes
            try:
                connection.executemany(statements[table], pending)
                break
            except sqlite3.IntegrityError:
                consumed += connection.total_changes - before + 1
                duplicates.append(_duplicate_finding(table, dict(zip(columns[table], rows[consumed - 1], strict=True))))

    seen = 0
    for kind, *payload in messages:
        if kind == "chunk":
            _, rows, read, found = payload
            for table, table_rows in rows.items():
                insert(table, table_rows)
            problems.extend(found)
            seen += read
            if progress:
                progress(seen)
            if len(problems) >= MAX_PROBLEMS_BEFORE_STOP:
                # The first so many, in reading order, whatever the number of validating processes.
                del problems[MAX_PROBLEMS_BEFORE_STOP:]
                problems.append(Problem(problems[-1].location, f"stopped after {MAX_PROBLEMS_BEFORE_STOP} problems; fix these first"))
                break
        else:
            texts, boilerplate, rejected, unread_files, files_with_records = payload
            # A file is unread only if no validating process read a record of it.
            rejected |= {(table, "*") for file, table in unread_files.items() if file not in files_with_records}
            note_rejected_ids(connection, rejected)
            _insert_sentences(connection, texts, boilerplate)
    for table, count in unindexed.items():
        if count:
            index_text(table)
    return duplicates


def _duplicate_finding(table: str, row: dict[str, Any]) -> Finding:
    model = MODELS_BY_TABLE[table]
    key = model.key_of(row)
    if table == "evidence":  # its id is a hash of the citation, which would tell the author nothing
        return repeated_citation(key, row["record_table"], row["record_id"])
    return table, key, model.primary_key[-1], f"{' + '.join(model.primary_key)} '{key}' is used by more than one {table} record"


def _insert_sentences(connection: sqlite3.Connection, texts: dict[str, str | None], boilerplate: dict[str, list[str]]) -> None:
    connection.execute(create_table_sql(SourceSentence))
    names = list(SourceSentence.model_fields)
    statement = f"INSERT INTO source_sentences ({', '.join(chr(34) + n + chr(34) for n in names)}) VALUES ({', '.join('?' * len(names))})"
    for source_id, text in texts.items():
        if text is None:
            continue
        passages = [(found, found + len(passage)) for passage in boilerplate.get(source_id, []) if (found := text.find(passage)) >= 0]
        rows = (
            (f"{source_id}-s{ordinal}", source_id, ordinal, start, end, text[start:end], any(a <= start and end <= b for a, b in passages))
            for ordinal, (start, end) in enumerate(sentence_spans(text), start=1)
        )
        connection.executemany(statement, rows)


def _write_build_info(connection: sqlite3.Connection, counts: dict[str, int], digest: str) -> None:
    connection.execute(create_table_sql(BuildInfo))
    built_at = build_time()
    info = BuildInfo(
        package_version=__version__,
        schema_version=SCHEMA_VERSION,
        input_digest=digest,
        record_counts=json.dumps(counts, sort_keys=True),
        coverage=coverage_text(connection),
        built_at=built_at,
    )
    names = list(BuildInfo.model_fields)
    connection.execute(f"INSERT INTO build_info ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", row_values(info, names))


def build_time() -> str | None:
    """The build time SOURCE_DATE_EPOCH gives, as ISO 8601, or None when it is not set.

    Raises CannotBuild for a value that is not a whole number of seconds since 1970; the build
    checks it before any work.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    try:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        raise CannotBuild(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 (like 1700000000), not {epoch!r}") from None


def coverage_text(connection: sqlite3.Connection) -> str:
    """What the data covers, in words, from the tables: each series and its years, the web pages
    cited (and how many are not copies of another), and the documents carried whole."""
    parts = []
    series_rows = connection.execute(
        "SELECT series, min(substr(start_date, 1, 4)), max(substr(start_date, 1, 4)), count(*) FROM events "
        "WHERE parent_id IS NULL AND series IS NOT NULL GROUP BY series ORDER BY series"
    ).fetchall()
    for series, first, last, events in series_rows:
        years = first if first == last else f"{first}-{last}"
        parts.append(f"the {series} {years} ({events} events at the top level)")
    pages, originals = connection.execute("SELECT count(*), count(*) - count(copy_of_id) FROM sources WHERE text IS NULL").fetchone()
    text = " and ".join(parts) or "no series"
    text = text[0].upper() + text[1:] + f", from {pages} public web pages ({originals} of them not copies of another), each cited by short exact phrases"
    carried = [title for (title,) in connection.execute("SELECT coalesce(title, id) FROM sources WHERE text IS NOT NULL ORDER BY id")]
    if carried:
        text += f"; and {len(carried)} document(s) carried whole, every fact-bearing sentence cited: " + "; ".join(carried)
    return text + "."


def _fsync(path: Path) -> None:
    try:
        with path.open("rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as error:  # a full or failing disk, found only now
        raise CannotWrite.because(path, error) from None


def _check_integrity(path: Path) -> None:
    """Raise RuntimeError if SQLite finds the written database broken: a bug, not bad input."""
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
        # check_references has already checked every foreign key of the authored tables, naming the
        # record at fault; checking them again here would take as long again. The derived tables remain.
        broken = [row for model in DERIVED_MODELS if reference_fields(model) for row in connection.execute(f'PRAGMA foreign_key_check("{model.table}")')]
        if broken:
            raise RuntimeError(f"foreign_key_check failed after validation passed: {broken[:5]}")
        (status,) = connection.execute("PRAGMA quick_check").fetchone()
        if status != "ok":
            raise RuntimeError(f"quick_check failed: {status}")


def is_wic_events_database(path: Path) -> bool:
    """Whether the file is a database the build wrote (SQLite, with a build_info row)."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return connection.execute("SELECT package_version FROM build_info").fetchone() is not None
    except sqlite3.Error:
        return False


def is_stale(database: Path, data_dir: Path) -> bool:
    """True when the database is missing, unreadable, or was built from other inputs."""
    if not database.is_file():
        return True
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            (built_from,) = connection.execute("SELECT input_digest FROM build_info").fetchone()
    except (sqlite3.Error, TypeError):
        return True
    return built_from != input_digest(data_dir)
