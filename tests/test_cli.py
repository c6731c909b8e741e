"""The command line, called the way a user calls it."""

import csv
import io
import json
import os
import pty
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing

from click.testing import CliRunner

import wic_events
from conftest import DATA_DIR, ROOT
from wic_events import cli as cli_module
from wic_events.cli import cli
from wic_events.compiling import input_digest


def run(*arguments):
    return CliRunner().invoke(cli, [str(argument) for argument in arguments])


def test_help_lists_every_command():
    result = run("--help")
    assert result.exit_code == 0
    listed = result.output.partition("Commands:\n")[2].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ") and not line.startswith("   ")] == [
        "build",
        "cite",
        "coverage",
        "export",
        "info",
        "query",
        "schema",
        "search",
        "serve",
        "show",
        "sources",
        "validate",
    ]


def test_a_missing_data_folder_is_named(tmp_path):
    result = run("build", "--data", tmp_path / "missing", "--output", tmp_path / "out.db")
    assert result.exit_code == 2
    assert f"Error: no data folder at {tmp_path / 'missing'}" in result.output


def test_build_writes_the_database_and_says_so(tmp_path):
    output = tmp_path / "out.db"
    result = run("build", "--data", DATA_DIR, "--output", output)
    assert result.exit_code == 0, result.output
    assert output.is_file()
    with closing(sqlite3.connect(output)) as connection:
        counts = json.loads(connection.execute("SELECT record_counts FROM build_info").fetchone()[0])
    assert f": {sum(counts.values())} rows in {len(counts)} tables" in result.output
    assert "Building" not in result.output  # no progress display when the output is not a terminal


def read_terminal(terminal: int) -> bytes:
    """Everything a command wrote to the terminal, until it ends and closes its end."""
    shown = b""
    while True:
        try:
            block = os.read(terminal, 4096)
        except OSError:  # the command has ended and closed its end of the terminal
            break
        if not block:
            break
        shown += block
    return shown


def test_build_in_a_terminal_shows_its_progress_on_stderr_only(tmp_path):
    terminal, terminal_end = pty.openpty()
    command = [sys.executable, "-c", "from wic_events.cli import cli; cli()", "build", "--data", str(DATA_DIR), "--output", str(tmp_path / "out.db")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal_end) as process:
        os.close(terminal_end)
        shown = read_terminal(terminal)
        summary = process.stdout.read().decode()
    os.close(terminal)
    assert process.returncode == 0, shown
    assert b"Building" in shown and b"records" in shown
    assert summary.startswith("Built ") and "Building" not in summary


def test_the_progress_display_runs_no_thread_of_its_own_while_the_build_forks(tmp_path):
    # A thread holding a lock when the build forks its validating processes would leave that
    # lock held for ever in them.
    threads_during_build = []

    def build(data_dir, output, progress):
        for seen in (2_000, 4_000):
            progress(seen)
            threads_during_build.append(threading.active_count())
        return "built"

    before = threading.active_count()
    assert cli_module._build_with_progress(build, DATA_DIR, tmp_path / "out.db") == "built"
    assert threads_during_build == [before, before]


def test_build_says_why_it_cannot_write_the_output_and_exits_1(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    result = run("build", "--data", DATA_DIR, "--output", tmp_path / "a-file" / "out.db")
    assert result.exit_code == 1
    assert f"Build failed: cannot write {tmp_path / 'a-file' / 'out.db'}: {tmp_path / 'a-file'} is a file, not a folder" in result.output
    monkeypatch.setenv("WIC_EVENTS_DB", str(tmp_path))
    result = run("build", "--data", DATA_DIR)
    assert result.exit_code == 1
    assert f"Build failed: {tmp_path} is a folder; give the path of a file for the database" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_writes_nothing(tmp_path, data_copy):
    result = run("validate", "--data", data_copy)
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output
    assert not any(path.suffix in (".db", ".tmp") for path in data_copy.rglob("*"))


def test_validate_reports_problems_as_json(data_copy):
    places = data_copy / "places.csv"
    text = places.read_text(encoding="utf-8")
    line = text[: text.index("wuzhen,Wuzhen,town")].count("\n") + 1
    places.write_text(text.replace("wuzhen,Wuzhen,town", "wuzhen,Wuzhen,village"), encoding="utf-8")
    result = run("validate", "--data", data_copy, "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert problems == [{"file": "places.csv", "line": line, "path": None, "field": "kind", "message": problems[0]["message"]}]
    assert "'town'" in problems[0]["message"]


def test_info_prints_versions_digest_and_counts(built_db):
    result = run("info", "--db", built_db)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1:5] == [
        f"package version: {wic_events.__version__}",
        "schema version:  1.0.0",
        f"input digest:    {input_digest(DATA_DIR)}",
        "built at:        not recorded in this build",
    ]
    assert "SOURCE_DATE_EPOCH" not in result.output  # a hint for who builds, kept in --help
    with closing(sqlite3.connect(built_db)) as connection:
        speeches, people = (connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("speeches", "people"))
    counted = [line.split() for line in lines if line.startswith("  ")]
    assert ["speeches", str(speeches)] in counted and ["people", str(people)] in counted and speeches > 11


def test_coverage_reports_every_sentence_cited(built_db):
    result = run("coverage", "wic-2015-opening-news-release", "--db", built_db)
    assert result.exit_code == 0, result.output
    assert "41 of 41 sentences cited (100%)" in result.output
    assert "skipped   42  Suggest to a Friend:" in result.output


def test_coverage_lists_cited_sentences_with_all(built_db):
    result = run("coverage", "--all", "--db", built_db)
    assert result.exit_code == 0, result.output
    assert len([line for line in result.output.splitlines() if line.startswith("  cited ")]) == 41


def test_coverage_fails_and_names_each_uncited_sentence(data_copy, tmp_path):
    bundle_path = data_copy / "events" / "wic-2015.json"
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    bundle["evidence"] = []
    for records in bundle.values():
        for record in records if isinstance(records, list) else []:
            record.pop("evidence", None)
    bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
    assert run("build", "--data", data_copy, "--output", tmp_path / "out.db").exit_code == 0
    result = run("coverage", "--db", tmp_path / "out.db")
    assert result.exit_code == 1
    assert "wic-2015-opening-news-release: 0 of 41 sentences cited (0%)" in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("  UNCITED ")]) == 41
    result = run("coverage", "--db", tmp_path / "out.db", "--json")
    assert result.exit_code == 1
    assert [sentence["status"] for sentence in json.loads(result.stdout)] == ["uncited"] * 41 + ["boilerplate"]


def test_coverage_of_an_unknown_source_fails(built_db):
    result = run("coverage", "no-such-source", "--db", built_db)
    assert result.exit_code == 1
    assert f"Error: no carried source named no-such-source in {built_db}" in result.output


def test_show_prints_a_record_with_its_quotes(built_db):
    result = run("show", "wic-2015-ban-ki-moon-speech", "--db", built_db)
    assert result.exit_code == 0, result.output
    assert "on_behalf_of_id: ban-ki-moon" in result.output
    assert "Wu Hongbo read out the speech by Secretary General of the UN Ban Ki-moon." in result.output


def test_search_lists_records_best_first_with_their_labels(built_db):
    result = run("search", "cyber sovereignty", "--db", built_db)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "speech_points   wic-2015-xi-jinping-keynote-principle-1  Respecting the cyber sovereignty" in lines
    # Records named by their id alone show the start of their text.
    assert any(line.startswith("speeches        wic-2015-xi-jinping-keynote  ") for line in lines)
    assert any(line.startswith("evidence        ev-") and "cyber sovereignty" in line for line in lines)
    result = run("search", "习近平", "--db", built_db, "--limit", 1)
    assert result.output.splitlines() == ["people          xi-jinping  Xi Jinping", "                习近平 (another name, zh-Hans)"]
    # under each record, the words that matched, marked
    snippet = lines[lines.index("speech_points   wic-2015-xi-jinping-keynote-principle-1  Respecting the cyber sovereignty") + 1]
    assert snippet.startswith(" " * 16) and "«cyber» «sovereignty»" in snippet


def test_search_finding_nothing_says_so(built_db):
    result = run("search", "zzzz", "--db", built_db)
    assert result.exit_code == 1 and "no record matches 'zzzz'" in result.output


def test_show_and_info_fail_cleanly(built_db, tmp_path):
    result = run("show", "no-such-record", "--db", built_db)
    assert result.exit_code == 1 and "no record with id 'no-such-record'" in result.output
    result = run("info", "--db", tmp_path / "missing.db")
    assert result.exit_code == 1 and "wic-events build" in result.output


def test_serve_refuses_a_port_outside_0_to_65535():
    result = run("serve", "--port", "70000")
    assert result.exit_code == 2
    assert "70000 is not in the range 0<=x<=65535" in result.output


def test_serve_says_which_input_file_it_cannot_read(tmp_path, monkeypatch):
    from wic_events import compiling
    from wic_events.problems import InvalidData, Location, Problem

    def unreadable(data_dir):
        raise InvalidData([Problem(Location("people.csv"), "cannot read the file: Permission denied")])

    monkeypatch.setattr(compiling, "input_digest", unreadable)  # root, who runs CI, may read any file
    result = run("serve", "--db", tmp_path / "wic_events.db", "--data", DATA_DIR)
    assert result.exit_code == 1
    assert "people.csv: cannot read the file: Permission denied" in result.output
    assert not isinstance(result.exception, InvalidData)


def not_a_database(tmp_path):
    (tmp_path / "notes.db").write_text("not SQLite at all\n" * 100)
    (tmp_path / "empty.db").write_bytes(b"")  # SQLite, but nothing the build writes
    return [tmp_path / "notes.db", tmp_path / "empty.db"]


def test_every_command_reading_the_database_says_when_a_file_is_not_one(tmp_path):
    for database in not_a_database(tmp_path):
        for command in (
            ["info"],
            ["cite"],
            ["show", "xi-jinping"],
            ["coverage"],
            ["export", "--format", "csv", "--output", tmp_path / "out"],
            ["serve", "--data", tmp_path / "no-data"],
        ):
            result = run(*command, "--db", database)
            assert result.exit_code == 1, (command, result.output)
            assert f"Error: {database} is not a wic-events database (" in result.output, (command, result.output)
            assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_serve_stops_when_the_database_it_must_build_fails_to_build(data_copy, tmp_path):
    (data_copy / "people.csv").write_text("id,name,sort_name,wikidata_id\nBad Id,X,X,\n", encoding="utf-8")
    result = run("serve", "--db", tmp_path / "out.db", "--data", data_copy)
    assert result.exit_code == 1
    assert "Build failed" in result.output and "Serving" not in result.output


def test_serve_with_neither_database_nor_data_says_so(tmp_path):
    result = run("serve", "--db", tmp_path / "missing.db", "--data", tmp_path / "no-data")
    assert result.exit_code == 1
    assert (
        f"Error: no database at {tmp_path / 'missing.db'}; build it with 'wic-events build --output {tmp_path / 'missing.db'}', or name the data with --data"
        in result.output
    )


def test_serve_without_datasette_says_how_to_install_it(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "datasette" else find_spec(name, *rest))
    result = run("serve")
    assert result.exit_code == 1
    assert result.output == "Error: serving needs Datasette: pip install 'wic-events[serve]'\n"


def test_query_prints_the_rows_as_a_table(built_db):
    result = run("query", "SELECT id, name, wikidata_id FROM people WHERE id IN ('xi-jinping', 'ban-ki-moon') ORDER BY id", "--db", built_db)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "id           name         wikidata_id",
        "-----------  -----------  -----------",
        "ban-ki-moon  Ban Ki-moon  Q1253",
        "xi-jinping   Xi Jinping   Q15031",
    ]


def test_query_cuts_long_values_in_the_table_and_prints_them_whole_as_json_and_csv(built_db):
    sql = "SELECT text FROM sources WHERE id = 'wic-2015-opening-news-release'"
    with closing(sqlite3.connect(built_db)) as connection:
        (text,) = connection.execute(sql).fetchone()
    table = run("query", sql, "--db", built_db).stdout.splitlines()
    assert len(table[2]) == cli_module.TABLE_CELL_WIDTH and table[2].endswith("…") and len(text) > 1000
    assert json.loads(run("query", sql, "--db", built_db, "--json").stdout) == [{"text": text}]
    assert list(csv.reader(io.StringIO(run("query", sql, "--db", built_db, "--csv").stdout))) == [["text"], [text]]


def test_query_as_json_is_a_list_of_objects_and_as_csv_a_header_and_rows(built_db):
    sql = "SELECT id, reported_order FROM speeches WHERE event_id = 'wic-2015-opening-ceremony' ORDER BY reported_order LIMIT 2"
    with closing(sqlite3.connect(built_db)) as connection:
        expected = connection.execute(sql).fetchall()
    result = run("query", sql, "--db", built_db, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": ident, "reported_order": order} for ident, order in expected]
    result = run("query", sql, "--db", built_db, "--csv")
    assert list(csv.reader(io.StringIO(result.stdout))) == [["id", "reported_order"], *([ident, str(order)] for ident, order in expected)]
    # Repeated column names are made unique, as sqlite-utils does, so no value is lost from an object.
    assert json.loads(run("query", "SELECT 1 AS a, 2 AS a", "--db", built_db, "--json").stdout) == [{"a": 1, "a_2": 2}]
    assert json.loads(run("query", "SELECT * FROM people WHERE 0", "--db", built_db, "--json").stdout) == []
    # The csv module's own line ends, as RFC 4180 and sqlite-utils write them (CliRunner's .stdout turns them into \n).
    assert run("query", "SELECT * FROM people WHERE 0", "--db", built_db, "--csv").stdout_bytes == b"id,name,sort_name,wikidata_id\r\n"


def test_query_with_bad_sql_says_what_is_wrong_in_one_line(built_db):
    for sql, message in [
        ("SELEC 1", 'Error: cannot run the query: near "SELEC": syntax error\n'),
        ("SELECT nope FROM people", "Error: cannot run the query: no such column: nope\n"),
        ("SELECT 1; SELECT 2", "Error: cannot run the query: You can only execute one statement at a time.\n"),
    ]:
        result = run("query", sql, "--db", built_db)
        assert result.exit_code == 1, sql
        assert (result.stdout, result.stderr) == ("", message)
        assert isinstance(result.exception, SystemExit)


def test_query_refuses_to_write_and_leaves_the_database_as_it_was(built_db, tmp_path):
    before = built_db.read_bytes()
    for sql in ("DELETE FROM people", "CREATE TABLE notes (x)", "UPDATE people SET name = 'X'"):
        result = run("query", sql, "--db", built_db)
        assert result.exit_code == 1, sql
        assert result.stderr == "Error: the database is read-only and query only reads; the statement would change it (attempt to write a readonly database)\n"
    # ATTACH and VACUUM INTO would create the file they name, though the database is read-only.
    for sql in (f"VACUUM INTO '{tmp_path / 'copy.db'}'", f"ATTACH '{tmp_path / 'other.db'}' AS other"):
        result = run("query", sql, "--db", built_db)
        assert result.exit_code == 1, sql
        assert result.stderr.startswith("Error: query reads this database only; ATTACH and VACUUM INTO, which write other files, are refused (")
    assert list(tmp_path.iterdir()) == []
    assert built_db.read_bytes() == before


def csv_rows(result):
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_info_as_json_and_csv(built_db):
    with closing(sqlite3.connect(built_db)) as connection:
        counts = json.loads(connection.execute("SELECT record_counts FROM build_info").fetchone()[0])
    expected = {
        "database": str(built_db),
        "package_version": wic_events.__version__,
        "schema_version": "1.0.0",
        "input_digest": input_digest(DATA_DIR),
        "built_at": None,
        "record_counts": counts,
    }
    result = run("info", "--db", built_db, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected and counts["speeches"] > 11
    (row,) = csv_rows(run("info", "--db", built_db, "--csv"))
    assert row == {**expected, "built_at": "", "record_counts": row["record_counts"]}
    assert json.loads(row["record_counts"]) == counts  # an object goes in its cell as JSON text


def test_search_as_json_and_csv(built_db):
    result = run("search", "习近平", "--db", built_db, "--limit", 1, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"table": "people", "key": "xi-jinping", "label": "Xi Jinping", "snippet": "习近平 (another name, zh-Hans)"}]
    hits = json.loads(run("search", "cyber sovereignty", "--db", built_db, "--json").stdout)
    (point,) = [hit for hit in hits if hit["key"] == "wic-2015-xi-jinping-keynote-principle-1"]
    assert point["table"] == "speech_points" and point["label"] == "Respecting the cyber sovereignty"
    assert point["snippet"].startswith("Respect «cyber» «sovereignty» and the rights of countries")
    assert csv_rows(run("search", "cyber sovereignty", "--db", built_db, "--csv")) == hits


def test_show_as_json_and_csv(built_db):
    with closing(sqlite3.connect(built_db)) as connection:
        quote = connection.execute("SELECT quote FROM evidence WHERE record_table = 'speeches' AND record_id = 'wic-2015-ban-ki-moon-speech'").fetchone()[0]
    result = run("show", "wic-2015-ban-ki-moon-speech", "--db", built_db, "--json")
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert (record["table"], record["id"], record["speaker_id"], record["on_behalf_of_id"], record["reported_order"]) == (
        "speeches",
        "wic-2015-ban-ki-moon-speech",
        "wu-hongbo",
        "ban-ki-moon",
        10,
    )
    assert [(item["field"], item["quote"], item["source_id"]) for item in record["evidence"]] == [("delivery_mode", quote, "wic-2015-opening-news-release")]
    (row,) = csv_rows(run("show", "wic-2015-ban-ki-moon-speech", "--db", built_db, "--csv"))
    assert (row["table"], row["speaker_id"], row["title"], row["reported_order"]) == ("speeches", "wu-hongbo", "", "10")
    assert json.loads(row["evidence"]) == record["evidence"]


def test_coverage_as_json_and_csv(built_db):
    result = run("coverage", "wic-2015-opening-news-release", "--all", "--db", built_db, "--json")
    assert result.exit_code == 0, result.output
    sentences = json.loads(result.stdout)
    assert [(sentence["ordinal"], sentence["status"]) for sentence in sentences] == [(ordinal, "cited") for ordinal in range(1, 42)] + [(42, "boilerplate")]
    assert sentences[-1] == {"source_id": "wic-2015-opening-news-release", "ordinal": 42, "status": "boilerplate", "text": "Suggest to a Friend:"}
    # Without --all the cited sentences are left out, as in the text.
    rows = csv_rows(run("coverage", "wic-2015-opening-news-release", "--db", built_db, "--csv"))
    assert rows == [{"source_id": "wic-2015-opening-news-release", "ordinal": "42", "status": "boilerplate", "text": "Suggest to a Friend:"}]


def test_json_and_csv_are_refused_together_by_every_command_that_prints_them(built_db):
    for command in (["info"], ["search", "Xi"], ["show", "xi-jinping"], ["coverage"], ["query", "SELECT 1"]):
        result = run(*command, "--db", built_db, "--json", "--csv")
        assert result.exit_code == 2, command
        assert "Error: --json and --csv cannot be used together; choose one" in result.stderr, command


def test_show_joins_a_quote_to_its_context_as_the_source_does(built_db):
    result = run("show", "wic-2015-group-photo", "--db", built_db)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # The quote is followed by "." in the source: no space comes between them; nor after "(" or before ",".
    assert (
        "      ...system. Prior to the opening ceremony, Xi Jinping «took group photos "
        "with attending guests». Wang Huning, Li Zhanshu, Yang Jiechi, Wang Qinmin and..." in lines
    )
    assert (
        "      ...and transparent global Internet governance system. «Prior to the "
        "opening ceremony», Xi Jinping took group photos with attending guests. Wang..." in lines
    )
    assert not any(mark in line for line in lines for mark in ("» .", "» ,", "» ;"))
    assert "\x1b[" not in result.stdout


def test_the_context_keeps_the_source_s_spaces_around_a_quote():
    assert [cli_module._head(after) for after in (". Over", " Over 2,000", "\n\nWang", "", None)] == [". Over", " Over 2,000", " Wang", "", ""]
    assert [cli_module._tail(before) for before in ("themed (", "held in ", "guests.\n\n", "")] == ["themed (", "held in ", "guests. ", ""]
    assert cli_module._head(" one two three", 8) == " one two" and cli_module._tail("one two three ", 10) == "two three "


def test_show_in_a_terminal_marks_the_quote_in_bold_instead(built_db):
    terminal, terminal_end = pty.openpty()
    command = [sys.executable, "-c", "from wic_events.cli import cli; cli()", "show", "wic-2015-group-photo", "--db", str(built_db)]
    with subprocess.Popen(command, stdout=terminal_end, stderr=subprocess.PIPE) as process:
        os.close(terminal_end)
        shown = read_terminal(terminal)
    os.close(terminal)
    assert process.returncode == 0, shown
    text = shown.decode()
    assert "Xi Jinping \x1b[1mtook group photos with attending guests\x1b[0m. Wang Huning" in text
    assert "«" not in text and "»" not in text


def test_info_gives_the_build_time_when_the_build_recorded_it(data_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run("build", "--data", data_copy, "--output", tmp_path / "out.db").exit_code == 0
    with closing(sqlite3.connect(tmp_path / "out.db")) as connection:
        (built_at,) = connection.execute("SELECT built_at FROM build_info").fetchone()
    assert built_at.startswith("2023-11-14")
    assert f"built at:        {built_at}" in run("info", "--db", tmp_path / "out.db").stdout.splitlines()
    assert json.loads(run("info", "--db", tmp_path / "out.db", "--json").stdout)["built_at"] == built_at
    # Where to set it is for who builds, in the help; not in what every user reads.
    assert "SOURCE_DATE_EPOCH" in " ".join(run("info", "--help").stdout.split())


def test_cite_prints_the_version_and_input_digest_the_database_records(built_db, tmp_path):
    result = run("cite", "--db", built_db)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "The wic-events maintainers. wic-events: the World Internet Conference as an open dataset "
        f"(version {wic_events.__version__}, input digest {input_digest(DATA_DIR)}).\n"
    )
    # Of an older database, its own version: the one that was used.
    older = tmp_path / "older.db"
    older.write_bytes(built_db.read_bytes())
    with closing(sqlite3.connect(older)) as connection, connection:
        connection.execute("UPDATE build_info SET package_version = '0.0.9', input_digest = ?", ("ab" * 32,))
    assert f"(version 0.0.9, input digest {'ab' * 32})." in run("cite", "--db", older).stdout


def test_citation_cff_names_the_package_version_authors_and_license():
    import tomllib

    import yaml

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == wic_events.__version__
    assert citation["title"] == cli_module.CITATION_TITLE
    assert citation["authors"] == [{"name": cli_module.CITATION_AUTHORS}] == project["authors"]
    # CFF reads a list as alternatives; the one license named is one of the package's, that of the records.
    assert citation["license"] == "CC-BY-4.0" and citation["license"] in project["license"].split(" AND ")
    # No address is known for the project: none is made up.
    assert not {"url", "repository", "repository-code", "repository-artifact", "doi"} & set(citation)
