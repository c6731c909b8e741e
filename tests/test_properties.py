"""Whatever a contributor writes, the build answers with records or with problems, never a crash.

Hypothesis feeds the readers and validators arbitrary JSON values, CSV text, bytes and
record dictionaries shaped after the models. The only outcomes allowed are a built
database or ``InvalidData`` carrying problems that can be printed and serialised.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from conftest import DATA_DIR
from wic_events import inputs
from wic_events.cli import cli
from wic_events.compiling import BuildResult, build
from wic_events.inputs import RawRecord, read_records
from wic_events.models import RECORD_MODELS, Source
from wic_events.problems import InvalidData, Location, Problem
from wic_events.validation import RecordValidator

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TABLES = [model.table for model in RECORD_MODELS]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

# Strings that fit some field, and near misses, so that examples reach the checks behind the first one.
KNOWN_STRINGS = [
    "xi-jinping",
    "wic-2015",
    "wic-2015-opening-ceremony",
    "wic-2015-xi-jinping-keynote",
    "wuzhen",
    "china",
    "wic-2015-opening-news-release",
    "2015-12-16",
    "2015-12",
    "2015",
    "2015-13-01",
    "2015-02-30",
    "２０１５",
    "en",
    "zh-Hans",
    "CN",
    "Q15031",
    "morning",
    "14:30",
    "25:00",
    "people",
    "events",
    "speeches",
    "build_info",
    "Xi Jinping",
    "",
    " ",
    "\x00",
    "\u202e",
    "\ud800",
    "<b>",
    "a" * 300,
]
QUOTES = ["Prior to the opening ceremony, Xi Jinping took group photos with attending guests.", "Xi Jinping", "not in the source"]
garbage = st.sampled_from(KNOWN_STRINGS) | st.integers(min_value=-(2**70), max_value=2**70) | json_values


def fitting_values(name: str, schema: dict) -> st.SearchStrategy:
    """Values of the type a field's JSON Schema asks for, most of them valid."""
    options = [st.sampled_from(QUOTES)] if name == "quote" else []
    for option in schema.get("anyOf", [schema]):
        kind = option.get("type")
        if "enum" in option:
            options.append(st.sampled_from(option["enum"]))
        elif kind == "string" and "pattern" in option:
            matching = [text for text in KNOWN_STRINGS if re.search(option["pattern"], text)]
            options.append(st.sampled_from(matching) if matching else st.from_regex(option["pattern"], fullmatch=True))
        elif kind == "string":
            options.append(st.sampled_from(["Xi Jinping", "<b>", "\x00", "\u202e", "a" * 300]) | st.text(min_size=1, max_size=20))
        elif kind == "integer":
            options.append(st.integers(min_value=option.get("minimum", -3), max_value=3000) | st.integers(min_value=2**62, max_value=2**64))
        elif kind == "number":
            options.append(st.floats(min_value=option.get("minimum", -200), max_value=option.get("maximum", 200)))
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
        elif kind == "array":
            options.append(st.lists(st.sampled_from(KNOWN_STRINGS), max_size=2))
        elif kind == "object":
            options.append(
                st.dictionaries(
                    st.sampled_from(["speech_id", "kind", "event_id", "end", "colour"]), st.sampled_from(KNOWN_STRINGS) | st.integers(0, 5), max_size=2
                )
            )
    return st.one_of(options)


@st.composite
def record_dictionaries(draw: st.DrawFn, table: str) -> dict:
    """A record of ``table`` shaped by its model, then broken in up to two ways: a wrong value, a stranger, a field left out."""
    model = next(m for m in RECORD_MODELS if m.table == table)
    properties = model.model_json_schema()["properties"]
    required = {name: fitting_values(name, properties[name]) for name, info in model.model_fields.items() if info.is_required()}
    optional = {name: fitting_values(name, properties[name]) for name, info in model.model_fields.items() if not info.is_required()}
    if "id" in model.primary_key and model.table != "evidence":
        citation = st.fixed_dictionaries(
            {"quote": st.sampled_from(QUOTES)},
            optional={"field": st.sampled_from([*model.model_fields, "colour"]), "occurrence": st.integers(0, 3), "source_id": st.sampled_from(KNOWN_STRINGS)},
        )
        optional["evidence"] = st.lists(citation, max_size=2)
    record = draw(st.fixed_dictionaries(required, optional=optional))
    for change in draw(st.lists(st.sampled_from(["wrong value", "stranger", "left out"]), max_size=2)):
        if change == "wrong value":
            record[draw(st.sampled_from([*model.model_fields, "evidence"]))] = draw(garbage)
        elif change == "stranger":
            record[draw(st.sampled_from(["colour", ""]) | st.text(max_size=5))] = draw(garbage)
        elif record:
            del record[draw(st.sampled_from(sorted(record)))]
    return record


any_table = st.sampled_from(TABLES)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of data/ for the module; each example adds one file and removes it again."""
    target = tmp_path_factory.mktemp("properties") / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def build_with(data_dir: Path, relative: str, content: bytes) -> BuildResult | list[Problem]:
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    try:
        return build(data_dir, data_dir.parent / "out.db")
    except InvalidData as error:
        assert_well_formed(error.problems)
        return error.problems
    finally:
        path.unlink()
        if path.parent != data_dir and not any(path.parent.iterdir()):
            path.parent.rmdir()


def assert_well_formed(problems: list[Problem]) -> None:
    assert problems
    for problem in problems:
        assert isinstance(problem.location.file, str) and problem.location.file
        assert problem.message
        assert str(problem)
        json.dumps(problem.as_dict())


@SETTINGS
@given(value=json_values | st.dictionaries(st.sampled_from([*TABLES, "source_id", "$schema"]), json_values, max_size=3))
def test_any_json_value_as_a_bundle(data_dir: Path, value: object) -> None:
    build_with(data_dir, "events/extra.json", json.dumps(value).encode())


@SETTINGS
@given(table=st.sampled_from(["people", "places", "speeches", "counts", "events"]), data=st.data())
def test_record_dictionaries_in_a_bundle(data_dir: Path, table: str, data: st.DataObject) -> None:
    records = data.draw(st.lists(record_dictionaries(table), min_size=1, max_size=3))
    build_with(data_dir, "events/extra.json", json.dumps({"source_id": "wic-2015-opening-news-release", table: records}).encode())


@SETTINGS
@given(table=any_table, data=st.data())
def test_record_dictionaries_as_json_lines(data_dir: Path, table: str, data: st.DataObject) -> None:
    lines = data.draw(st.lists(record_dictionaries(table) | json_values, min_size=1, max_size=3))
    text = "".join(json.dumps(line) + "\n" for line in lines)
    build_with(data_dir, f"{table}/extra.jsonl", text.encode("utf-8", "surrogatepass"))


def as_cell(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else json.dumps(value)


@st.composite
def csv_documents(draw: st.DrawFn, table: str) -> str:
    """Records of ``table`` written as CSV, with now and then a row a cell short or long."""
    records = draw(st.lists(record_dictionaries(table), min_size=1, max_size=4))
    header = list(dict.fromkeys(key for record in records for key in record)) or ["id"]
    rows = [[as_cell(record.get(name)) for name in header] for record in records]
    for row in rows:
        change = draw(st.sampled_from(["keep", "keep", "keep", "shorter", "longer"]))
        if change == "shorter":
            row.pop()
        elif change == "longer":
            row.append("surplus")
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    return out.getvalue()


@SETTINGS
@given(table=st.sampled_from([t for t in TABLES if t != Source.table]), data=st.data())
def test_any_csv_text(data_dir: Path, table: str, data: st.DataObject) -> None:
    text = data.draw(csv_documents(table) | st.text(max_size=200))
    build_with(data_dir, f"{table}/extra.csv", text.encode("utf-8", "surrogatepass"))


spaces = st.text(alphabet=" \t\r\u3000\xa0", max_size=3)


@SETTINGS
@given(
    before=spaces,
    value=json_values,
    between=st.sampled_from(["", " ", "\n"]),
    after=spaces,
    ending=st.sampled_from(["", "\n", "\r\n"]),
    other=st.text(max_size=30),
)
def test_a_json_line_reads_as_the_full_decoder_reads_it(before: str, value: object, between: str, after: str, ending: str, other: str) -> None:
    """The scanner's short way (inputs._parse_json_line) gives what the full way gives, value and problems."""
    for line in (before + json.dumps(value) + after + ending, json.dumps(value) + between + other + ending, other + ending):
        quick: list[Problem] = []
        full: list[Problem] = []
        location = Location("people/extra.jsonl", 1)
        assert repr(inputs._parse_json_line(line, location, quick)) == repr(inputs._parse_json(line.rstrip("\r\n"), location, full))
        assert quick == full


cells = st.sampled_from(["", " ", "\t", "\u3000", "x", " x", "x "])


@SETTINGS
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=3), min_size=1, max_size=5))
def test_csv_rows_of_spaces_are_skipped_and_no_others(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]) -> None:
    data = tmp_path_factory.mktemp("data")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([["id", "name", "sort_name"], *rows])
    (data / "people.csv").write_text(out.getvalue(), encoding="utf-8")
    problems: list[Problem] = []
    lines = [record.location.line for record in read_records(data, problems)]
    assert lines == [number for number, row in enumerate(rows, start=2) if "".join(row).strip()]
    assert len(problems) == sum(1 for row in rows if "".join(row).strip() and len(row) != 3)


@SETTINGS
@given(suffix=st.sampled_from([".csv", ".json", ".jsonl"]), content=st.binary(max_size=200))
def test_any_bytes_as_a_record_file(data_dir: Path, suffix: str, content: bytes) -> None:
    build_with(data_dir, f"people/extra{suffix}", content)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=any_table, data=st.data())
def test_the_command_line_reports_without_a_traceback(data_dir: Path, table: str, data: st.DataObject) -> None:
    lines = data.draw(st.lists(record_dictionaries(table), min_size=1, max_size=2))
    path = data_dir / table / "extra.jsonl"
    created = not path.parent.exists()
    path.parent.mkdir(exist_ok=True)
    path.write_bytes("".join(json.dumps(line) + "\n" for line in lines).encode("utf-8", "surrogatepass"))
    try:
        result = CliRunner().invoke(cli, ["validate", "--data", str(data_dir), "--format", "json"])
    finally:
        path.unlink()
        if created:
            path.parent.rmdir()
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.output
    assert "Traceback" not in result.output
    reported = json.loads(result.stdout)
    assert (result.exit_code == 1) == bool(reported)
    assert all(set(item) == {"file", "line", "path", "field", "message"} for item in reported)


# The validator on its own, fed record dictionaries directly: faster, so more examples.


@pytest.fixture(scope="module")
def source_records(data_dir: Path) -> list[RawRecord]:
    return [raw for raw in read_records(data_dir, []) if raw.table == Source.table]


@settings(max_examples=300, deadline=None)
@given(table=any_table, data=st.data())
def test_the_validator_returns_records_or_problems(data_dir: Path, source_records: list[RawRecord], table: str, data: st.DataObject) -> None:
    record = data.draw(record_dictionaries(table))
    problems: list[Problem] = []
    validator = RecordValidator(data_dir, problems)
    for raw in source_records:
        validator.validate(raw)
    assert problems == []

    location = Location("people/extra.jsonl", 1)
    validated = validator.validate(RawRecord(table, record, location, "wic-2015-opening-news-release"))
    if validated:
        first, where = validated[0]
        assert first.table == table and where == location
        assert all(type(item).model_validate(item.model_dump()) == item for item, _ in validated)
    else:
        assert_well_formed(problems)


@pytest.mark.parametrize("table", ["people", "places", "events"])
def test_the_strategies_reach_valid_records(data_dir: Path, table: str) -> None:
    # A strategy that only ever produced garbage would make the property above hold trivially.
    def validates(record: dict) -> bool:
        return bool(RecordValidator(data_dir, []).validate(RawRecord(table, record, Location("x.jsonl", 1))))

    found = find(record_dictionaries(table), validates, settings=settings(max_examples=2000, database=None))
    assert validates(found)
