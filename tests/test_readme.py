"""Every SQL and Python example in the README runs against the built database."""

import re
import sqlite3

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def examples(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


@pytest.mark.parametrize("sql", examples("sql"))
def test_sql_examples_return_rows(built_db, sql):
    with sqlite3.connect(built_db) as connection:
        assert connection.execute(sql).fetchall()


@pytest.mark.parametrize("code", examples("python"))
def test_python_examples_run(built_db, monkeypatch, capsys, code):
    monkeypatch.setenv("WIC_EVENTS_DB", str(built_db))
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_there_are_examples():
    assert len(examples("sql")) >= 3 and len(examples("python")) >= 1


def test_readme_set_up_commands_match_ci():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(block for block in examples("bash") if "pytest" in block).strip()
    assert test_command in ci
