"""The files derived from the models are current, and the records satisfy them."""

import json

import jsonschema
from click.testing import CliRunner

from conftest import DATA_DIR, ROOT
from wic_events.cli import cli
from wic_events.schemas import BUNDLE_SCHEMA_FILE, schema_documents, stale_schema_files
from wic_events.site_config import render_config


def test_schema_folder_matches_the_models():
    assert stale_schema_files(ROOT / "schema") == []
    assert sorted(path.name for path in (ROOT / "schema").glob("*.json")) == sorted(schema_documents())


def test_datasette_yaml_matches_the_models():
    assert (ROOT / "datasette.yaml").read_text(encoding="utf-8") == render_config()


def test_schema_check_command_fails_on_drift(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["schema", "--output", str(tmp_path / "schema"), "--config", str(tmp_path / "datasette.yaml")])
    assert result.exit_code == 0, result.output
    check = ["schema", "--check", "--output", str(tmp_path / "schema"), "--config", str(tmp_path / "datasette.yaml")]
    assert runner.invoke(cli, check).exit_code == 0
    people = tmp_path / "schema" / "people.schema.json"
    people.write_text(people.read_text().replace("Name as usually written", "Name"), encoding="utf-8")
    result = runner.invoke(cli, check)
    assert result.exit_code == 1
    assert "people.schema.json" in result.output


def test_schema_check_counts_a_file_it_cannot_read_as_text_as_out_of_date(tmp_path):
    runner = CliRunner()
    options = ["--output", str(tmp_path / "schema"), "--config", str(tmp_path / "datasette.yaml")]
    assert runner.invoke(cli, ["schema", *options]).exit_code == 0
    (tmp_path / "schema" / "people.schema.json").write_bytes(b"\xff\xfe not UTF-8")
    (tmp_path / "datasette.yaml").unlink()
    result = runner.invoke(cli, ["schema", "--check", *options])
    assert result.exit_code == 1
    assert result.output == f"Out of date (run 'wic-events schema'): people.schema.json, {tmp_path / 'datasette.yaml'}\n"


def test_schema_writes_nothing_when_the_configuration_cannot_be_written(tmp_path):
    (tmp_path / "a-file").write_text("")
    config = tmp_path / "a-file" / "datasette.yaml"
    result = CliRunner().invoke(cli, ["schema", "--output", str(tmp_path / "schema"), "--config", str(config)])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {config}: {tmp_path / 'a-file'} is a file, not a folder\n"
    assert not (tmp_path / "schema").exists()


def test_every_bundle_names_its_schema_and_satisfies_it():
    bundles = sorted(DATA_DIR.rglob("*.json"))
    assert bundles
    for path in bundles:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        schema_path = (path.parent / bundle["$schema"]).resolve()
        assert schema_path == (ROOT / "schema" / BUNDLE_SCHEMA_FILE).resolve(), path
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(bundle)


def test_a_bundle_with_an_unknown_field_fails_the_schema():
    schema = schema_documents()[BUNDLE_SCHEMA_FILE]
    bad = {"people": [{"id": "x", "name": "X", "sort_name": "X", "nickname": "Y"}]}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    assert [list(error.absolute_path) for error in errors] == [["people", 0]]


def test_schema_writes_nothing_when_a_file_cannot_be_written(tmp_path, monkeypatch):
    from pathlib import Path

    write_text = Path.write_text

    def refuse_the_last(path, *arguments, **options):
        if path.name.startswith(".people.schema.json"):  # root, who runs CI, may write anywhere
            raise PermissionError(13, "Permission denied", str(path))
        return write_text(path, *arguments, **options)

    monkeypatch.setattr(Path, "write_text", refuse_the_last)
    result = CliRunner().invoke(cli, ["schema", "--output", str(tmp_path / "schema"), "--config", str(tmp_path / "datasette.yaml")])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {tmp_path / 'schema' / 'people.schema.json'}: Permission denied\n"
    assert list(tmp_path.rglob("*.json")) == [] and not (tmp_path / "datasette.yaml").exists()
    assert list(tmp_path.rglob(".*.tmp")) == []


def test_schema_check_accepts_files_whose_lines_end_in_crlf(tmp_path):
    runner = CliRunner()
    options = ["--output", str(tmp_path / "schema"), "--config", str(tmp_path / "datasette.yaml")]
    assert runner.invoke(cli, ["schema", *options]).exit_code == 0
    for path in [*(tmp_path / "schema").iterdir(), tmp_path / "datasette.yaml"]:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # as a checkout with autocrlf writes them
    assert runner.invoke(cli, ["schema", "--check", *options]).exit_code == 0


def test_schema_check_where_there_is_no_schema_folder_says_so(tmp_path):
    result = CliRunner().invoke(cli, ["schema", "--check", "--output", str(tmp_path / "schema"), "--config", str(tmp_path / "datasette.yaml")])
    assert result.exit_code == 1
    assert result.output == f"Error: no schema folder at {tmp_path / 'schema'}: --check compares the files of a checkout of wic-events\n"
