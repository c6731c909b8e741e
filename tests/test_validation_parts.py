"""The parts of record validation, each alone: the model's check with its messages, the texts of
sources and quotes located in them, and the checks of one table."""

import hashlib
from pathlib import Path

import pytest

from wic_events.models import Evidence, FieldError, Person, Source, StatedTotal
from wic_events.problems import Location, Problem
from wic_events.validation import SourceTexts, locate_quote, stated_total_problems, validated

HERE = Location("data/people.jsonl", 3)


def test_validated_gives_the_record_or_every_problem_in_the_projects_words():
    record, problems = validated(Person, {"id": "ban-ki-moon", "name": "Ban Ki-moon", "sort_name": "Ban, Ki-moon"}, HERE)
    assert isinstance(record, Person) and problems == []
    record, problems = validated(Person, {"id": "Ban Ki-moon", "sort_name": "Ban"}, HERE)
    assert record is None
    assert [(problem.location, problem.field) for problem in problems] == [(HERE, "id"), (HERE, "name")]
    assert problems[1].message == "required field is missing"


def test_validated_refuses_an_integer_sqlite_cannot_store():
    data = {"id": "t", "record_table": "speech_points", "match": {"ordinal": 2**63}, "expected": 1, "as_reported": "one"}
    record, (problem,) = validated(StatedTotal, data, HERE)
    assert record is None and problem.field == "match"
    assert problem.message == f"{2**63} is too large to store: integers must lie between -2**63 and 2**63 - 1"


def test_stated_total_problems_name_a_missing_table_or_column():
    total = StatedTotal(id="t", record_table="speech_points", match={"kind": "proposal", "colour": "red"}, expected=5, as_reported="five")
    assert stated_total_problems(total, HERE) == [Problem(HERE, "speech_points has no column 'colour'", "match.colour")]
    unknown = total.model_copy(update={"record_table": "nowhere"})
    assert [problem.field for problem in stated_total_problems(unknown, HERE)] == ["record_table"]
    assert stated_total_problems(total.model_copy(update={"match": {"kind": "proposal"}}), HERE) == []


def test_locate_quote_finds_the_occurrence_asked_for_or_says_what_to_fix():
    text = "Xi Jinping spoke. Then Xi Jinping left."
    assert locate_quote("Then", text) == 18
    assert locate_quote("Xi Jinping", text, occurrence=2) == 23
    for quote, occurrence, field in (("Xi Jinping", None, "occurrence"), ("Xi Jinping", 3, "occurrence"), ("Li Qiang", None, "quote")):
        with pytest.raises(FieldError) as raised:
            locate_quote(quote, text, occurrence, "a-source")
        assert raised.value.field == field


def carried(folder: Path, text: bytes, **fields) -> Source:
    (folder / "sources").mkdir(exist_ok=True)
    (folder / "sources" / "a.txt").write_bytes(text)
    return Source(id="a", language="en", file="sources/a.txt", sha256=hashlib.sha256(text).hexdigest(), **fields)


def test_source_texts_read_a_carried_file_and_check_quotes_against_it(tmp_path: Path):
    problems: list[Problem] = []
    sources = SourceTexts(tmp_path, problems)
    source = carried(tmp_path, b"Over 2,000 guests attended.")
    sources.read(source, HERE)
    assert problems == [] and sources.texts == {"a": "Over 2,000 guests attended."}
    evidence = Evidence(source_id="a", record_table="counts", record_id="wic-2015-guests", quote="2,000 guests")
    assert sources.check_quoted(evidence, HERE) and (evidence.start, evidence.end) == (5, 17)
    wrong = Evidence(source_id="a", record_table="counts", record_id="wic-2015-guests", quote="3,000 guests")
    assert not sources.check_quoted(wrong, HERE) and problems[-1].field == "quote"
    # an unknown source is left to the reference check
    assert sources.check_quoted(Evidence(source_id="b", record_table="counts", record_id="x", quote="any words"), HERE)


def test_source_texts_say_when_the_file_does_not_match_its_hash_or_is_missing(tmp_path: Path):
    problems: list[Problem] = []
    sources = SourceTexts(tmp_path, problems)
    source = carried(tmp_path, b"Some text.").model_copy(update={"sha256": "0" * 64})
    sources.read(source, HERE)
    assert [problem.field for problem in problems] == ["sha256"] and sources.texts["a"] == "Some text."
    sources.read(Source(id="b", language="en", file="sources/none.txt", sha256="0" * 64), HERE)
    assert problems[-1] == Problem(HERE, "no file 'sources/none.txt' under the data folder", "file")
