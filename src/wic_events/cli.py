"""The ``wic-events`` command line: a thin face over the package's functions."""

from __future__ import annotations

import base64
import csv
import functools
import importlib.util
import io
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

import click

from ._version import __version__
from .exports import FORMATS as EXPORT_FORMATS
from .inputs import default_data_dir
from .loader import NotADatabase, connect, db_path, search
from .problems import CannotBuild, CannotWrite, InvalidData, Problem

DATA_OPTION = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of records to read (default: the repository's data/, or the package's copy).",
)
DB_OPTION = click.option(
    "--db",
    "database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file (default: the package's wic_events.db, or $WIC_EVENTS_DB).",
)


def output_options(command):
    """--json and --csv, named as sqlite-utils names them; the command is given output_format: text, json or csv."""

    @functools.wraps(command)
    def with_output_format(*args, as_json: bool, as_csv: bool, **kwargs):
        if as_json and as_csv:
            raise click.UsageError("--json and --csv cannot be used together; choose one")
        return command(*args, output_format="json" if as_json else "csv" if as_csv else "text", **kwargs)

    with_output_format = click.option("--csv", "as_csv", is_flag=True, help="Print CSV: a header, then one row per item.")(with_output_format)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON, for tools.")(with_output_format)


def _emit(data: list[dict] | dict, output_format: str, print_text, columns: list[str] | None = None) -> None:
    """Print data (a list of objects, or one object) as JSON or CSV, or for people by calling print_text().

    CSV has one row per object, under a header of their keys (``columns``, when the list may be
    empty); a list or object value goes in its cell as JSON text, as sqlite-utils writes JSON columns.
    """
    if output_format == "json":
        click.echo(_printable(json.dumps(data, indent=2, ensure_ascii=False, default=_json_blob)))
    elif output_format == "csv":
        rows = [data] if isinstance(data, dict) else data
        header = columns or list(dict.fromkeys(key for row in rows for key in row))
        written = io.StringIO()
        writer = csv.DictWriter(written, header)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value for key, value in row.items()})
        click.echo(_printable(written.getvalue()), nl=False)
    else:
        print_text()


def _json_blob(value: object) -> dict:
    # JSON has no bytes; a blob is written as sqlite-utils writes one.
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


VALIDATE_SCRATCH = "wic-events-validate-"
"""How validate's scratch folders begin, followed by the process id: one left by a killed validate is removed."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wic-events")
def cli() -> None:
    """wic-events: the World Internet Conference as an open dataset.

    Records under data/ are validated and compiled into one SQLite file, which
    'wic-events serve' publishes with Datasette on 127.0.0.1.
    """
    # Stopped by kill (SIGTERM), a command ends as after Ctrl+C: its temporary files are removed.
    signal.signal(signal.SIGTERM, _stop)


def _stop(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def _report(problems: list[Problem], output_format: str = "text") -> None:
    if output_format == "json":
        click.echo(_printable(json.dumps([problem.as_dict() for problem in problems], indent=2, ensure_ascii=False)))
    else:
        for problem in problems:
            click.echo(_printable(str(problem)), err=True)
    click.echo(f"{len(problems)} problem(s) found.", err=True)


def _printable(text: str) -> str:
    # Problems quote the input, and a file name that is not UTF-8 or a lone surrogate in JSON
    # would make printing fail; show such characters as escapes instead.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _resolve_data(data_dir: Path | None) -> Path:
    data_dir = data_dir or default_data_dir()
    if not data_dir.is_dir():
        raise click.UsageError(f"no data folder at {data_dir}")
    return data_dir


def run_build(data_dir: Path, output: Path, quiet: bool = False) -> int:
    """Build, print a summary or the problems; returns the exit status."""
    from .compiling import build

    try:
        if not quiet and sys.stderr.isatty():
            result = _build_with_progress(build, data_dir, output)
        else:
            result = build(data_dir, output)
    except InvalidData as error:
        _report(error.problems)
        click.echo(f"Build failed; {output} is unchanged.", err=True)
        return 1
    except (CannotWrite, CannotBuild) as error:
        click.echo(f"Build failed: {_printable(str(error))}; {output} is unchanged.", err=True)
        return 1
    if not quiet:
        total = sum(result.counts.values())
        click.echo(f"Built {result.output}: {total} rows in {len(result.counts)} tables (input digest {result.input_digest[:12]}).")
    return 0


def _build_with_progress(build, data_dir: Path, output: Path):
    from tqdm import tqdm

    class Progress(tqdm):
        # tqdm's monitor is a thread; the build forks validating processes, and a thread holding a
        # lock (tqdm's, or stderr's) at that moment would leave the lock held for ever in the child.
        monitor_interval = 0

    # On stderr, the terminal run_build checked: stdout may be a file, which must get only the summary.
    # shutil falls back to 80 by 24 for a terminal that tells no size, where tqdm would show nothing.
    size = shutil.get_terminal_size()
    with Progress(desc="Building", unit=" records", file=sys.stderr, leave=False, ncols=size.columns, nrows=size.lines) as display:
        return build(data_dir, output, lambda seen: display.update(seen - display.n))


@cli.command()
@DATA_OPTION
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Where to write the database (default: the package's wic_events.db)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
def build(data_dir: Path | None, output: Path | None, quiet: bool) -> None:
    """Validate data/ and compile it into one SQLite file.

    The file is replaced only when the new one is complete and valid; on any
    problem the old file is left as it was and every problem is listed.
    """
    sys.exit(run_build(_resolve_data(data_dir), output or db_path(), quiet))


@cli.command()
@DATA_OPTION
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="json prints the problems as a list of objects, for tools and editors.",
)
def validate(data_dir: Path | None, output_format: str) -> None:
    """Check every record and cross-record rule without writing anything."""
    from .compiling import check_only, remove_dead_scratch

    data_dir = _resolve_data(data_dir)
    remove_dead_scratch(VALIDATE_SCRATCH)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{VALIDATE_SCRATCH}{os.getpid()}-") as scratch:
            problems = check_only(data_dir, Path(scratch))
    except (CannotWrite, CannotBuild) as error:
        click.echo(f"Validation failed: {_printable(str(error))}", err=True)
        sys.exit(1)
    if problems:
        _report(problems, output_format)
        sys.exit(1)
    if output_format == "json":
        click.echo("[]")
    click.echo(f"{data_dir}: no problems found.", err=output_format == "json")


@cli.command()
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("schema"), show_default=True, help="Folder for the JSON Schema files.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("datasette.yaml"),
    show_default=True,
    help="Where to write the Datasette configuration.",
)
@click.option("--check", is_flag=True, help="Write nothing; fail if a file differs from what the models generate.")
def schema(output: Path, config_file: Path, check: bool) -> None:
    """Write the JSON Schema files and datasette.yaml, derived from the models."""
    from .schemas import file_holds, schema_file_texts, stale_schema_files, write_all
    from .site_config import render_config

    if check:
        if not output.is_dir():
            raise click.ClickException(f"no schema folder at {output}: --check compares the files of a checkout of wic-events")
        stale = stale_schema_files(output)
        if not file_holds(config_file, render_config()):
            stale.append(str(config_file))
        if stale:
            click.echo(f"Out of date (run 'wic-events schema'): {', '.join(stale)}", err=True)
            sys.exit(1)
        click.echo("Schema files and Datasette configuration match the models.")
        return
    schema_files = schema_file_texts(output)
    try:
        write_all({config_file: render_config(), **schema_files})
    except CannotWrite as error:
        raise click.ClickException(_printable(str(error))) from None
    click.echo(f"Wrote {len(schema_files)} schema files to {output} and {config_file}.")


@cli.command()
@DB_OPTION
@output_options
def info(database: Path | None, output_format: str) -> None:
    """Print the package and schema versions, input digest and row counts of the database.

    The build time is recorded only by a build run with SOURCE_DATE_EPOCH set, so that builds
    of the same data are otherwise the same file.
    """
    build_info = _build_info(database)
    described = {
        "database": str(database or db_path()),
        "package_version": build_info.package_version,
        "schema_version": build_info.schema_version,
        "input_digest": build_info.input_digest,
        "built_at": build_info.built_at,
        "record_counts": json.loads(build_info.record_counts),
    }

    def print_text() -> None:
        click.echo(f"database:        {described['database']}")
        click.echo(f"package version: {build_info.package_version}")
        click.echo(f"schema version:  {build_info.schema_version}")
        click.echo(f"input digest:    {build_info.input_digest}")
        click.echo(f"built at:        {build_info.built_at or 'not recorded in this build'}")
        for table, count in described["record_counts"].items():
            click.echo(f"  {table:<18} {count:>10,}")

    _emit(described, output_format, print_text)


CITATION_AUTHORS = "The wic-events maintainers"
CITATION_TITLE = "wic-events: the World Internet Conference as an open dataset"
"""As CITATION.cff names them (a test keeps them the same); the installed package does not carry that file."""


@cli.command()
@DB_OPTION
def cite(database: Path | None) -> None:
    """Print how to cite the dataset: the version and input digest the database records (see CITATION.cff)."""
    build_info = _build_info(database)
    # The database's own version, not the installed package's: it is the database that was used.
    click.echo(f"{CITATION_AUTHORS}. {CITATION_TITLE} (version {build_info.package_version}, input digest {build_info.input_digest}).")


def _build_info(database: Path | None):
    """The database's one build_info row: versions, input digest, build time and row counts."""
    from .loader import records
    from .models import BuildInfo

    with closing(_open(database)) as connection:
        (build_info,) = records(BuildInfo, connection)
    return build_info


def _open(database: Path | None):
    try:
        return connect(database)
    except (FileNotFoundError, NotADatabase) as error:
        raise click.ClickException(_printable(str(error))) from None


@cli.command()
@click.argument("sql")
@DB_OPTION
@output_options
def query(sql: str, database: Path | None, output_format: str) -> None:
    """Run one SQL statement over the database, opened read-only, and print the rows it returns.

    The table cuts long values; --json and --csv print them whole.
    """
    with closing(_open(database)) as connection:
        # The file is opened read-only; query_only refuses any change as well, and the authorizer
        # refuses ATTACH and VACUUM INTO, which would otherwise create the file they name.
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_refuse_other_files)
        try:
            cursor = connection.execute(sql)
            columns = _unique_names([description[0] for description in cursor.description or ()])
            rows = [dict(zip(columns, row, strict=True)) for row in cursor]
        except (sqlite3.Error, sqlite3.Warning) as error:  # Python 3.11 calls more than one statement a Warning
            raise click.ClickException(_query_problem(error)) from None
    _emit(rows, output_format, lambda: _print_table(columns, rows), columns)


def _refuse_other_files(action: int, *details: object) -> int:
    return sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_ATTACH else sqlite3.SQLITE_OK


def _query_problem(error: Exception) -> str:
    message = " ".join(str(error).split())
    reason = getattr(error, "sqlite_errorname", None)
    if reason == "SQLITE_READONLY":
        return f"the database is read-only and query only reads; the statement would change it ({message})"
    if reason == "SQLITE_AUTH":
        return f"query reads this database only; ATTACH and VACUUM INTO, which write other files, are refused ({message})"
    return f"cannot run the query: {message}"


def _unique_names(names: list[str]) -> list[str]:
    """Column names made unique as sqlite-utils does (id, id -> id, id_2), so that no value is lost from an object."""
    unique: list[str] = []
    for name in names:
        candidate, number = name, 2
        while candidate in unique:
            candidate, number = f"{name}_{number}", number + 1
        unique.append(candidate)
    return unique


TABLE_CELL_WIDTH = 60
"""The longest value the table prints whole, so that a row of a long text (sources.text) stays one line."""


def _print_table(columns: list[str], rows: list[dict]) -> None:
    if not columns:  # a statement that returns no rows at all, not even an empty set of them
        return
    cells = [[_table_cell(row[name]) for name in columns] for row in rows]
    widths = [max(map(len, column)) for column in zip(columns, *cells, strict=True)]
    for line in [columns, ["-" * width for width in widths], *cells]:
        click.echo(_printable("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()))


def _table_cell(value: object) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= TABLE_CELL_WIDTH else text[: TABLE_CELL_WIDTH - 1] + "…"


@cli.command()
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="csv, json, jsonl and parquet write one file per table; datapackage adds datapackage.json to the CSVs; popolo writes popolo.json.",
)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write into (created if missing).")
@click.option("--raw", is_flag=True, help="CSV cells as they are, without the ' that keeps a spreadsheet from running = + - @ as a formula.")
@click.option("--force", is_flag=True, help="Write into a folder that holds other files than an earlier export's.")
@DB_OPTION
def export(export_format: str, output: Path, raw: bool, force: bool, database: Path | None) -> None:
    """Write the database as CSV, JSON, JSON Lines, a Frictionless Data Package, Popolo JSON or Parquet.

    The folder must be new, empty, or hold only an earlier export (or give --force). CSV cells
    starting with = + - @, a tab, a carriage return or ' get a ' in front (--raw: none do).
    """
    from .exports import export as run_export

    with closing(_open(database)) as connection:
        try:
            written = run_export(connection, export_format, output, raw=raw, force=force)
        except (ImportError, CannotWrite) as error:
            raise click.ClickException(_printable(str(error))) from None
    click.echo(f"Wrote {len(written)} file(s) to {output}.")


@cli.command()
@DATA_OPTION
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on (0: any free one).")
@click.option("--processes", type=click.IntRange(min=1), help="Server processes sharing the port  [default: two a core]")
def serve(data_dir: Path | None, database: Path | None, host: str, port: int, processes: int | None) -> None:
    """Build the database if it is missing or out of date, then serve it with Datasette.

    Only the package's own database is rebuilt, or the one --db names when --data names the
    data to build it from; a database named with --db alone is served as it is.
    """
    if importlib.util.find_spec("datasette") is None:
        raise click.ClickException("serving needs Datasette: pip install 'wic-events[serve]'")
    from .compiling import is_stale
    from .serving import CannotListen
    from .serving import serve as run_datasette

    # Serve rebuilds only a database it may: the package's own, or the one named with the data
    # folder to build it from. A database named alone is served as it is, whatever built it.
    rebuild = database is None or data_dir is not None
    database = database or db_path()
    data_dir = data_dir or default_data_dir()
    try:
        stale = data_dir.is_dir() and is_stale(database, data_dir)
    except InvalidData as error:  # an input file that cannot be read, found while hashing the inputs
        _report(error.problems)
        sys.exit(1)
    if stale and rebuild:
        click.echo(f"Building {database} from {data_dir} ...", err=True)
        status = run_build(data_dir, database)
        if status:
            sys.exit(status)
    elif stale and database.is_file():
        click.echo(f"Note: {database} was not built from {data_dir}; serving it as it is (name the data with --data to rebuild it).", err=True)
    if not database.is_file():
        raise click.ClickException(f"no database at {database}; build it with 'wic-events build --output {database}', or name the data with --data")
    _open(database).close()  # says so if the file is not a wic-events database, before Datasette is started on it

    def announce(url: str) -> None:
        click.echo(f"Serving {database} at {url} (Ctrl+C to stop)")

    try:
        sys.exit(run_datasette(database, host, port, processes=processes, announce=announce))
    except CannotListen as error:
        raise click.ClickException(str(error)) from None


@cli.command()
@click.argument("source_id", required=False)
@DB_OPTION
@click.option("--all", "show_all", is_flag=True, help="List the cited sentences too, not only the uncited ones.")
@output_options
def coverage(source_id: str | None, database: Path | None, show_all: bool, output_format: str) -> None:
    """Which sentences of a source are cited by evidence, and the cited share.

    Passages listed in the source's 'boilerplate' field are left out. Exits with
    status 1 when a fact-bearing sentence is not cited. --json and --csv give one
    item per sentence listed, with its status: cited, uncited or boilerplate.
    """
    from .coverage import source_coverage

    with closing(_open(database)) as connection:
        reports = source_coverage(connection, source_id)
    if not reports:
        named = f"named {source_id} " if source_id else ""
        raise click.ClickException(f"no carried source {named}in {database or db_path()}")
    listed = {report.source_id: _listed_sentences(report, show_all) for report in reports}

    def print_text() -> None:
        for report in reports:
            total = len(report.cited) + len(report.uncited)
            click.echo(
                f"{report.source_id}: {len(report.cited)} of {total} sentences cited ({report.share:.0%}); {len(report.boilerplate)} boilerplate left out"
            )
            for sentence in listed[report.source_id]:
                click.echo(f"  {COVERAGE_LABELS[sentence['status']]:<8} {sentence['ordinal']:>3}  {sentence['text']}")

    _emit([sentence for sentences in listed.values() for sentence in sentences], output_format, print_text)
    sys.exit(0 if all(not report.uncited for report in reports) else 1)


COVERAGE_LABELS = {"cited": "cited", "uncited": "UNCITED", "boilerplate": "skipped"}
"""How coverage's text names each status: an uncited sentence in capitals, to stand out."""


def _listed_sentences(report, show_all: bool) -> list[dict]:
    """The sentences coverage lists, the uncited and the boilerplate ones, and with --all the cited ones first."""
    groups = ([("cited", report.cited)] if show_all else []) + [("uncited", report.uncited), ("boilerplate", report.boilerplate)]
    return [{"source_id": report.source_id, "ordinal": ordinal, "status": status, "text": text} for status, sentences in groups for ordinal, text in sentences]


@cli.command()
@click.argument("source_id", required=False)
@DB_OPTION
def sources(source_id: str | None, database: Path | None) -> None:
    """The web pages (sources whose text is not carried), each with the records that quote it.

    A page no record quotes is listed too: the original that a cited copy repeats.
    """
    from .coverage import uncarried_source_citations

    with closing(_open(database)) as connection:
        reports = uncarried_source_citations(connection, source_id)
    if not reports:
        named = f"named {source_id} " if source_id else ""
        raise click.ClickException(f"no source {named}without a carried text in {database or db_path()}")
    for report in reports:
        copy = f" (a copy of {report.copy_of_id})" if report.copy_of_id else ""
        click.echo(_printable(f"{report.source_id}{copy}: {len(report.cited)} record(s) cite it"))
        if report.title:
            click.echo(_printable(f"  {report.title}"))
        if report.url:
            click.echo(_printable(f"  {report.url}"))
        for (table, record_id), quoted_fields in report.cited.items():
            named_fields = ", ".join(name or "(the record)" for name in quoted_fields)
            click.echo(_printable(f"    {table} {record_id}: {named_fields}"))


@cli.command()
@click.argument("record_id")
@DB_OPTION
@output_options
def show(record_id: str, database: Path | None, output_format: str) -> None:
    """Print a record and its evidence quotes in their context.

    --json and --csv give each record with this id (one a table): its table, its columns and its evidence.
    """
    from .coverage import find_record

    with closing(_open(database)) as connection:
        found = find_record(connection, record_id)
    if not found:
        raise click.ClickException(f"no record with id '{record_id}'")
    shown = [{"table": record.table, **record.values, "evidence": record.evidence} for record in found]
    _emit(shown, output_format, lambda: _print_records(found, record_id))


def _print_records(found, record_id: str) -> None:
    # Click drops the bold of the quote when the output is not a terminal, and with it where the
    # quote begins and ends; plain text marks the quote with « and » instead.
    styled = sys.stdout.isatty()
    for record in found:
        click.secho(f"{record.table} {record_id}", bold=True)
        for name, value in record.values.items():
            if value is not None and name != "text":
                click.echo(f"  {name}: {value}")
        click.echo(f"  evidence ({len(record.evidence)}):")
        for item in record.evidence:
            where = f" [{item['field']}]" if item["field"] else ""
            if item["start"] is None:
                click.echo(f'    -{where} "{item["quote"]}" ({item["source_id"]}, not located)')
                continue
            click.echo(f"    -{where} {item['source_id']} {item['start']}-{item['end']}:")
            quote = click.style(item["quote"], bold=True) if styled else f"«{item['quote']}»"
            click.echo(f"      ...{_tail(item['before'])}{quote}{_head(item['after'])}...")


@cli.command("search")
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many records at most.")
@DB_OPTION
@output_options
def search_records(query: str, limit: int, database: Path | None, output_format: str) -> None:
    """Records whose text holds every word of QUERY, best first; a whole other name finds its record.

    Under each record, the text that matched, the matched words between « and ». --json and --csv
    give each record's table, key (its primary key's values, joined by |), label and snippet.
    """
    with closing(_open(database)) as connection:
        hits = search(query, connection, limit)
    if not hits:
        raise click.ClickException(f"no record matches '{query}'")
    found = []
    for hit in hits:
        key = hit.record.key()
        # What names the record; for records named by their id alone (speeches, evidence), the start of their text.
        fields = [name for name in (hit.record.label_field, *hit.record.search_fields) if name and name not in hit.record.primary_key]
        label = next((_head(value, 70).strip() for name in fields if (value := getattr(hit.record, name))), "")
        found.append({"table": hit.table, "key": key, "label": label, "snippet": " ".join(hit.snippet.split())})

    def print_text() -> None:
        for row in found:
            click.echo(f"{row['table']:<15} {row['key']}" + (f"  {row['label']}" if row["label"] else ""))
            click.echo(f"{'':<15} {row['snippet']}")

    _emit(found, output_format, print_text)


def _tail(text: str | None, size: int = 60) -> str:
    """The last whole words of text, in at most size characters; a space after them only if the text ends with one.

    The space is the source's: a quote that follows a word directly, or punctuation, stays joined to it.
    """
    words = " ".join((text or "").split())
    if len(words) > size:
        words = words[-size:].partition(" ")[2]
    return words + " " if words and text and text[-1].isspace() else words


def _head(text: str | None, size: int = 60) -> str:
    """The first whole words of text, in at most size characters; a space before them only if the text starts with one.

    So a quote followed by "." in the source is followed by "." here, not by " .".
    """
    words = " ".join((text or "").split())
    if len(words) > size:
        words = words[:size].rpartition(" ")[0]
    return " " + words if words and text and text[0].isspace() else words
