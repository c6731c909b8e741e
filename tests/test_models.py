import datetime

import pytest
from pydantic import ValidationError

from wic_events.models import (
    DERIVED_MODELS,
    RECORD_MODELS,
    Count,
    Event,
    Evidence,
    Participant,
    Person,
    Position,
    Speech,
    SpeechPoint,
    date_fields,
    earliest_day,
    latest_day,
    reference_fields,
)


def test_every_field_of_every_model_is_described():
    for model in (*RECORD_MODELS, *DERIVED_MODELS):
        assert model.__doc__, model
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name}"


def test_models_forbid_unknown_fields():
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        Person(id="x", name="X", sort_name="X", nickname="y")


@pytest.mark.parametrize("slug", ["Xi-Jinping", "xi_jinping", "-xi", "xi--jinping", "xi jinping", ""])
def test_slugs_are_lowercase_words_joined_by_single_hyphens(slug):
    with pytest.raises(ValidationError):
        Person(id=slug, name="X", sort_name="X")


@pytest.mark.parametrize("date", ["2015", "2015-12", "2015-12-16", "2016-02-29"])
def test_partial_dates_are_accepted(date):
    assert Event(id="e", name="E", kind="meeting", start_date=date).start_date == date


@pytest.mark.parametrize(
    "date, reason",
    [
        ("2015-13-01", "month 13"),
        ("2015-02-30", "day 30"),
        ("0000", "year 0000"),
        ("0000-12-01", "year 0000"),
        ("15-12-16", "pattern"),
        ("2015/12/16", "pattern"),
    ],
)
def test_impossible_dates_are_rejected(date, reason):
    with pytest.raises(ValidationError, match=reason):
        Event(id="e", name="E", kind="meeting", start_date=date)


def test_partial_dates_span_their_earliest_and_latest_day():
    assert (earliest_day("2015"), latest_day("2015")) == (datetime.date(2015, 1, 1), datetime.date(2015, 12, 31))
    assert (earliest_day("2016-02"), latest_day("2016-02")) == (datetime.date(2016, 2, 1), datetime.date(2016, 2, 29))
    assert earliest_day("2015-12-16") == latest_day("2015-12-16") == datetime.date(2015, 12, 16)


def test_an_event_cannot_end_before_it_starts():
    with pytest.raises(ValidationError, match="end_date 2015-12-15 is before start_date 2015-12-16"):
        Event(id="e", name="E", kind="meeting", start_date="2015-12-16", end_date="2015-12-15")
    # A month and a day in it, either way round: each may be when the other is.
    assert Event(id="e", name="E", kind="meeting", start_date="2015-12", end_date="2015-12-01").end_date == "2015-12-01"
    assert Event(id="e", name="E", kind="meeting", start_date="2015-12-16", end_date="2015-12").end_date == "2015-12"
    with pytest.raises(ValidationError, match="end_date 2015-11 is before start_date 2015-12-16"):
        Event(id="e", name="E", kind="meeting", start_date="2015-12-16", end_date="2015-11")


def test_vocabularies_are_closed():
    with pytest.raises(ValidationError, match="keynote_speaker"):
        Participant(event_id="e", person_id="p", role="moderator")


@pytest.mark.parametrize(
    "qualifier, low, high",
    [("exact", 2000, 2000), ("over", 2001, None), ("at_least", 2000, None), ("under", None, 1999), ("at_most", None, 2000), ("about", None, None)],
)
def test_count_bounds_follow_from_the_qualifier(qualifier, low, high):
    count = Count(event_id="wic-2015", subject="guests", value=2000, qualifier=qualifier, as_reported="2,000 guests")
    assert (count.low, count.high) == (low, high)
    assert count.id == "wic-2015-guests"


def test_count_bounds_that_contradict_the_qualifier_are_rejected():
    with pytest.raises(ValidationError, match="low=2000 contradicts qualifier 'over'"):
        Count(event_id="e", subject="guests", value=2000, qualifier="over", low=2000, as_reported="over 2,000")
    with pytest.raises(ValidationError, match="outside"):
        Count(event_id="e", subject="guests", value=2000, qualifier="about", low=2100, high=2500, as_reported="about 2,000")


def test_a_speech_read_on_behalf_names_whose_speech_it_is():
    speech = Speech(id="s", event_id="e", speaker_id="wu-hongbo", on_behalf_of_id="ban-ki-moon", delivery_mode="read_on_behalf", kind="speech")
    assert speech.on_behalf_of_id == "ban-ki-moon"
    with pytest.raises(ValidationError, match="exactly when delivery_mode is 'read_on_behalf'"):
        Speech(id="s", event_id="e", speaker_id="wu-hongbo", delivery_mode="read_on_behalf", kind="speech")
    with pytest.raises(ValidationError, match="exactly when"):
        Speech(id="s", event_id="e", speaker_id="a", on_behalf_of_id="b", delivery_mode="in_person", kind="speech")


def test_derived_ids_are_stable_slugs():
    assert Participant(event_id="wic-2015", person_id="xi-jinping", role="keynote_speaker").id == "wic-2015-xi-jinping-keynote-speaker"
    assert SpeechPoint(speech_id="k", kind="proposal", ordinal=3, label="L", text="T").id == "k-proposal-3"
    first = Evidence(source_id="s", record_table="people", record_id="x", quote="Xi")
    again = Evidence(source_id="s", record_table="people", record_id="x", quote="Xi")
    other = Evidence(source_id="s", record_table="people", record_id="x", quote="Xi Jinping")
    assert first.id == again.id != other.id


def test_references_and_dates_are_read_from_the_models():
    assert reference_fields(Speech) == {"event_id": "events", "speaker_id": "people", "on_behalf_of_id": "people", "summary_id": "summaries"}
    assert date_fields(Position) == ["start_date", "end_date", "as_of"]


def test_a_count_under_zero_is_impossible():
    with pytest.raises(ValidationError, match="'under 0' allows no number"):
        Count(event_id="e", subject="guests", value=0, qualifier="under", as_reported="under 0")


def test_each_column_is_described_once_for_the_site_the_data_package_and_parquet():
    from wic_events import exports, site_config
    from wic_events.models import MODELS_BY_TABLE, table_columns

    role = next(column for column in table_columns(MODELS_BY_TABLE["participants"]) if column.name == "role")
    assert role.values and role.documented.startswith(role.description + " Values: ") and role.documented.endswith(".")
    assert "keynote_speaker: " in role.documented
    for model in MODELS_BY_TABLE.values():
        on_site = site_config.column_descriptions(model)
        in_package = {field["name"]: field["description"] for field in exports._resource(model)["schema"]["fields"]}
        in_parquet = {field.name: field.metadata[b"description"].decode() for field in exports.arrow_schema(model)}
        assert in_package == in_parquet, model.table
        assert {name: text for name, text in in_package.items() if name in on_site} == on_site, model.table
