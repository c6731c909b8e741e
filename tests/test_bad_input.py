"""Bad input: each kind of contributor mistake is caught with a message that says where and what to fix.

Every case breaks a private copy of data/ and is then built twice, through ``build``
and through ``wic-events build``: both must report the same problems, naming the file,
the line (CSV, JSON Lines) or key path (JSON), the field and what was expected; the
command must exit non-zero without a traceback, list every problem followed by a
count, and leave the database already at --output byte for byte as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import wic_events
from wic_events.cli import cli
from wic_events.compiling import build
from wic_events.inputs import RawRecord, Share, UnknownRecords, read_share
from wic_events.problems import InvalidData, Problem

BUNDLE = "events/wic-2015.json"
SOURCE_RECORD = "sources/wic-2015-opening-news-release.json"
SOURCE_TEXT = "sources/wic-2015-opening-news-release.txt"
SOURCE_ID = "wic-2015-opening-news-release"


@dataclass(frozen=True)
class Expected:
    """A problem the build must report: where, about which field, and words its message must contain."""

    file: str
    message: tuple[str, ...]
    line: int | None = None
    path: str | None = None
    field: str | None = None

    def matches(self, problem: Problem) -> bool:
        return (problem.location.file, problem.location.line, problem.location.path, problem.field) == (self.file, self.line, self.path, self.field) and all(
            words in problem.message for words in self.message
        )


# --- ways to break a copy of data/ -----------------------------------------------------


def load_bundle(data: Path) -> dict:
    return json.loads((data / BUNDLE).read_text(encoding="utf-8"))


def save_bundle(data: Path, bundle: dict) -> None:
    (data / BUNDLE).write_text(json.dumps(bundle, indent=2), encoding="utf-8")  # escapes, so a lone surrogate can be written too


def change_record(data: Path, table: str, changes: dict, **match: object) -> int:
    """Set fields of the bundle record of ``table`` with the given values; returns its position."""
    bundle = load_bundle(data)
    at = position(bundle, table, **match)
    bundle[table][at].update(changes)
    save_bundle(data, bundle)
    return at


def position(bundle: dict, table: str, **match: object) -> int:
    """Index of the record of ``table`` whose fields have the given values."""
    return next(i for i, record in enumerate(bundle[table]) if all(record.get(k) == v for k, v in match.items()))


def append(data: Path, relative: str, content: str | bytes) -> int:
    """Append to a file (created if missing); returns the line number the addition starts on."""
    path = data / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_bytes() if path.exists() else b""
    assert not before or before.endswith(b"\n")
    path.write_bytes(before + (content if isinstance(content, bytes) else content.encode("utf-8")))
    return before.count(b"\n") + 1


def csv_line(data: Path, relative: str, first_cell: str) -> int:
    lines = (data / relative).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.split(",")[0] == first_cell)


def edit_at(path: Path, marker: str, replacement: str) -> int:
    """Replace the first ``marker`` in a file; returns the number of the line it starts on."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(marker, replacement, 1), encoding="utf-8")
    return text[: text.index(marker)].count("\n") + 1


def jsonl(*records: object) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


PERSON = {"id": "new-person", "name": "New Person", "sort_name": "Person, New"}

CASES: dict[str, Callable[[Path], list[Expected]]] = {}


def case(function: Callable[[Path], list[Expected]]) -> Callable[[Path], list[Expected]]:
    CASES[function.__name__] = function
    return function


@case
def malformed_json(data: Path) -> list[Expected]:
    lines = (data / BUNDLE).read_text(encoding="utf-8").splitlines(keepends=True)
    broken = next(i for i, line in enumerate(lines) if '"kind": "conference",' in line)
    lines[broken] = lines[broken].replace('"conference",', '"conference"')
    (data / BUNDLE).write_text("".join(lines), encoding="utf-8")
    line, column = broken + 2, len(lines[broken + 1]) - len(lines[broken + 1].lstrip()) + 1
    return [Expected(BUNDLE, ("malformed JSON", "Expecting ',' delimiter", f"line {line}, column {column}"), line=line)]


@case
def stray_quote_in_csv(data: Path) -> list[Expected]:
    """The rest of the file is unread, so the many references to its people are not reported missing too."""
    line = edit_at(data / "people.csv", "liu-yunshan,Liu Yunshan,", 'liu-yunshan,"Liu Yunshan"x,')
    return [Expected("people.csv", ("malformed CSV", "',' expected after '\"'"), line=line)]


@case
def misspelled_table_in_bundle(data: Path) -> list[Expected]:
    """The events under the misspelled key are unknown, so the records naming them are not reported too."""
    edit_at(data / BUNDLE, '"events": [', '"event": [')
    return [Expected(BUNDLE, ("unknown field(s) 'event'",), path="(top level)", field="event")]


@case
def comment_left_in_a_bundle(data: Path) -> list[Expected]:
    line = edit_at(data / BUNDLE, '  "events": [', '  // What happened.\n  "events": [')
    return [Expected(BUNDLE, ("malformed JSON", "JSON has no comments: delete the // lines"), line=line)]


@case
def malformed_sources_file(data: Path) -> list[Expected]:
    """Its sources are unknown, so the records citing them are not reported too."""
    line = edit_at(data / SOURCE_RECORD, '"sources": [', '"sources": [,')
    return [Expected(SOURCE_RECORD, ("malformed JSON", "Expecting value"), line=line)]


@case
def csv_row_with_a_cell_too_many(data: Path) -> list[Expected]:
    """The row's id is known, and so are the records naming it: they are not reported too."""
    line = edit_at(data / "people.csv", "liu-yunshan,Liu Yunshan,Liu Yunshan,", "liu-yunshan,Liu Yunshan,Liu Yunshan,,")
    return [Expected("people.csv", ("5 cells where the header has 4",), line=line)]


@case
def malformed_json_line(data: Path) -> list[Expected]:
    line = append(data, "people/extra.jsonl", jsonl(PERSON) + '{"id": "cut-short",\n')
    return [Expected("people/extra.jsonl", ("malformed JSON", "(line 2, column"), line=line + 1)]


@case
def duplicate_key_in_json_line(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", '{"id": "a", "id": "b", "name": "A", "sort_name": "A"}\n')
    return [Expected("people/extra.jsonl", ("the key 'id' is given twice in the object that starts on this line",), line=1)]


@case
def invalid_utf8_in_csv(data: Path) -> list[Expected]:
    line = append(data, "people.csv", b"bad-bytes,Bad \xff Bytes,Bytes,\n")
    return [Expected("people.csv", ("invalid UTF-8", "0xff", "save the file as UTF-8"), line=line)]


@case
def invalid_utf8_in_json_line(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", jsonl(PERSON).encode() + b'{"id": "x", "name": "\xc3("}\n')
    return [Expected("people/extra.jsonl", ("invalid UTF-8", "0xc3", "column 22"), line=2)]


@case
def invalid_utf8_in_bundle(data: Path) -> list[Expected]:
    content = (data / BUNDLE).read_bytes()
    offset = content.index(b"Second World Internet Conference")
    (data / BUNDLE).write_bytes(content[:offset] + b"\xfe" + content[offset:])
    line = content[:offset].count(b"\n") + 1
    return [Expected(BUNDLE, ("invalid UTF-8", "0xfe", f"offset {offset}"), line=line)]


@case
def csv_row_with_too_many_cells(data: Path) -> list[Expected]:
    line = append(data, "people.csv", "surplus,Surplus,Surplus,,one too many\n")
    return [Expected("people.csv", ("5 cells where the header has 4", "id, name, sort_name, wikidata_id"), line=line)]


@case
def csv_row_with_too_few_cells(data: Path) -> list[Expected]:
    line = append(data, "people.csv", "short,Short\n")
    return [Expected("people.csv", ("2 cells where the header has 4",), line=line)]


@case
def unknown_csv_header(data: Path) -> list[Expected]:
    path = data / "people.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("wikidata_id", "wikidata", 1), encoding="utf-8")
    return [Expected("people.csv", ("unknown column(s) 'wikidata'", "allowed: id, name, sort_name, wikidata_id"), line=1)]


@case
def missing_required_csv_header(data: Path) -> list[Expected]:
    path = data / "people.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, ["id", "name", "wikidata_id"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return [Expected("people.csv", ("missing required column(s) 'sort_name'",), line=1)]


@case
def wrong_type_in_bundle(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"edition": "two"}, id="wic-2015")
    return [Expected(BUNDLE, ("expected an integer", "got 'two'"), path=f"events[{at}].edition", field="edition")]


@case
def wrong_type_in_csv(data: Path) -> list[Expected]:
    line = append(data, "places.csv", "nowhere,Nowhere,town,china,CN,north,\n")
    return [Expected("places.csv", ("valid number", "'north'"), line=line, field="latitude")]


@case
def wrong_type_in_json_line(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", jsonl({**PERSON, "name": ["New", "Person"]}))
    return [Expected("people/extra.jsonl", ("valid string",), line=1, field="name")]


@case
def unknown_field_in_bundle(data: Path) -> list[Expected]:
    at = change_record(data, "speeches", {"colour": "red"}, kind="address")
    return [Expected(BUNDLE, ("unknown field(s) 'colour'", "allowed fields:", "speaker_id"), path=f"speeches[{at}]", field="colour")]


@case
def unknown_field_in_json_line(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", jsonl({**PERSON, "colour": "red"}))
    return [Expected("people/extra.jsonl", ("unknown field",), line=1, field="colour")]


@case
def missing_field_in_bundle(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    at = position(bundle, "speeches", kind="address")
    del bundle["speeches"][at]["kind"]
    save_bundle(data, bundle)
    return [Expected(BUNDLE, ("required field 'kind' is missing",), path=f"speeches[{at}]", field="kind")]


@case
def missing_field_in_csv(data: Path) -> list[Expected]:
    line = append(data, "people.csv", "no-sort-name,No Sort Name,,\n")
    return [Expected("people.csv", ("required field is missing",), line=line, field="sort_name")]


@case
def invalid_slug_in_bundle(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"id": "Group Photo"}, id="wic-2015-group-photo")
    # The records naming the old id now point nowhere, and are reported in the same run.
    naming = [i for i, record in enumerate(load_bundle(data)["participants"]) if record["event_id"] == "wic-2015-group-photo"]
    assert naming
    return [Expected(BUNDLE, ("expected a slug", "lowercase", "got 'Group Photo'"), path=f"events[{at}].id", field="id")] + [
        Expected(BUNDLE, ("no events record with id 'wic-2015-group-photo'",), path=f"participants[{i}]", field="event_id") for i in naming
    ]


@case
def invalid_slug_in_csv(data: Path) -> list[Expected]:
    line = append(data, "people.csv", 'New_Person,New Person,"Person, New",\n')
    return [Expected("people.csv", ("expected a slug", "'New_Person'"), line=line, field="id")]


@case
def invalid_record_after_a_row_with_line_breaks_in_a_cell(data: Path) -> list[Expected]:
    """Each record is named by the line it starts on, though a quoted cell before it spans three."""
    append(data, "people.csv", 'multi-line-person,"Multi\nLine\nPerson","Person, Multi",\n')
    line = append(data, "people.csv", 'Bad_Id,"Bad\nId","Id, Bad",\n')
    return [Expected("people.csv", ("expected a slug", "'Bad_Id'"), line=line, field="id")]


def _event_date(field: str, value: str, *message: str) -> Callable[[Path], list[Expected]]:
    def breaks(data: Path) -> list[Expected]:
        bundle = load_bundle(data)
        at = position(bundle, "events", id="wic-2015")
        bundle["events"][at][field] = value
        save_bundle(data, bundle)
        return [Expected(BUNDLE, message, path=f"events[{at}]", field=field)]

    return breaks


CASES["month_that_does_not_exist"] = _event_date("start_date", "2015-13-01", "month 13 does not exist")
CASES["day_that_does_not_exist"] = _event_date("start_date", "2015-02-30", "day 30 does not exist in 2015-02")
CASES["year_zero"] = _event_date("start_date", "0000-12", "year 0000 does not exist")
CASES["end_before_start"] = _event_date("end_date", "2015-12-01", "end_date 2015-12-01 is before start_date 2015-12-16")


@case
def date_in_other_digits(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"start_date": "２０１５-12-16"}, id="wic-2015")  # fullwidth digits, which \d would accept
    return [Expected(BUNDLE, ("expected an ISO 8601 date", "YYYY-MM-DD"), path=f"events[{at}].start_date", field="start_date")]


@case
def child_event_outside_its_parent(data: Path) -> list[Expected]:
    at = change_record(data, "events", dict(start_date="2016-01-01", end_date="2016-01-01"), id="wic-2015-opening-ceremony")
    return [Expected(BUNDLE, ("outside its parent 'wic-2015' (2015-12-16 to 2015-12-18)",), path=f"events[{at}]", field="start_date")]


@case
def child_event_with_only_an_end_date_outside_its_parent(data: Path) -> list[Expected]:
    at = change_record(data, "events", dict(end_date="2019-05-01"), id="wic-2015-group-photo")
    return [Expected(BUNDLE, ("outside its parent 'wic-2015' (2015-12-16 to 2015-12-18)",), path=f"events[{at}]", field="end_date")]


@case
def duplicate_id_within_a_bundle(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    at = position(bundle, "events", id="wic-2015-group-photo")
    bundle["events"].append({**bundle["events"][at], "evidence": []})
    save_bundle(data, bundle)
    message = ("id 'wic-2015-group-photo' is used by more than one events record",)
    return [Expected(BUNDLE, message, path=f"events[{at}]", field="id"), Expected(BUNDLE, message, path=f"events[{len(bundle['events']) - 1}]", field="id")]


@case
def duplicate_id_within_a_csv(data: Path) -> list[Expected]:
    first = csv_line(data, "people.csv", "xi-jinping")
    again = append(data, "people.csv", 'xi-jinping,Xi Again,"Xi, Again",\n')
    message = ("id 'xi-jinping' is used by more than one people record",)
    return [Expected("people.csv", message, line=first, field="id"), Expected("people.csv", message, line=again, field="id")]


@case
def duplicate_id_across_csv_and_json_lines(data: Path) -> list[Expected]:
    first = csv_line(data, "people.csv", "xi-jinping")
    append(data, "people/extra.jsonl", jsonl(PERSON, {**PERSON, "id": "xi-jinping"}))
    message = ("id 'xi-jinping' is used by more than one people record",)
    return [Expected("people.csv", message, line=first, field="id"), Expected("people/extra.jsonl", message, line=2, field="id")]


@case
def duplicate_id_across_bundle_and_csv(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    bundle["people"] = [{"id": "liu-yunshan", "name": "Liu Yunshan", "sort_name": "Liu Yunshan"}]
    save_bundle(data, bundle)
    message = ("id 'liu-yunshan' is used by more than one people record",)
    return [
        Expected(BUNDLE, message, path="people[0]", field="id"),
        Expected("people.csv", message, line=csv_line(data, "people.csv", "liu-yunshan"), field="id"),
    ]


def _group_photo_cited_again(data: Path, changes: dict) -> list[Expected]:
    """The group photo's first citation, cited again with ``changes``: both citations are reported."""
    bundle = load_bundle(data)
    at = position(bundle, "events", id="wic-2015-group-photo")
    citations = bundle["events"][at]["evidence"]
    citations.append({**citations[0], **changes})
    save_bundle(data, bundle)
    message = ("the same quote is cited twice for events 'wic-2015-group-photo'",)
    return [
        Expected(BUNDLE, message, path=f"events[{at}].evidence[0]", field="quote"),
        Expected(BUNDLE, message, path=f"events[{at}].evidence[{len(citations) - 1}]", field="quote"),
    ]


@case
def the_same_quote_cited_twice(data: Path) -> list[Expected]:
    return _group_photo_cited_again(data, {})


@case
def the_same_quote_cited_with_and_without_its_occurrence(data: Path) -> list[Expected]:
    """occurrence 1 of a quote found once is the quote itself: the same fact, cited twice."""
    return _group_photo_cited_again(data, {"occurrence": 1})


@case
def source_document_that_ends_like_a_record_file(data: Path) -> list[Expected]:
    """Every .csv, .json or .jsonl file under data/ is read as records: the source says how to carry such a document."""
    text = "name,country\nBan Ki-moon,UN\n"
    (data / "sources" / "attendees.csv").write_text(text, encoding="utf-8")
    source = {"id": "attendees", "title": "Attendees", "language": "en", "file": "sources/attendees.csv", "sha256": hashlib.sha256(text.encode()).hexdigest()}
    (data / "sources" / "attendees.json").write_text(json.dumps({"sources": [source]}), encoding="utf-8")
    return [
        Expected(
            "sources/attendees.json",
            ("'sources/attendees.csv' ends like a record file", "carry the document as 'sources/attendees.csv.txt'"),
            path="sources[0]",
            field="file",
        ),
        Expected("sources/attendees.csv", ("unknown column(s) 'name', 'country'",), line=1),
        Expected("sources/attendees.csv", ("missing required column(s) 'id', 'language'",), line=1),
    ]


@case
def alternate_name_of_a_missing_person(data: Path) -> list[Expected]:
    line = append(data, "alternate_names.csv", "people,nobody-at-all,无人,zh-Hans\n")
    return [Expected("alternate_names.csv", ("no people record with id 'nobody-at-all'",), line=line, field="entity_id")]


@case
def evidence_for_a_missing_record(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    bundle["evidence"].append({**bundle["evidence"][0], "record_table": "organizations", "record_id": "no-such-organization", "field": "name"})
    save_bundle(data, bundle)
    at = len(bundle["evidence"]) - 1
    return [Expected(BUNDLE, ("no organizations record with id 'no-such-organization'",), path=f"evidence[{at}]", field="record_id")]


@case
def reference_to_a_missing_id(data: Path) -> list[Expected]:
    at = change_record(data, "speeches", {"speaker_id": "nobody-at-all"}, kind="address")
    return [Expected(BUNDLE, ("no people record with id 'nobody-at-all'",), path=f"speeches[{at}]", field="speaker_id")]


@case
def cycle_in_event_parents(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    top = position(bundle, "events", id="wic-2015")
    bundle["events"][top]["parent_id"] = "wic-2015-group-photo"
    save_bundle(data, bundle)
    # The loop is said once, on its first record; the conference now also lies outside its new parent's day.
    return [
        Expected(BUNDLE, ("parent links form a cycle", "(wic-2015 -> wic-2015-group-photo -> wic-2015)"), path=f"events[{top}]", field="parent_id"),
        Expected(BUNDLE, ("the event lies outside its parent 'wic-2015-group-photo'",), path=f"events[{top}]", field="start_date"),
    ]


@case
def cycle_in_place_parents(data: Path) -> list[Expected]:
    path = data / "places.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("china,China,country,,CN", "china,China,country,wuzhen,CN"), encoding="utf-8")
    loop = "(china -> wuzhen -> tongxiang -> jiaxing -> zhejiang -> china)"
    return [Expected("places.csv", ("parent links form a cycle", loop), line=csv_line(data, "places.csv", "china"), field="parent_id")]


def _conference_quote(change: Callable[[str], str], *message: str) -> Callable[[Path], list[Expected]]:
    """A case that changes the first quote cited for the conference with ``change``."""

    def changed_quote(data: Path) -> list[Expected]:
        bundle = load_bundle(data)
        at = position(bundle, "events", id="wic-2015")
        citation = bundle["events"][at]["evidence"][0]
        citation["quote"] = change(citation["quote"])
        save_bundle(data, bundle)
        return [Expected(BUNDLE, message, path=f"events[{at}].evidence[0]", field="quote")]

    return changed_quote


CASES["quote_not_in_its_source"] = _conference_quote(
    lambda quote: "words the source never says", f"quote not found in source '{SOURCE_ID}'", "'words the source never says'"
)
CASES["quote_that_strays_from_its_source"] = _conference_quote(
    lambda quote: "Liu Yunshan Chairs and Opens the Ceremony",
    "quote not found",
    "the source has its first 23 characters, then 'Addresses the Openin' where the quote has 'Opens the Ceremony'",
)
CASES["quote_with_other_spacing"] = _conference_quote(str.upper, "quote not found", "other spacing or letter case")


@case
def ambiguous_quote_without_occurrence(data: Path) -> list[Expected]:
    times = (data / SOURCE_TEXT).read_text(encoding="utf-8").count("Xi Jinping")
    bundle = load_bundle(data)
    at = position(bundle, "events", id="wic-2015")
    bundle["events"][at]["evidence"].append({"quote": "Xi Jinping"})
    save_bundle(data, bundle)
    path = f"events[{at}].evidence[{len(bundle['events'][at]['evidence']) - 1}]"
    return [Expected(BUNDLE, (f"quote occurs {times} times", f"say which with occurrence (1 to {times})"), path=path, field="occurrence")]


@case
def quote_whose_occurrences_overlap(data: Path) -> list[Expected]:
    """'go on, go on' occurs twice in 'go on, go on, go on', the second time overlapping the first."""
    source = {"id": "echo", "title": "Echo", "language": "en", "text": "He said: go on, go on, go on."}
    (data / "sources" / "echo.json").write_text(json.dumps({"sources": [source]}), encoding="utf-8")
    bundle = load_bundle(data)
    at = position(bundle, "events", id="wic-2015")
    bundle["events"][at]["evidence"].append({"quote": "go on, go on", "source_id": "echo"})
    save_bundle(data, bundle)
    path = f"events[{at}].evidence[{len(bundle['events'][at]['evidence']) - 1}]"
    return [Expected(BUNDLE, ("quote occurs 2 times in source 'echo'", "(1 to 2)"), path=path, field="occurrence")]


@case
def wrong_hash_and_a_quote_not_in_the_file(data: Path) -> list[Expected]:
    """A wrong hash does not keep the quotes from being checked in the same run."""
    path = data / SOURCE_RECORD
    record = json.loads(path.read_text(encoding="utf-8"))
    record["sources"][0]["sha256"] = "0" * 64
    path.write_text(json.dumps(record), encoding="utf-8")
    expected = CASES["quote_not_in_its_source"](data)
    return [Expected(SOURCE_RECORD, ("the document changed, or the hash is wrong",), path="sources[0]", field="sha256"), *expected]


@case
def source_file_changed(data: Path) -> list[Expected]:
    text = data / SOURCE_TEXT
    text.chmod(0o644)
    text.write_bytes(text.read_bytes() + b" One more word.")
    actual = hashlib.sha256(text.read_bytes()).hexdigest()
    stated = json.loads((data / SOURCE_RECORD).read_text(encoding="utf-8"))["sources"][0]["sha256"]
    return [Expected(SOURCE_RECORD, (f"the sha256 of {SOURCE_TEXT} is {actual}, not {stated}", "the document changed"), path="sources[0]", field="sha256")]


@case
def count_contradicting_its_qualifier(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    at = position(bundle, "counts", subject="guests")
    count = bundle["counts"][at]
    assert count["qualifier"] == "over"
    count["low"] = count["value"]  # 'over 2,000' cannot be 2,000
    save_bundle(data, bundle)
    message = f"low={count['value']} contradicts qualifier 'over' with value {count['value']} (expected low={count['value'] + 1})"
    return [Expected(BUNDLE, (message,), path=f"counts[{at}]", field="low")]


@case
def count_outside_its_bounds(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    at = position(bundle, "counts", subject="guests")
    value = bundle["counts"][at]["value"]
    bundle["counts"][at].update(qualifier="about", low=value + 10, high=value + 20)
    save_bundle(data, bundle)
    return [Expected(BUNDLE, (f"value {value} lies outside low={value + 10} and high={value + 20}",), path=f"counts[{at}]", field="value")]


@case
def stated_total_that_does_not_add_up(data: Path) -> list[Expected]:
    at = change_record(data, "stated_totals", {"expected": 6}, as_reported="five proposals")
    return [Expected(BUNDLE, ("the source says 'five proposals' (6), but 5 speech_points record(s) match",), path=f"stated_totals[{at}]", field="expected")]


@case
def stated_total_of_a_derived_table(data: Path) -> list[Expected]:
    at = change_record(data, "stated_totals", dict(record_table="build_info", match={}), as_reported="five proposals")
    return [Expected(BUNDLE, ("no table named 'build_info'", "expected one of: sources"), path=f"stated_totals[{at}]", field="record_table")]


@case
def empty_csv(data: Path) -> list[Expected]:
    (data / "organizations.csv").write_text("")
    return [Expected("organizations.csv", ("the file is empty",))]


@case
def empty_json(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text(" \n")
    return [Expected("events/extra.json", ("the file is empty",))]


@case
def empty_json_lines(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", "\n\n")
    return [Expected("people/extra.jsonl", ("the file is empty",))]


@case
def hostile_text_in_a_rejected_value(data: Path) -> list[Expected]:
    # The message quotes the value escaped, so that a NUL or a right-to-left override cannot garble the report.
    append(data, "people/extra.jsonl", jsonl({**PERSON, "id": "<b>\u202eevil\x00😀</b>"}))
    return [Expected("people/extra.jsonl", ("expected a slug", r"'<b>\u202eevil\x00😀</b>'"), line=1, field="id")]


# Input that once raised a raw Python exception instead of a problem.


@case
def bundle_that_is_a_list(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text("[1, 2]")
    return [Expected("events/extra.json", ("a bundle is a JSON object with a list per table, not a list",))]


@case
def table_that_is_not_a_list(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text('{"people": {"id": "x"}}')
    return [Expected("events/extra.json", ("expected a list", "{'id': 'x'}"), path="people")]


@case
def record_that_is_a_list(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text('{"people": [["new-person", "New Person"]]}')
    return [Expected("events/extra.json", ("expected an object",), path="people[0]")]


@case
def number_where_text_is_expected(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"name": 2015}, id="wic-2015")
    return [Expected(BUNDLE, ("expected a string, got 2015",), path=f"events[{at}].name", field="name")]


@case
def citation_with_a_misspelled_key_and_no_quote_in_a_bundle(data: Path) -> list[Expected]:
    """Problems inside a citation name the citation's field, as they do for JSON Lines records."""
    at = change_record(data, "events", {"evidence": [{"occurence": 2}, {"quote": 5}]}, id="wic-2015-group-photo")
    return [
        Expected(BUNDLE, ("unknown field(s) 'occurence'",), path=f"events[{at}].evidence[0]", field="occurence"),
        Expected(BUNDLE, ("required field 'quote' is missing",), path=f"events[{at}].evidence[0]", field="quote"),
        Expected(BUNDLE, ("expected a string, got 5",), path=f"events[{at}].evidence[1].quote", field="quote"),
    ]


@case
def citation_in_json_lines_with_a_misspelled_key(data: Path) -> list[Expected]:
    line = append(
        data, "people/extra.jsonl", jsonl({"id": "someone", "name": "Someone", "sort_name": "Someone", "evidence": [{"occurence": 2, "quote": "Xi Jinping"}]})
    )
    return [Expected("people/extra.jsonl", ("unknown field",), line=line, path="evidence[0]", field="occurence")]


@case
def citation_that_is_not_an_object(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"evidence": ["just a string"]}, id="wic-2015-group-photo")
    return [Expected(BUNDLE, ("expected an object", "'just a string'"), path=f"events[{at}].evidence[0]", field="evidence")]


@case
def bundle_source_id_that_names_no_source(data: Path) -> list[Expected]:
    # Reported once, not once for every citation that falls back on it (141 of them).
    bundle = load_bundle(data)
    bundle["source_id"] = "no-such-source"
    save_bundle(data, bundle)
    return [Expected(BUNDLE, ("no source 'no-such-source' under data/sources/",), path="source_id", field="source_id")]


@case
def bundle_source_id_that_is_a_number(data: Path) -> list[Expected]:
    # Reported once, not once more for every citation that falls back on it.
    bundle = load_bundle(data)
    bundle["source_id"] = 7
    save_bundle(data, bundle)
    return [Expected(BUNDLE, ("expected a string, got 7", "or leave the field out"), path="source_id")]


@case
def json_line_that_is_an_array(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", "[1, 2]\n")
    return [Expected("people/extra.jsonl", ("each line holds one JSON object, not a list",), line=1)]


@case
def json_nested_too_deeply(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text("[" * 100_000 + "]" * 100_000)
    return [Expected("events/extra.json", ("nested too deeply",))]


@case
def integer_too_large_for_sqlite(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"edition": 10**30}, id="wic-2015")
    return [Expected(BUNDLE, ("too large to store",), path=f"events[{at}]", field="edition")]


@case
def count_whose_bound_overflows(data: Path) -> list[Expected]:
    at = change_record(data, "counts", {"value": 2**63 - 1}, subject="guests")  # 'over' it makes low = 2**63
    return [Expected(BUNDLE, ("too large to store",), path=f"counts[{at}]", field="low")]


@case
def source_file_name_with_a_nul(data: Path) -> list[Expected]:
    path = data / SOURCE_RECORD
    path.write_text(path.read_text(encoding="utf-8").replace('"file": "', '"file": "\\u0000'), encoding="utf-8")
    return [
        Expected(
            SOURCE_RECORD,
            (
                "no control characters",
                "got '\\x00sources",
            ),
            path="sources[0].file",
            field="file",
        )
    ]


@case
def source_with_both_a_file_and_inline_text(data: Path) -> list[Expected]:
    path = data / SOURCE_RECORD
    record = json.loads(path.read_text(encoding="utf-8"))
    record["sources"][0]["text"] = "Another text than the file's."
    path.write_text(json.dumps(record), encoding="utf-8")
    return [Expected(SOURCE_RECORD, ("give the text inline or in a file, not both",), path="sources[0]", field="text")]


@case
def empty_source_document(data: Path) -> list[Expected]:
    (data / "sources" / "empty.txt").write_text("\n")
    source = {"id": "empty-source", "title": "Empty", "language": "en", "file": "sources/empty.txt", "sha256": hashlib.sha256(b"\n").hexdigest()}
    (data / "sources" / "empty.json").write_text(json.dumps({"sources": [source]}), encoding="utf-8")
    return [Expected("sources/empty.json", ("'sources/empty.txt' holds no text",), path="sources[0]", field="file")]


@case
def empty_text_where_a_field_may_be_left_out(data: Path) -> list[Expected]:
    """An empty text would be stored as '' beside the NULLs of fields left out, and CSV cannot tell them apart."""
    at = change_record(data, "speeches", {"title": ""}, kind="keynote")
    return [Expected(BUNDLE, ("empty text (or leave the field out)",), path=f"speeches[{at}].title", field="title")]


@case
def source_file_name_too_long(data: Path) -> list[Expected]:
    path = data / SOURCE_RECORD
    path.write_text(path.read_text(encoding="utf-8").replace('"file": "', '"file": "' + "x" * 5000), encoding="utf-8")
    return [Expected(SOURCE_RECORD, ("cannot read", "too long"), path="sources[0]", field="file")]


@case
def key_with_a_lone_surrogate(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text('{"people": [{"id": "x", "name": "X", "sort_name": "X", "\\ud800": 1}]}')
    return [Expected("events/extra.json", (r"unknown field(s) '\ud800'",), path="people[0]", field=r"'\ud800'")]


@case
def lone_surrogate_in_optional_text(data: Path) -> list[Expected]:
    # JSON can escape half a surrogate pair; Pydantic lets it into 'str | None' fields, and SQLite could not store it.
    at = change_record(data, "events", {"theme": "half a pair: \ud800"}, id="wic-2015")  # json.dumps writes it as the escape \ud800
    return [Expected(BUNDLE, ("lone surrogate", "cannot be stored"), path=f"events[{at}].theme", field="theme")]


@case
def lone_surrogate_in_an_id(data: Path) -> list[Expected]:
    # The invalid record's id is remembered, so that records naming it are not reported too; this one cannot be stored even there.
    (data / "events" / "extra.json").write_text('{"people": [{"id": "\\ud800", "name": "X", "sort_name": "X"}]}')
    return [Expected("events/extra.json", ("expected a slug",), path="people[0].id", field="id")]


@case
def lone_surrogate_in_a_stated_total(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    at = position(bundle, "stated_totals", as_reported="five proposals")
    bundle["stated_totals"][at]["match"]["kind"] = "\udfff"
    save_bundle(data, bundle)
    return [Expected(BUNDLE, ("lone surrogate",), path=f"stated_totals[{at}].match.kind", field="match")]


@case
def lone_surrogate_in_a_json_line(data: Path) -> list[Expected]:
    append(data, "people/extra.jsonl", json.dumps({**PERSON, "wikidata_id": None}) + "\n" + json.dumps({**PERSON, "id": "other", "name": "O\udc00"}) + "\n")
    return [Expected("people/extra.jsonl", ("lone surrogate",), line=2, path="name", field="name")]


@case
def json_null_for_a_bundle_and_for_a_line(data: Path) -> list[Expected]:
    (data / "events" / "extra.json").write_text("null\n")
    append(data, "people/extra.jsonl", jsonl(PERSON) + "null\n")
    return [
        Expected("events/extra.json", ("a bundle is a JSON object with a list per table, not null",)),
        Expected("people/extra.jsonl", ("each line holds one JSON object, not null",), line=2),
    ]


@case
def records_of_a_table_the_build_computes(data: Path) -> list[Expected]:
    sentence = {"id": "x-s1", "source_id": SOURCE_ID, "ordinal": 1, "start": 0, "end": 1, "text": "X", "boilerplate": False}
    append(data, "source_sentences.jsonl", jsonl(sentence))
    bundle = load_bundle(data)
    bundle["source_sentences"] = [sentence]
    save_bundle(data, bundle)
    return [
        Expected("source_sentences.jsonl", ("no table named 'source_sentences'",)),
        Expected(BUNDLE, ("unknown field(s) 'source_sentences'",), path="(top level)", field="source_sentences"),
    ]


@case
def file_name_that_is_not_utf8(data: Path) -> list[Expected]:
    name = b"\xff.csv".decode("utf-8", "surrogateescape")
    (data / name).write_text("id\nx\n")
    return [Expected(name, ("no table named '\\udcff'",))]


@case
def source_record_outside_sources_folder(data: Path) -> list[Expected]:
    bundle = load_bundle(data)
    bundle["sources"] = [{"id": "another-source", "title": "Another", "language": "en"}]
    save_bundle(data, bundle)
    return [Expected(BUNDLE, ("source records belong under data/sources/",), path="sources[0]")]


@case
def no_record_files(data: Path) -> list[Expected]:
    """A wrong --data folder must not replace the database with an empty one."""
    shutil.rmtree(data)
    data.mkdir()
    (data / "notes.txt").write_text("not a record file")
    return [Expected(".", ("no records found in the data folder",))]


@case
def record_files_without_records(data: Path) -> list[Expected]:
    shutil.rmtree(data)
    data.mkdir()
    (data / "people.csv").write_text("id,name,sort_name,wikidata_id\n", encoding="utf-8")
    return [Expected(".", ("no records found in the data folder",))]


@case
def other_records_in_the_sources_folder(data: Path) -> list[Expected]:
    """Read before the source texts they cite are all known, their quotes could slip through unchecked."""
    bundle = {"source_id": SOURCE_ID, "events": [{"id": "ghost", "name": "Ghost", "kind": "meeting", "evidence": [{"quote": "THIS IS NOT IN THE SOURCE"}]}]}
    (data / "sources" / "a-events.json").write_text(json.dumps(bundle), encoding="utf-8")
    return [Expected("sources/a-events.json", ("only source records go under data/sources/", "write these events records in another folder"), path="events[0]")]


@case
def several_mistakes_in_several_files(data: Path) -> list[Expected]:
    """All of a run's problems are reported together, not only the first."""
    expected = [CASES[name](data)[0] for name in ("invalid_slug_in_csv", "unknown_field_in_bundle", "json_line_that_is_an_array")]
    (data / "events" / "empty.json").write_text("")
    return expected + [Expected("events/empty.json", ("the file is empty",))]


@case
def several_cross_record_mistakes(data: Path) -> list[Expected]:
    return [CASES[name](data)[0] for name in ("reference_to_a_missing_id", "stated_total_that_does_not_add_up", "child_event_outside_its_parent")]


# --- the checks every case must pass ----------------------------------------------------


@pytest.fixture
def published(built_db: Path, tmp_path: Path) -> Path:
    """A database already at the output path, as after an earlier good build."""
    path = tmp_path / "published" / "wic_events.db"
    path.parent.mkdir()
    shutil.copyfile(built_db, path)
    return path


def printed(text: str) -> str:
    """How the command line prints text that holds characters no encoding can write."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


WEB_PAGE = {"id": "a-web-page", "title": "A web page", "url": "https://example.org/page", "language": "en"}
WEB_PAGES = "sources/extra-pages.jsonl"


def _cite_a_web_page(data: Path, key: str, item: dict) -> tuple[int, int]:
    """Add the web page to the sources and ``item`` (a citation or claim naming it) to the conference; returns
    the conference's position and the item's."""
    append(data, WEB_PAGES, jsonl(WEB_PAGE))
    bundle = load_bundle(data)
    top = position(bundle, "events", id="wic-2015")
    items = bundle["events"][top].setdefault(key, [])
    items.append({**item, "source_id": WEB_PAGE["id"]})
    save_bundle(data, bundle)
    return top, len(items) - 1


@case
def overlong_quote_from_a_web_page(data: Path) -> list[Expected]:
    top, at = _cite_a_web_page(data, "evidence", {"quote": "The conference was held in Wuzhen. " * 6, "field": "place_id"})
    return [Expected(BUNDLE, ("the quote has 210 characters", "at most 200 characters"), path=f"events[{top}].evidence[{at}]", field="quote")]


@case
def one_character_quote(data: Path) -> list[Expected]:
    top, at = _cite_a_web_page(data, "evidence", {"quote": "W", "field": "place_id"})
    return [Expected(BUNDLE, ("a quote of one character, or of spaces alone, states nothing",), path=f"events[{top}].evidence[{at}]", field="quote")]


@case
def quote_of_spaces(data: Path) -> list[Expected]:
    top, at = _cite_a_web_page(data, "evidence", {"quote": "   ", "field": "place_id"})
    return [Expected(BUNDLE, ("a quote of one character, or of spaces alone, states nothing",), path=f"events[{top}].evidence[{at}]", field="quote")]


@case
def source_with_neither_url_nor_text(data: Path) -> list[Expected]:
    append(data, WEB_PAGES, jsonl({"id": "nowhere", "title": "Nowhere", "language": "en"}))
    return [Expected(WEB_PAGES, ("a source needs a url where it is published, or a carried text",), line=1, field="url")]


@case
def copy_of_id_loop(data: Path) -> list[Expected]:
    pages = [{**WEB_PAGE, "id": "page-a", "copy_of_id": "page-b"}, {**WEB_PAGE, "id": "page-b", "copy_of_id": "page-a"}]
    append(data, WEB_PAGES, jsonl(*pages))
    return [Expected(WEB_PAGES, ("copy_of_id links form a loop", "(page-a -> page-b -> page-a)"), line=1, field="copy_of_id")]


@case
def claim_about_a_missing_field(data: Path) -> list[Expected]:
    top, at = _cite_a_web_page(data, "claims", {"field": "venue", "value": "Wuzhen", "quote": "held in Wuzhen"})
    return [Expected(BUNDLE, ("events has no field 'venue'; its fields: name, kind",), path=f"events[{top}].claims[{at}]", field="field")]


@case
def claim_about_a_missing_record(data: Path) -> list[Expected]:
    append(data, WEB_PAGES, jsonl(WEB_PAGE))
    claim = {
        "record_table": "events",
        "record_id": "wic-1999",
        "field": "theme",
        "value": "A theme",
        "quote": "A theme",
        "source_id": WEB_PAGE["id"],
        "preferred": True,
    }
    append(data, "claims/extra.jsonl", jsonl(claim))
    return [Expected("claims/extra.jsonl", ("no events record with id 'wic-1999'",), line=1, field="record_id")]


def _theme_claims(data: Path, *claims: dict) -> int:
    append(data, WEB_PAGES, jsonl(WEB_PAGE))
    bundle = load_bundle(data)
    top = position(bundle, "events", id="wic-2015")
    bundle["events"][top]["claims"] = [{**claim, "source_id": WEB_PAGE["id"]} for claim in claims]
    save_bundle(data, bundle)
    return top


@case
def two_preferred_claims(data: Path) -> list[Expected]:
    top = _theme_claims(
        data,
        {"field": "edition", "value": "2", "quote": "the second conference", "preferred": True},
        {"field": "edition", "value": "2", "quote": "the 2nd conference", "preferred": True},
    )
    return [
        Expected(BUNDLE, ("2 claims about events 'wic-2015' field 'edition' are preferred", "prefer one"), path=f"events[{top}].claims[0]", field="preferred")
    ]


@case
def claims_none_preferred(data: Path) -> list[Expected]:
    top = _theme_claims(
        data, {"field": "edition", "value": "3", "quote": "the third conference"}, {"field": "edition", "value": "2", "quote": "the 2nd conference"}
    )
    return [Expected(BUNDLE, ("no claim about events 'wic-2015' field 'edition' is preferred",), path=f"events[{top}].claims[0]", field="preferred")]


@case
def preferred_claim_that_differs_from_the_record(data: Path) -> list[Expected]:
    top = _theme_claims(
        data,
        {"field": "edition", "value": "3", "quote": "the third conference", "preferred": True},
        {"field": "edition", "value": "2", "quote": "the 2nd conference"},
    )
    return [Expected(BUNDLE, ("the preferred claim states '3', but the record holds '2'",), path=f"events[{top}].claims[0]", field="value")]


@case
def counts_of_one_number_none_preferred(data: Path) -> list[Expected]:
    append(data, WEB_PAGES, jsonl(WEB_PAGE))
    bundle = load_bundle(data)
    for value, qualifier in ((10, "exact"), (10, "over")):
        bundle["counts"].append(
            {
                "id": f"wic-2015-speakers-{qualifier}",
                "event_id": "wic-2015",
                "subject": "speakers",
                "value": value,
                "qualifier": qualifier,
                "as_reported": f"{qualifier} ten speakers",
                "source_id": WEB_PAGE["id"],
                "evidence": [{"quote": f"{qualifier} ten speakers", "field": "value", "source_id": WEB_PAGE["id"]}],
            }
        )
    save_bundle(data, bundle)
    first = position(bundle, "counts", subject="speakers")
    return [Expected(BUNDLE, ("several counts of 'speakers' for 'wic-2015'", "none is preferred"), path=f"counts[{first}]", field="preferred")]


@case
def control_character_in_a_name(data: Path) -> list[Expected]:
    line = append(data, "people/extra.jsonl", jsonl({**PERSON, "name": "New\x00Person"}))
    return [Expected("people/extra.jsonl", ("no control characters (tab and line feed are allowed)",), line=line, field="name")]


@case
def name_of_spaces_only(data: Path) -> list[Expected]:
    line = append(data, "people/extra.jsonl", jsonl({**PERSON, "sort_name": "   "}))
    return [Expected("people/extra.jsonl", ("text with a character that is not a space",), line=line, field="sort_name")]


@case
def reported_order_given_twice(data: Path) -> list[Expected]:
    at = change_record(data, "speeches", {"reported_order": 2}, id="wic-2015-dmitry-medvedev-speech")
    return [
        Expected(
            BUNDLE,
            ("among the speeches of event wic-2015-opening-ceremony", "reported_order 2 is given to more than one record"),
            path=f"speeches[{at}]",
            field="reported_order",
        )
    ]


@case
def sequence_with_a_gap(data: Path) -> list[Expected]:
    at = change_record(data, "events", {"sequence": 3}, id="wic-2015-opening-ceremony")
    return [Expected(BUNDLE, ("among the events inside wic-2015", "sequence runs to 3 but 2 is missing"), path=f"events[{at}]", field="sequence")]


@case
def point_ordinals_with_a_gap(data: Path) -> list[Expected]:
    at = change_record(data, "speech_points", {"ordinal": 7}, kind="proposal", ordinal=5)
    return [
        Expected(
            BUNDLE,
            ("among the points of wic-2015-xi-jinping-keynote / proposal", "ordinal runs to 7 but 5, 6 is missing"),
            path=f"speech_points[{at}]",
            field="ordinal",
        )
    ]


@case
def ordinal_too_big_to_count_up_to(data: Path) -> list[Expected]:
    at = change_record(data, "speech_points", {"ordinal": 2**62}, kind="proposal", ordinal=5)
    return [Expected(BUNDLE, (f"ordinal runs to {2**62} but 5, 6, 7, 8, 9 ... is missing",), path=f"speech_points[{at}]", field="ordinal")]


@case
def record_file_linked_from_outside(data: Path) -> list[Expected]:
    outside = data.parent / "elsewhere.csv"
    outside.write_text("id,name,sort_name\nsecret,Secret,Secret\n", encoding="utf-8")
    (data / "people" / "linked.csv").parent.mkdir(exist_ok=True)
    (data / "people" / "linked.csv").symlink_to(outside)
    return [Expected("people/linked.csv", ("is a link to a file outside the data folder",))]


@case
def dangling_link(data: Path) -> list[Expected]:
    (data / "extra.csv").symlink_to(data / "nothing-here.csv")
    return [Expected("extra.csv", ("is a link to nothing",))]


@case
def fifo_among_the_records(data: Path) -> list[Expected]:
    os.mkfifo(data / "queue.csv")
    return [Expected("queue.csv", ("is not a regular file",))]


@case
def number_with_thousands_of_digits(data: Path) -> list[Expected]:
    line = append(
        data, "counts/extra.jsonl", '{"event_id": "wic-2015", "subject": "bytes", "qualifier": "exact", "as_reported": "many", "value": ' + "9" * 5000 + "}\n"
    )
    return [Expected("counts/extra.jsonl", ("a number of 5000 digits is too long to read",), line=line)]


@case
def duplicate_key_in_a_bundle(data: Path) -> list[Expected]:
    line = edit_at(data / BUNDLE, '"kind": "conference",', '"kind": "conference", "kind": "ceremony",')
    lines = (data / BUNDLE).read_text(encoding="utf-8").splitlines()
    opens = max(number for number in range(1, line + 1) if lines[number - 1].rstrip().endswith("{"))  # the line the object starts on
    return [Expected(BUNDLE, ("the key 'kind' is given twice in the object that starts on this line",), line=opens)]


@case
def overlong_id_in_a_bundle(data: Path) -> list[Expected]:
    at = change_record(data, "speeches", {"id": "a" * 300}, id="wic-2015-liu-yunshan-address")
    return [Expected(BUNDLE, ("expected at most 200 characters, got 300",), path=f"speeches[{at}].id", field="id")]


def assert_reported(data: Path, output: Path, expected: list[Expected]) -> list[Problem]:
    previous = output.read_bytes()

    with pytest.raises(InvalidData) as caught:
        build(data, output)
    problems = caught.value.problems
    for want in expected:
        assert any(want.matches(problem) for problem in problems), f"{want} not among:\n" + "\n".join(map(str, problems))
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    assert all(not Path(problem.location.file).is_absolute() for problem in problems)
    assert output.read_bytes() == previous

    result = CliRunner().invoke(cli, ["build", "--data", str(data), "--output", str(output)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(data) not in result.output  # files are named relative to the data folder
    assert result.stderr.splitlines() == [printed(str(problem)) for problem in problems] + [
        f"{len(problems)} problem(s) found.",
        f"Build failed; {output} is unchanged.",
    ]
    assert output.read_bytes() == previous
    assert [path.name for path in output.parent.iterdir()] == [output.name]  # no temporary file left behind

    result = CliRunner().invoke(cli, ["validate", "--data", str(data), "--format", "json"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    reported = json.loads(result.stdout)
    assert reported == json.loads(printed(json.dumps([problem.as_dict() for problem in problems], ensure_ascii=False)))
    assert all(set(item) == {"file", "line", "path", "field", "message"} for item in reported)
    assert result.stderr.splitlines() == [f"{len(problems)} problem(s) found."]
    return problems


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_reported_where_it_is(name: str, data_copy: Path, published: Path) -> None:
    expected = CASES[name](data_copy)
    assert_reported(data_copy, published, expected)


def refuse_to_open(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files called ``name`` cannot be opened. Running as root ignores file modes, so the refusal is
    simulated where files are opened."""
    real_open = Path.open

    def refuse(path: Path, *args, **kwargs):
        if path.name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)


def test_unreadable_file_is_reported(data_copy: Path, published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_to_open("people.csv", monkeypatch)
    assert_reported(data_copy, published, [Expected("people.csv", ("cannot read the file: Permission denied",))])


@pytest.mark.parametrize("other_mistake", [alternate_name_of_a_missing_person, malformed_json_line], ids=["found across records", "found reading"])
def test_an_unreadable_file_outside_the_records_is_said_with_the_other_problems(
    data_copy: Path, published: Path, monkeypatch: pytest.MonkeyPatch, other_mistake: Callable[[Path], list[Expected]]
) -> None:
    """Only the input digest reads such a file; its failure neither hides nor is hidden by other problems."""
    (data_copy / "notes.txt").write_text("not a record file\n", encoding="utf-8")
    expected = other_mistake(data_copy)
    refuse_to_open("notes.txt", monkeypatch)
    assert_reported(data_copy, published, [*expected, Expected("notes.txt", ("cannot read the file: Permission denied",))])


class FailsAfter:
    """A file handle giving some lines, then an I/O error."""

    def __init__(self, lines: list):
        self.lines = lines

    def __enter__(self) -> FailsAfter:
        return self

    def __exit__(self, *exception: object) -> None:
        return None

    def __iter__(self):
        yield from self.lines
        raise OSError(5, "Input/output error")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_file_that_fails_partway_keeps_the_records_read_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Its records count as read (references to them are checked as usual), and the failure is said."""
    (tmp_path / "people").mkdir()
    if suffix == ".csv":
        lines, read_before = ["id,name,sort_name\n", "a,A,A\n", "b,B,B\n"], ["id,name,sort_name\n", "a,A,A\n"]
    else:
        lines = [jsonl({"id": name, "name": name, "sort_name": name}) for name in "ab"]
        read_before = [lines[0].encode()]
    (tmp_path / "people" / f"p{suffix}").write_text("".join(lines), encoding="utf-8")
    real_open = Path.open

    def flaky(path: Path, mode: str = "r", *args, **kwargs):
        # The CSV reader checks the whole file's bytes first, then reads its text: that fails.
        if path.name == f"p{suffix}" and (suffix == ".jsonl" or "b" not in mode):
            return FailsAfter(read_before)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", flaky)
    problems: list[Problem] = []
    files: set[str] = set()
    items = list(read_share(tmp_path, problems, Share(0, 1), files))
    assert [item.data.get("id") for item in items if type(item) is RawRecord] == ["a"]
    assert items[-1] == UnknownRecords("people")  # so that a reference to 'b' is not also reported missing
    assert files == {f"people/p{suffix}"}
    assert [str(problem) for problem in problems] == [f"people/p{suffix}: cannot read the file: Input/output error"]


def test_a_table_file_that_fails_partway_is_one_problem(data_copy: Path, published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The people after the failure are unknown, not missing: the participants naming them are not reported."""
    lines = (data_copy / "people.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    real_open = Path.open

    def flaky(path: Path, mode: str = "r", *args, **kwargs):
        if path.name == "people.csv" and "b" not in mode:
            return FailsAfter(lines[:3])
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", flaky)
    assert_reported(data_copy, published, [Expected("people.csv", ("cannot read the file: Input/output error",))])


def test_unreadable_folder_is_reported(data_copy: Path, published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As above: the refusal is simulated where folders are listed.
    real_scandir = os.scandir

    def refuse(path="."):
        if not isinstance(path, int) and Path(path).name == "events":  # an int: a folder opened by descriptor
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    assert_reported(data_copy, published, [Expected("events/", ("cannot read the folder: Permission denied",))])


# --- input that is not a mistake is stored faithfully -------------------------------------


def test_byte_order_marks_are_accepted(data_copy: Path, tmp_path: Path) -> None:
    people = data_copy / "people.csv"
    people.write_bytes(b"\xef\xbb\xbf" + people.read_bytes())
    append(data_copy, "people/extra.jsonl", "\ufeff" + jsonl(PERSON))
    build(data_copy, tmp_path / "out.db")
    with closing(wic_events.connect(tmp_path / "out.db")) as connection:
        assert wic_events.records(wic_events.Person, connection, id="xi-jinping")[0].name == "Xi Jinping"
        assert wic_events.records(wic_events.Person, connection, id="new-person")[0].name == "New Person"


def test_hidden_files_are_not_read_and_suffixes_in_capitals_are(data_copy: Path, tmp_path: Path) -> None:
    from wic_events.compiling import input_digest

    digest = input_digest(data_copy)
    append(data_copy, "people/.draft.jsonl", "not even JSON\n")  # an editor's or a system's own file
    append(data_copy, ".cache/people.csv", "not a record\n")
    assert input_digest(data_copy) == digest  # what is not read does not count towards the digest
    before = build(data_copy, tmp_path / "before.db").counts["people"]
    append(data_copy, "people/more.JSONL", jsonl(PERSON))
    result = build(data_copy, tmp_path / "out.db")
    assert result.counts["people"] == before + 1
    assert input_digest(data_copy) != digest


def test_a_directory_named_like_a_record_file_is_not_read(data_copy: Path, tmp_path: Path) -> None:
    events = build(data_copy, tmp_path / "before.db").counts["events"]
    (data_copy / "events" / "folder.json").mkdir()
    (data_copy / "notes.csv").mkdir()
    result = build(data_copy, tmp_path / "out.db")
    assert result.counts["events"] == events


HOSTILE = "<script>alert('x')</script> & <b>bold</b>\tafter a tab \u202eevil\u202c 😀 '; DROP TABLE people; --"


def test_huge_and_hostile_text_is_stored_faithfully(data_copy: Path, tmp_path: Path) -> None:
    huge = ("A summary of one megabyte. " * 40_000)[:1_000_000]
    bundle = load_bundle(data_copy)
    keynote, address = position(bundle, "speeches", kind="keynote"), position(bundle, "speeches", kind="address")
    bundle["speeches"][keynote]["summary"] = huge
    bundle["speeches"][address]["title"] = HOSTILE
    save_bundle(data_copy, bundle)
    append(data_copy, "people/extra.jsonl", jsonl({**PERSON, "name": HOSTILE}))
    output = tmp_path / "out.db"
    build(data_copy, output)

    with closing(wic_events.connect(output)) as connection:
        assert wic_events.records(wic_events.Speech, connection, id=bundle["speeches"][keynote]["id"])[0].summary == huge
        assert wic_events.records(wic_events.Speech, connection, id=bundle["speeches"][address]["id"])[0].title == HOSTILE
        assert wic_events.records(wic_events.Person, connection, id="new-person")[0].name == HOSTILE
        # The text is data, not SQL: the table is still there.
        assert connection.execute("SELECT count(*) FROM people").fetchone()[0] > 1
        # Full-text search indexes the text after the tab and the override too.
        hits = connection.execute("SELECT name FROM people_fts WHERE people_fts MATCH 'evil'").fetchall()
        assert [row[0] for row in hits] == [HOSTILE]


def test_record_problems_and_cross_record_problems_are_reported_together(data_copy):
    people = data_copy / "people.csv"
    people.write_text(
        people.read_text(encoding="utf-8").replace("xi-jinping,Xi Jinping,Xi Jinping,Q15031", "xi-jinping,Xi Jinping,Xi Jinping,15031"), encoding="utf-8"
    )
    places = data_copy / "places.csv"
    places.write_text(places.read_text(encoding="utf-8").replace("wuzhen,Wuzhen,town,tongxiang", "wuzhen,Wuzhen,town,tongxiang-city"), encoding="utf-8")
    with pytest.raises(InvalidData) as raised:
        build(data_copy, data_copy.parent / "out.db")
    reported = [(problem.location.file, problem.field) for problem in raised.value.problems]
    # Xi Jinping's record is invalid, but nothing is reported missing on its account.
    assert reported == [("people.csv", "wikidata_id"), ("places.csv", "parent_id")]
