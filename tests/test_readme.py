"""Every SQL and Python example in the README runs against the built database."""

import re
import sqlite3
from contextlib import closing

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def examples(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


@pytest.mark.parametrize("sql", examples("sql"))
def test_sql_examples_return_rows(built_db, sql):
    with closing(sqlite3.connect(built_db)) as connection:
        assert connection.execute(sql).fetchall()


@pytest.mark.parametrize("code", examples("python"))
def test_python_examples_run(built_db, monkeypatch, capsys, code):
    monkeypatch.setenv("WIC_EVENTS_DB", str(built_db))
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_the_figures_of_what_the_dataset_holds_are_those_of_the_database(built_db):
    summary = " ".join(README.partition("Today the dataset holds")[2].partition("\n\n")[0].split())
    claims = {
        r"(\d+) speeches": "SELECT count(*) FROM speeches",
        r"(\d+) enumerated principles and proposals": "SELECT count(*) FROM speech_points",
        r"(\d+) people": "SELECT count(*) FROM people",
        r"(\d+) of them in \d+ participations": "SELECT count(DISTINCT person_id) FROM participants",
        r"(\d+) participations": "SELECT count(*) FROM participants",
        r"(\d+) reported counts": "SELECT count(*) FROM counts",
        r"(\d+) evidence quotes": "SELECT count(*) FROM evidence",
        r"(\d+) yearly meetings": "SELECT count(*) FROM events WHERE kind = 'conference' AND series = 'World Internet Conference'",
        r"(\d+) events in all": "SELECT count(*) FROM events",
        r"(\d+) outcome documents": "SELECT count(*) FROM documents",
        r"(\d+) claims": "SELECT count(*) FROM claims",
        r"(\d+) disputed facts": "SELECT count(DISTINCT fact) FROM disputed_facts",
        r"(\d+) sources": "SELECT count(*) FROM sources",
        r"(\d+) published web pages": "SELECT count(*) FROM sources WHERE text IS NULL",
    }
    with closing(sqlite3.connect(built_db)) as connection:
        for claim, sql in claims.items():
            said = re.search(claim, summary)
            assert said, f"the README no longer says {claim!r}"
            assert int(said[1]) == connection.execute(sql).fetchone()[0], claim


def test_there_are_examples():
    assert len(examples("sql")) >= 3 and len(examples("python")) >= 1


def test_readme_set_up_commands_match_ci():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(block for block in examples("bash") if "pytest" in block).strip()
    assert test_command in ci


def test_the_readmes_images_are_the_screenshots_the_browser_tests_write():
    shown = set(re.findall(r"!\[[^\]]{20,}\]\((docs/[^)]+)\)", README))  # each with a description that stands alone
    written = {f"docs/{name}.png" for name in re.findall(r'screenshot\(page, "([a-z-]+)"\)', (ROOT / "tests" / "test_browser.py").read_text(encoding="utf-8"))}
    on_disk = {str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.png")}
    assert {path for path in shown if path.endswith(".png")} == written == on_disk
