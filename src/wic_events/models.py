"""The records of wic-events, one Pydantic model per table of the public SQL contract.

These classes are the single source of truth: the JSON Schema files in ``schema/``,
the SQLite tables, the Datasette column descriptions and the exports are all
derived from them. This module imports nothing else of the package.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

SCHEMA_VERSION = "1.0.0"
"""Version of the public SQL contract; bump the major part on a breaking change."""

SOURCE_TEXTS_TERMS = (
    "CC BY 4.0 covers the records; the source documents whose text the sources table carries, for checking each quote, remain under their publishers' terms."
)
"""Said wherever the data's licence is, since the carried texts are not the project's to license."""

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# [0-9], not \d: \d also matches other scripts' digits ("２０１５"), which SQLite's date functions do not read.
PARTIAL_DATE_PATTERN = r"^[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?$"
TIME_OF_DAY_PATTERN = r"^(?:morning|afternoon|evening|night|(?:[01][0-9]|2[0-3]):[0-5][0-9])$"
COUNTRY_CODE_PATTERN = r"^[A-Z]{2}$"
LANGUAGE_TAG_PATTERN = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
WIKIDATA_ID_PATTERN = r"^Q[1-9][0-9]*$"
# Some character that is not white space, and no control character but tab and line feed: a NUL
# or an escape code in a name would reach every export and page, and spaces alone name nothing.
_ALLOWED = r"[^\x00-\x08\x0b-\x1f\x7f]"
TEXT_PATTERN = rf"^{_ALLOWED}*[^\s\x00-\x1f\x7f]{_ALLOWED}*$"

PATTERN_DESCRIPTIONS = {
    SLUG_PATTERN: "a slug: lowercase ASCII letters and digits, words joined by single hyphens (like 'xi-jinping')",
    PARTIAL_DATE_PATTERN: "an ISO 8601 date: YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year is known",
    TIME_OF_DAY_PATTERN: "morning, afternoon, evening, night, or a 24-hour time HH:MM",
    COUNTRY_CODE_PATTERN: "an ISO 3166-1 alpha-2 country code in capitals (like 'CN')",
    LANGUAGE_TAG_PATTERN: "a BCP 47 language tag (like 'en' or 'zh-Hans')",
    SHA256_PATTERN: "a SHA-256 digest: 64 lowercase hex digits",
    WIKIDATA_ID_PATTERN: "a Wikidata item id (like 'Q15031')",
    TEXT_PATTERN: "text with a character that is not a space, and no control characters (tab and line feed are allowed)",
}
"""What each pattern means in words, for error messages: a contributor should not have to read a regex."""


class FieldError(ValueError):
    """A check across fields that blames one of them, so that an error message can name that field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


_SLUG_WORD = re.compile(r"[a-z0-9]+")
_SLUGS_AND_SEPARATORS = re.compile(r"[a-z0-9]+(?:[- _][a-z0-9]+)*")


def slugify(text: str) -> str:
    """Turn free text into a slug: lowercase ASCII words joined by hyphens."""
    if _SLUGS_AND_SEPARATORS.fullmatch(text):  # slugs and vocabulary values joined by spaces, as derived ids are: the same, faster
        return text.replace(" ", "-").replace("_", "-")
    return "-".join(_SLUG_WORD.findall(text.lower()))


def _check_partial_date(value: str) -> str:
    if len(value) == 10:
        try:  # the common case, a whole valid day, checked in C; other cases need the message below
            datetime.date.fromisoformat(value)
            return value
        except ValueError:
            pass
    parts = [int(part) for part in value.split("-")]
    if parts[0] == 0:  # ISO 8601 allows it only by agreement; Python's dates and SQLite's date functions do not
        raise ValueError("year 0000 does not exist (1 BC is followed by AD 1)")
    if len(parts) >= 2 and not 1 <= parts[1] <= 12:
        raise ValueError(f"month {parts[1]:02d} does not exist")
    if len(parts) == 3:
        last_day = calendar.monthrange(parts[0], parts[1])[1]
        if not 1 <= parts[2] <= last_day:
            raise ValueError(f"day {parts[2]:02d} does not exist in {parts[0]}-{parts[1]:02d}")
    return value


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=200)]
PartialDate = Annotated[
    str,
    StringConstraints(pattern=PARTIAL_DATE_PATTERN),
    AfterValidator(_check_partial_date),
]
CountryCode = Annotated[str, StringConstraints(pattern=COUNTRY_CODE_PATTERN)]
LanguageTag = Annotated[str, StringConstraints(pattern=LANGUAGE_TAG_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
WikidataId = Annotated[str, StringConstraints(pattern=WIKIDATA_ID_PATTERN)]
TimeOfDay = Annotated[str, StringConstraints(pattern=TIME_OF_DAY_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, pattern=TEXT_PATTERN)]

MAX_UNCARRIED_QUOTE = 200
"""The longest quote of a source whose text the project does not carry: such a quote is the
shortest phrase that states one fact (a date, a name with its post, a number with its words),
never a paragraph: facts are cited, articles are not copied."""


def _check_quote(value: str) -> str:
    if len(value.strip()) < 2:
        raise ValueError("a quote of one character, or of spaces alone, states nothing; quote the words that state the fact")
    return value


Quote = Annotated[str, StringConstraints(min_length=1), AfterValidator(_check_quote)]


def earliest_day(date: str) -> datetime.date:
    """The first day a partial date can mean: ``2015-12`` -> 2015-12-01."""
    parts = [int(part) for part in date.split("-")]
    return datetime.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def latest_day(date: str) -> datetime.date:
    """The last day a partial date can mean: ``2015-12`` -> 2015-12-31."""
    parts = [int(part) for part in date.split("-")]
    year = parts[0]
    month = parts[1] if len(parts) > 1 else 12
    day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
    return datetime.date(year, month, day)


def json_text(value: list[Any] | dict[str, Any]) -> str:
    """How a list or object field is stored in SQLite: as JSON text with sorted keys, so that equal
    values are equal texts."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def references(table: str, description: str, **kwargs: Any) -> Any:
    """A field holding the id of a row of ``table``; compiled as a foreign key."""
    return Field(description=description, json_schema_extra={"x-references": table}, **kwargs)


class DescribedEnum(str, Enum):
    """A closed vocabulary whose members each carry a description."""

    description: str

    def __new__(cls, value: str, description: str) -> DescribedEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["x-enum-descriptions"] = {member.value: member.description for member in cls}
        return schema


class PlaceKind(DescribedEnum):
    country = "country", "A sovereign state."
    province = "province", "A first-level division of a country: province, state, autonomous region."
    city = "city", "A city or prefecture."
    county = "county", "A county or county-level city."
    town = "town", "A town or township."
    venue = "venue", "A building or site where an event takes place."


class OrganizationKind(DescribedEnum):
    government = "government", "A national or local government or one of its bodies."
    intergovernmental = "intergovernmental", "An organization whose members are states (UN, ITU)."
    party = "party", "A political party."
    company = "company", "A business."
    forum = "forum", "A foundation, forum or conference organizer that is neither state nor business."
    academic = "academic", "A university or research institute."
    other = "other", "None of the above."


class EventKind(DescribedEnum):
    conference = "conference", "A whole conference, for example one yearly World Internet Conference."
    ceremony = "ceremony", "An opening, closing or award ceremony."
    session = "session", "A forum, panel or plenary session within a conference."
    photo_session = "photo_session", "A group photo taken with guests."
    meeting = "meeting", "A meeting between named people."
    exhibition = "exhibition", "An exhibition or expo."


class Role(DescribedEnum):
    chair = "chair", "Chairs or presides over the event."
    keynote_speaker = "keynote_speaker", "Delivers the event's keynote speech."
    speaker = "speaker", "Delivers a speech, address or message of their own."
    reader = "reader", "Reads out a speech on behalf of another person."
    attendee = "attendee", "Attends without a stated speaking part."
    host = "host", "Hosts the event or its guests."
    organizer = "organizer", "Organizes the event."


class SpeechKind(DescribedEnum):
    keynote = "keynote", "The keynote speech of an event."
    address = "address", "An address, for example by the chair of an event."
    speech = "speech", "A speech that is neither keynote nor address."
    message = "message", "A written or recorded message sent to the event."
    remarks = "remarks", "Short remarks."


class DeliveryMode(DescribedEnum):
    in_person = "in_person", "Delivered in person by the speech's own author."
    read_on_behalf = "read_on_behalf", "Read out by the speaker on behalf of the person named in on_behalf_of_id."
    video = "video", "Delivered by video."
    written = "written", "Delivered in writing only."


class Qualifier(DescribedEnum):
    exact = "exact", "Exactly the value."
    over = "over", "More than the value ('over 2,000')."
    about = "about", "Approximately the value ('about', 'nearly', 'some')."
    under = "under", "Fewer than the value ('under', 'less than')."
    at_least = "at_least", "The value or more ('at least')."
    at_most = "at_most", "The value or fewer ('at most', 'up to')."


class PointKind(DescribedEnum):
    principle = "principle", "A principle the speaker states, called a principle by a source."
    proposal = "proposal", "A proposal the speaker puts forward, called a proposal by a source."


class DocumentKind(DescribedEnum):
    initiative = "initiative", "A call to action released in the name of the conference (the Wuzhen Initiative)."
    report = "report", "A report on the state of the Internet (the World Internet Development Report)."
    outlook = "outlook", "A yearly outcome document looking ahead (the Wuzhen Outlook)."
    concept_paper = "concept_paper", "A document setting out a concept or position (Jointly Build a Community with a Shared Future in Cyberspace)."
    other = "other", "None of the above."


class Record(BaseModel):
    """Common configuration: unknown fields are errors, and each model knows its table."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=False)

    table: ClassVar[str]
    primary_key: ClassVar[tuple[str, ...]] = ("id",)
    label_field: ClassVar[str | None] = None
    """The column that names a row, shown instead of its id where other rows point to it."""
    search_fields: ClassVar[tuple[str, ...]] = ()
    """Text columns indexed for full-text search."""
    fts_table: ClassVar[str | None] = None
    """The full-text table over ``search_fields``: ``<table>_fts``, set for each model that has them."""
    sort_field: ClassVar[str | None] = None
    """The column a table page is sorted by (then by the primary key); it is indexed."""
    facet_fields: ClassVar[tuple[str, ...]] = ()
    """Columns a table page counts its rows by, each indexed. Only columns with a few distinct
    values: a facet counts the rows of each value on every table page, which over a column like
    speeches.event_id means reading the whole table (seconds at a million rows)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.fts_table = f"{cls.table}_fts" if cls.search_fields else None

    @classmethod
    def key_of(cls, values: Mapping[str, Any]) -> str:
        """The text naming a row within its table: its id, or its key columns' values joined by |."""
        return "|".join(str(values[name]) for name in cls.primary_key)

    def key(self) -> str:
        """This record's ``key_of``."""
        return self.key_of(self.__dict__)

    @classmethod
    def table_description(cls) -> str:
        """What one row of the table is: the model's docstring as one line of plain text."""
        return " ".join((cls.__doc__ or "").replace("``", "").split())

    @classmethod
    def derived_id(cls, data: dict[str, Any]) -> str | None:
        """An id built from other fields, for tables whose rows authors need not name."""
        return None


class RecordWithDerivedId(Record):
    """A record whose id may be left out: it is then built from other fields (see ``derived_id``).

    A class of its own so that the other models do not run the check below for every record.
    """

    @model_validator(mode="before")
    @classmethod
    def _fill_derived_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("id") in (None, ""):
            derived = cls.derived_id(data)
            if derived is not None:
                data = {**data, "id": derived}
        return data


class Source(Record):
    """A source document: an article, a transcript, a web page."""

    table: ClassVar[str] = "sources"
    facet_fields: ClassVar[tuple[str, ...]] = ("language", "publisher")
    # The id, not the title: a web page may show no title, and ids name publisher and subject.
    label_field: ClassVar[str | None] = "id"
    search_fields: ClassVar[tuple[str, ...]] = ("title", "text")
    id: Slug = Field(description="Stable slug naming the source: its publisher and subject, e.g. 'ecns-2014-first-internet-conference'.")
    title: Text | None = Field(None, description="The document's title as published; empty for a web page that shows none.")
    publisher: Text | None = Field(None, description="Who published the document.")
    url: Text | None = Field(None, description="Where the document is published.")
    language: LanguageTag = Field(description="Language of the document (BCP 47 tag, e.g. 'en').")
    published_on: PartialDate | None = Field(None, description="Publication date, ISO 8601; empty when the document does not state it.")
    file: Text | None = Field(None, description="Path of the carried text under data/, when the project carries the document.")
    sha256: Sha256 | None = Field(None, description="SHA-256 of the carried file's bytes, lowercase hex.")
    text: Text | None = Field(
        None,
        description=(
            "Full text of the carried file (UTF-8), under its publisher's terms, not the dataset's licence; empty for sources the project does not carry."
        ),
    )
    boilerplate: list[Text] = Field(
        default_factory=list,
        description="Passages of the text that carry no fact (a page footer), reviewed by hand and left out of coverage.",
    )
    copy_of_id: Slug | None = references(
        "sources",
        "The source whose text this one republishes (a wire story on a second site, a mirror): it is then no independent confirmation of that source.",
        default=None,
    )

    @model_validator(mode="after")
    def _file_needs_hash(self) -> Source:
        if self.file is not None and self.sha256 is None:
            raise FieldError("sha256", "a source that carries a file must give its sha256")
        if self.url is None and self.file is None and self.text is None:
            raise FieldError("url", "a source needs a url where it is published, or a carried text (file or text): otherwise no one can check its quotes")
        if self.copy_of_id is not None and self.copy_of_id == self.id:
            raise FieldError("copy_of_id", "a source cannot be a copy of itself")
        return self


class Place(Record):
    """A country, province, city, town or venue."""

    table: ClassVar[str] = "places"
    facet_fields: ClassVar[tuple[str, ...]] = ("kind", "country_code")
    label_field: ClassVar[str | None] = "name"
    search_fields: ClassVar[tuple[str, ...]] = ("name",)
    id: Slug = Field(description="Stable slug naming the place.")
    name: Text = Field(description="English name.")
    kind: PlaceKind = Field(description="What sort of place it is.")
    parent_id: Slug | None = references("places", "The place this one lies in (town -> province -> country).", default=None)
    country_code: CountryCode | None = Field(None, description="ISO 3166-1 alpha-2 code of the country it lies in.")
    latitude: float | None = Field(None, ge=-90, le=90, description="Latitude in decimal degrees (WGS 84).")
    longitude: float | None = Field(None, ge=-180, le=180, description="Longitude in decimal degrees (WGS 84).")


class Organization(Record):
    """A government, intergovernmental body, party, company or forum."""

    table: ClassVar[str] = "organizations"
    facet_fields: ClassVar[tuple[str, ...]] = ("kind", "country_code")
    label_field: ClassVar[str | None] = "name"
    search_fields: ClassVar[tuple[str, ...]] = ("name", "abbreviation")
    id: Slug = Field(description="Stable slug naming the organization.")
    name: Text = Field(description="Official English name.")
    abbreviation: Text | None = Field(None, description="Common abbreviation, e.g. 'ITU'.")
    kind: OrganizationKind = Field(description="What sort of organization it is.")
    country_code: CountryCode | None = Field(None, description="ISO 3166-1 alpha-2 code of its country; empty for international bodies.")


class Person(Record):
    """A person."""

    table: ClassVar[str] = "people"
    sort_field: ClassVar[str | None] = "sort_name"
    label_field: ClassVar[str | None] = "name"
    search_fields: ClassVar[tuple[str, ...]] = ("name", "sort_name")
    id: Slug = Field(description="Stable slug naming the person, e.g. 'xi-jinping'.")
    name: Text = Field(description="Name as usually written in English.")
    sort_name: Text = Field(description="Name for sorting: family name first.")
    wikidata_id: WikidataId | None = Field(None, description="Wikidata item id, only where certain.")


class AlternateName(Record):
    """Another name or spelling of a person, organization or place."""

    table: ClassVar[str] = "alternate_names"
    facet_fields: ClassVar[tuple[str, ...]] = ("entity_table", "language")
    label_field: ClassVar[str | None] = "name"
    primary_key: ClassVar[tuple[str, ...]] = ("entity_table", "entity_id", "language", "name")
    entity_table: Literal["people", "organizations", "places"] = Field(description="Table of the named record.")
    entity_id: Slug = Field(description="Id of the named record in entity_table.")
    name: Text = Field(description="The other name or spelling.")
    language: LanguageTag = Field(description="Language and script of the name (BCP 47, e.g. 'zh-Hans', 'ru').")


class Position(Record):
    """A post a person held, as a source states it."""

    table: ClassVar[str] = "positions"
    facet_fields: ClassVar[tuple[str, ...]] = ("title", "country_code")
    label_field: ClassVar[str | None] = "title"
    id: Slug = Field(description="Stable slug naming the position.")
    person_id: Slug = references("people", "The person holding the post.")
    title: Text = Field(description="Title of the post as the source states it, e.g. 'Prime Minister'.")
    organization_id: Slug | None = references("organizations", "Organization the post belongs to, when stated.", default=None)
    country_code: CountryCode | None = Field(None, description="Country the post belongs to, when stated (ISO 3166-1 alpha-2).")
    start_date: PartialDate | None = Field(None, description="When the person took the post, if known.")
    end_date: PartialDate | None = Field(None, description="When the person left the post, if known.")
    as_of: PartialDate | None = Field(None, description="The date on which a source states the post, when start and end are unknown.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Position:
        _check_order(self.start_date, self.end_date)
        return self


class Event(Record):
    """A conference, ceremony, session, photo session or meeting."""

    table: ClassVar[str] = "events"
    facet_fields: ClassVar[tuple[str, ...]] = ("kind",)
    sort_field: ClassVar[str | None] = "start_date"
    label_field: ClassVar[str | None] = "name"
    search_fields: ClassVar[tuple[str, ...]] = ("name", "theme")
    id: Slug = Field(description="Stable slug naming the event, e.g. 'wic-2015-opening-ceremony'.")
    name: Text = Field(description="Name of the event in English.")
    kind: EventKind = Field(description="What sort of event it is.")
    series: Text | None = Field(None, description="The series the event belongs to, e.g. 'World Internet Conference'.")
    edition: int | None = Field(None, ge=1, description="Edition within the series (2 for the second WIC).")
    parent_id: Slug | None = references("events", "The event this one is part of.", default=None)
    sequence: int | None = Field(None, ge=1, description="Order among the events of the same parent, when a source states it.")
    start_date: PartialDate | None = Field(None, description="First day, ISO 8601 (year or month precision allowed).")
    end_date: PartialDate | None = Field(None, description="Last day, ISO 8601 (year or month precision allowed).")
    time_of_day: TimeOfDay | None = Field(None, description="morning, afternoon, evening, night, or 24-hour HH:MM when a source gives the time.")
    place_id: Slug | None = references("places", "Where the event took place.", default=None)
    theme: Text | None = Field(None, description="The event's theme, exactly as quoted in the source.")
    unnamed_participants: Text | None = Field(None, description="How the source refers to participants it does not name ('and others', 'attending guests').")
    source_id: Slug | None = references("sources", "The main source for the event.", default=None)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Event:
        _check_order(self.start_date, self.end_date)
        return self


class Count(RecordWithDerivedId):
    """A number a source reports about an event ("over 2,000 guests").

    ``low`` and ``high`` are the inclusive bounds the qualifier implies; they are
    filled in from ``value`` when left empty and must agree with it when given.
    Two sources may report the same subject differently: each claim is its own row,
    and ``preferred`` marks the one the dataset prefers, if any.
    """

    table: ClassVar[str] = "counts"
    facet_fields: ClassVar[tuple[str, ...]] = ("subject", "qualifier")

    @staticmethod
    def value_sql(alias: str) -> str:
        """A count's claim in words, as SQL over the row ``alias``: 'over 2000', 'about 1500', '76'."""
        return f"CASE {alias}.qualifier WHEN 'exact' THEN '' ELSE replace({alias}.qualifier, '_', ' ') || ' ' END || {alias}.value"

    id: Slug | None = Field(None, description="Stable slug; defaults to '<event_id>-<subject>'.")
    event_id: Slug = references("events", "The event the number is about.")
    subject: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")] = Field(
        description="What is counted, in snake_case: guests, countries_and_regions, continents, ..."
    )
    value: int = Field(ge=0, description="The number as reported.")
    qualifier: Qualifier = Field(description="How the value bounds the true number.")
    low: int | None = Field(None, ge=0, description="Smallest number the report allows (inclusive); empty when unbounded.")
    high: int | None = Field(None, ge=0, description="Largest number the report allows (inclusive); empty when unbounded.")
    as_reported: Text = Field(description="The source's own words for the number, e.g. 'Over 2,000 guests'.")
    source_id: Slug | None = references("sources", "The source reporting the number.", default=None)
    preferred: bool | None = Field(None, description="True for the claim the dataset prefers when sources disagree.")

    @classmethod
    def derived_id(cls, data: dict[str, Any]) -> str | None:
        if data.get("event_id") and data.get("subject"):
            return slugify(f"{data['event_id']} {data['subject']}")
        return None

    @model_validator(mode="after")
    def _bounds_agree_with_qualifier(self) -> Count:
        if self.qualifier == "under" and self.value == 0:
            raise FieldError("value", "'under 0' allows no number at all; use 'exact' with value 0 or a larger value")
        implied = {
            "exact": (self.value, self.value),
            "over": (self.value + 1, None),
            "at_least": (self.value, None),
            "under": (None, self.value - 1),
            "at_most": (None, self.value),
            "about": (self.low, self.high),
        }[self.qualifier]
        for name, given, expected in (("low", self.low, implied[0]), ("high", self.high, implied[1])):
            if given is None:
                setattr(self, name, expected)
            elif given != expected:
                raise FieldError(
                    name,
                    f"{name}={given} contradicts qualifier '{self.qualifier}' with value {self.value} "
                    f"(expected {name}={expected if expected is not None else 'empty'})",
                )
        if self.low is not None and self.high is not None and self.low > self.high:
            raise FieldError("high", f"low={self.low} is greater than high={self.high}")
        if self.qualifier == "about" and self.low is not None and self.high is not None and not self.low <= self.value <= self.high:
            raise FieldError("value", f"value {self.value} lies outside low={self.low} and high={self.high}")
        return self


class Participant(RecordWithDerivedId):
    """One person's part in one event: one row per role."""

    table: ClassVar[str] = "participants"
    facet_fields: ClassVar[tuple[str, ...]] = ("role",)
    id: Slug | None = Field(None, description="Stable slug; defaults to '<event_id>-<person_id>-<role>'.")
    event_id: Slug = references("events", "The event.")
    person_id: Slug = references("people", "The person taking part.")
    role: Role = Field(description="The person's part in the event.")
    position_id: Slug | None = references("positions", "The post the source gives the person at the event.", default=None)

    @classmethod
    def derived_id(cls, data: dict[str, Any]) -> str | None:
        if data.get("event_id") and data.get("person_id") and data.get("role"):
            return slugify(f"{data['event_id']} {data['person_id']} {data['role']}")
        return None


class Summary(Record):
    """What a source says of several speeches at once, kept once and linked from each: it is not
    what any one of those speakers said alone."""

    table: ClassVar[str] = "summaries"
    search_fields: ClassVar[tuple[str, ...]] = ("text",)
    id: Slug = Field(description="Stable slug naming the summary.")
    text: Text = Field(description="What the source says of the speeches together, in the dataset's own words.")


class Speech(Record):
    """A speech, address or message delivered at an event."""

    table: ClassVar[str] = "speeches"
    facet_fields: ClassVar[tuple[str, ...]] = ("kind", "delivery_mode")
    # By the event, whose id starts with the year (ties stay in the order written).
    sort_field: ClassVar[str | None] = "event_id"
    search_fields: ClassVar[tuple[str, ...]] = ("title", "summary", "kind")
    id: Slug = Field(description="Stable slug naming the speech.")
    event_id: Slug = references("events", "The event the speech was delivered at.")
    speaker_id: Slug = references("people", "Who delivered the speech.")
    on_behalf_of_id: Slug | None = references("people", "Whose speech it is, when someone else read it out.", default=None)
    delivery_mode: DeliveryMode | None = Field(None, description="How the speech was delivered; empty when no source says.")
    kind: SpeechKind = Field(description="What sort of speech it is.")
    title: Text | None = Field(None, description="Title of the speech, when a source gives one.")
    summary: Text | None = Field(None, description="What the speech said, in the dataset's own words.")
    summary_id: Slug | None = references("summaries", "A summary the source gives for this speech together with others.", default=None)
    reported_order: int | None = Field(
        None, ge=1, description="Place of the speech in the source's account of the event (1 = reported first); not necessarily the order of delivery."
    )

    @model_validator(mode="after")
    def _behalf_matches_mode(self) -> Speech:
        if (self.delivery_mode == "read_on_behalf") != (self.on_behalf_of_id is not None):
            raise FieldError("on_behalf_of_id", "on_behalf_of_id is given exactly when delivery_mode is 'read_on_behalf'")
        if self.on_behalf_of_id is not None and self.on_behalf_of_id == self.speaker_id:
            raise FieldError("on_behalf_of_id", "on_behalf_of_id names the speaker; a person does not read out their own speech on their own behalf")
        return self


class SpeechPoint(RecordWithDerivedId):
    """An enumerated point in a speech: a principle or a proposal."""

    table: ClassVar[str] = "speech_points"
    facet_fields: ClassVar[tuple[str, ...]] = ("kind",)
    # By the speech, whose id starts with the year.
    sort_field: ClassVar[str | None] = "speech_id"
    label_field: ClassVar[str | None] = "label"
    search_fields: ClassVar[tuple[str, ...]] = ("label", "text", "kind")
    id: Slug | None = Field(None, description="Stable slug; defaults to '<speech_id>-<kind>-<ordinal>'.")
    speech_id: Slug = references("speeches", "The speech making the point.")
    ordinal: int = Field(ge=1, description="Position among the speech's points of the same kind, as the speech enumerates them.")
    kind: PointKind = Field(description="What sort of point it is.")
    label: Text = Field(description="A short label for the point.")
    text: Text = Field(description="The point, paraphrased in the dataset's own words.")

    @classmethod
    def derived_id(cls, data: dict[str, Any]) -> str | None:
        if data.get("speech_id") and data.get("kind") and data.get("ordinal") not in (None, ""):
            return slugify(f"{data['speech_id']} {data['kind']} {data['ordinal']}")
        return None


class StatedTotal(Record):
    """A number of items a source states ("five proposals"), checked against the records at build time."""

    table: ClassVar[str] = "stated_totals"
    facet_fields: ClassVar[tuple[str, ...]] = ("record_table",)
    id: Slug = Field(description="Stable slug naming the check.")
    record_table: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")] = Field(description="Table whose rows are counted.")
    match: dict[str, str | int] = Field(description="Column values the counted rows have, e.g. {'speech_id': '...', 'kind': 'proposal'}.")
    expected: int = Field(ge=0, description="How many rows the source says there are.")
    as_reported: Text = Field(description="The source's own words, e.g. 'five proposals'.")
    source_id: Slug | None = references("sources", "The source stating the number.", default=None)


class Evidence(RecordWithDerivedId):
    """The exact span of a source that supports a record or one of its fields.

    Authors write ``quote``; the build finds ``start`` and ``end`` (0-based,
    end exclusive, in characters) so that ``quote`` equals
    ``substr(sources.text, start + 1, end - start)``. For a source whose text
    the project does not carry, start and end stay empty: the quote is then a
    short phrase that was not located.
    """

    table: ClassVar[str] = "evidence"
    facet_fields: ClassVar[tuple[str, ...]] = ("record_table", "field")
    search_fields: ClassVar[tuple[str, ...]] = ("quote",)
    id: Annotated[str, StringConstraints(pattern=r"^ev-[0-9a-f]{16}$")] | None = Field(
        None, description="Stable id derived from the table, record, field, source and quote."
    )
    source_id: Slug = references("sources", "The source quoted.")
    record_table: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")] = Field(description="Table of the supported record.")
    record_id: Slug = Field(description="Id of the supported record.")
    field: Text | None = Field(None, description="The field the quote supports; empty when it supports the record as a whole.")
    quote: Quote = Field(description=f"The exact words of the source; at most {MAX_UNCARRIED_QUOTE} characters from a source whose text is not carried.")
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of the quote is meant, when it occurs more than once.")
    start: int | None = Field(None, ge=0, description="Offset of the quote's first character in the source text; empty when not located.")
    end: int | None = Field(None, ge=0, description="Offset just past the quote's last character; empty when not located.")

    @classmethod
    def derived_id(cls, data: dict[str, Any]) -> str | None:
        key = "\x1f".join(str(data.get(name) or "") for name in ("record_table", "record_id", "field", "source_id", "quote", "occurrence"))
        return "ev-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Claim(RecordWithDerivedId):
    """What one source states for one field of a record, kept where sources disagree.

    The record holds the value the dataset prefers; each source's claim about that field is a
    row here, with its quote, and exactly one claim per field is ``preferred``: the one whose
    value the record holds. Numbers are not claims: each report of a number is its own
    ``counts`` row. Written inside the record in a bundle, a claim whose value is the record's
    also becomes evidence for that field.
    """

    table: ClassVar[str] = "claims"
    facet_fields: ClassVar[tuple[str, ...]] = ("record_table", "field", "preferred")
    id: Annotated[str, StringConstraints(pattern=r"^cl-[0-9a-f]{16}$")] | None = Field(
        None, description="Stable id derived from the table, record, field, source, quote and value."
    )
    record_table: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")] = Field(description="Table of the record the claim is about.")
    record_id: Slug = Field(description="Id of the record the claim is about.")
    field: Text = Field(description="The field whose value the source states.")
    value: Text | None = Field(
        description="The value the source states, as the field would hold it (as text); null where the source says the field has no value."
    )
    source_id: Slug = references("sources", "The source making the claim.")
    quote: Quote = Field(
        description=f"The exact words of the source that state the value; at most {MAX_UNCARRIED_QUOTE} characters from a source whose text is not carried."
    )
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of the quote is meant, when it occurs more than once in a carried text.")
    preferred: bool = Field(False, description="True for the one claim per field whose value the record holds.")

    @classmethod
    def derived_id(cls, data: dict[str, Any]) -> str | None:
        key = "\x1f".join(str(data.get(name) or "") for name in ("record_table", "record_id", "field", "source_id", "quote", "value"))
        return "cl-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Document(Record):
    """A document released at an event: an initiative, a yearly report, a concept paper."""

    table: ClassVar[str] = "documents"
    facet_fields: ClassVar[tuple[str, ...]] = ("kind",)
    label_field: ClassVar[str | None] = "title"
    search_fields: ClassVar[tuple[str, ...]] = ("title",)
    id: Slug = Field(description="Stable slug naming the document.")
    event_id: Slug = references("events", "The event the document was released at, as a source states it.")
    title: Text = Field(description="The document's title as a source writes it.")
    kind: DocumentKind = Field(description="What sort of document it is.")
    released_on: PartialDate | None = Field(None, description="When it was released, ISO 8601; empty when no source states the day.")
    source_id: Slug | None = references("sources", "The source reporting the release.", default=None)


class SourceSentence(Record):
    """A sentence of a carried source text, found by the build; the unit of evidence coverage."""

    table: ClassVar[str] = "source_sentences"
    facet_fields: ClassVar[tuple[str, ...]] = ("boilerplate",)
    sort_field: ClassVar[str | None] = "ordinal"
    label_field: ClassVar[str | None] = "text"
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+-s[0-9]+$")] = Field(description="'<source_id>-s<ordinal>'.")
    source_id: Slug = references("sources", "The source the sentence belongs to.")
    ordinal: int = Field(ge=1, description="Position of the sentence in the source (1 = first).")
    start: int = Field(ge=0, description="Offset of the sentence's first character in the source text.")
    end: int = Field(ge=0, description="Offset just past the sentence's last character.")
    text: Text = Field(description="The sentence.")
    boilerplate: bool = Field(description="True when the sentence lies in one of the source's reviewed boilerplate passages.")


class BuildInfo(Record):
    """How the database file was built: one row."""

    table: ClassVar[str] = "build_info"
    primary_key: ClassVar[tuple[str, ...]] = ()
    package_version: str = Field(description="Version of the wic-events package that built the file.")
    schema_version: str = Field(description="Version of the public SQL contract.")
    input_digest: Sha256 = Field(description="SHA-256 over the paths and bytes of every input file.")
    record_counts: str = Field(description="JSON object: number of rows in each table.")
    coverage: str = Field(description="What the data covers, in words: the series and years, and how many sources of each kind back it.")
    built_at: str | None = Field(None, description="Build time from SOURCE_DATE_EPOCH, when set; empty otherwise, so that builds are reproducible.")


def _check_order(start: str | None, end: str | None) -> None:
    # An end known to the month only (2015-12) may be the month a start day (2015-12-16) falls in.
    if start and end and latest_day(end) < earliest_day(start):
        raise FieldError("end_date", f"end_date {end} is before start_date {start}")


RECORD_MODELS: tuple[type[Record], ...] = (
    Source,
    Place,
    Organization,
    Person,
    AlternateName,
    Position,
    Event,
    Count,
    Participant,
    Summary,
    Speech,
    SpeechPoint,
    Document,
    StatedTotal,
    Evidence,
    Claim,
)
"""Tables authored under data/, in the order they are loaded."""

DERIVED_MODELS: tuple[type[Record], ...] = (SourceSentence, BuildInfo)
"""Tables the build computes from the authored ones."""

MODELS_BY_TABLE: dict[str, type[Record]] = {model.table: model for model in (*RECORD_MODELS, *DERIVED_MODELS)}


class Citation(BaseModel):
    """Evidence written inside the record it supports."""

    model_config = ConfigDict(extra="forbid")
    quote: Quote = Field(description="The exact words of the source.")
    field: Text | None = Field(None, description="The field the quote supports; leave out when it supports the record as a whole.")
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of the quote is meant, when it occurs more than once.")
    source_id: Slug | None = Field(None, description="The source quoted; defaults to the bundle's source_id.")


class StatedClaim(BaseModel):
    """A claim written inside the record it is about (see ``Claim``)."""

    model_config = ConfigDict(extra="forbid")
    field: Text = Field(description="The field whose value the source states.")
    value: Text | None = Field(
        description="The value the source states, as the field would hold it (as text); null where the source says the field has no value."
    )
    quote: Quote = Field(description="The exact words of the source that state the value.")
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of the quote is meant, when it occurs more than once in a carried text.")
    source_id: Slug | None = Field(None, description="The source making the claim; defaults to the bundle's source_id.")
    preferred: bool = Field(False, description="True for the one claim per field whose value the record holds.")


def reference_fields(model: type[Record]) -> dict[str, str]:
    """Map each foreign-key field of ``model`` to the table it references."""
    found = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "x-references" in extra:
            found[name] = str(extra["x-references"])
    return found


def date_fields(model: type[Record]) -> list[str]:
    """Names of the fields holding (partial) ISO dates, found by their pattern in the model's schema."""
    return [column.name for column in table_columns(model) if column.constraints.get("pattern") == PARTIAL_DATE_PATTERN]


CONSTRAINT_KEYWORDS = ("pattern", "enum", "minimum", "maximum", "minLength", "maxLength")
"""The JSON Schema keywords a column carries as constraints into the data package."""

_SQL_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "string": "TEXT", "object": "TEXT", "array": "TEXT", "date": "TEXT"}


@dataclass(frozen=True)
class Column:
    """One column of a model's table, as the SQL tables, the exports, the data package and the
    site all describe it: read once from the model's JSON Schema by ``table_columns``."""

    name: str
    type: str
    """The JSON Schema type ("string", "integer", "number", "boolean", "object", "array"), or
    "date" for a day derived from a partial date; objects and arrays are stored as JSON text."""
    required: bool
    """Never empty: a field that must be given, or one of the primary key."""
    description: str
    """The field's own description."""
    values: dict[str, str] = dataclass_field(default_factory=dict)
    """For a closed vocabulary, each allowed value with its meaning."""
    constraints: dict[str, Any] = dataclass_field(default_factory=dict)
    """The ``CONSTRAINT_KEYWORDS`` the schema gives the value."""

    @property
    def documented(self) -> str:
        """The description, then what each value of a closed vocabulary means."""
        if not self.values:
            return self.description
        return self.description + " Values: " + "; ".join(f"{value}: {meaning.rstrip('.')}" for value, meaning in self.values.items()) + "."

    def to_sql(self) -> str:
        """The column's definition in CREATE TABLE: type, NOT NULL and, for a closed vocabulary, a CHECK."""
        definition = f'"{self.name}" {_SQL_TYPES[self.type]}' + (" NOT NULL" if self.required else "")
        if enum := self.constraints.get("enum"):
            # Comparisons, not "IN (...)": SQLite builds a lookup table for an IN list again for
            # every row inserted, which doubled the time to load a table like participants.
            definition += " CHECK (" + " OR ".join(f'"{self.name}" = \'' + value.replace("'", "''") + "'" for value in enum) + ")"
        return definition

    def to_arrow(self, pyarrow: Any) -> Any:
        """The column as a field of an Arrow schema (``pyarrow`` passed in: only the exports need it)."""
        types = {"integer": pyarrow.int64(), "number": pyarrow.float64(), "boolean": pyarrow.bool_(), "date": pyarrow.date32()}
        return pyarrow.field(self.name, types.get(self.type, pyarrow.string()), nullable=not self.required, metadata={"description": self.documented})

    def to_frictionless(self) -> dict[str, Any]:
        """The column as a field of a Frictionless Table Schema."""
        return {"name": self.name, "type": self.type, "description": self.documented, "constraints": {"required": self.required, **self.constraints}}

    def to_datasette(self) -> str:
        """The column's description on the site."""
        return self.documented


@cache
def table_columns(model: type[BaseModel]) -> tuple[Column, ...]:
    """The columns of ``model``'s table, in field order (of any model: a citation written inside
    a record has fields the same way)."""
    primary_key = getattr(model, "primary_key", ())
    found = []
    for name, schema in model.model_json_schema()["properties"].items():
        options = schema.get("anyOf", [schema])
        value = next(option for option in options if option.get("type") != "null")
        required = all(option.get("type") != "null" for option in options) or name in primary_key
        constraints = {keyword: value[keyword] for keyword in CONSTRAINT_KEYWORDS if keyword in value}
        found.append(Column(name, value.get("type", "string"), required, schema.get("description", ""), value.get("x-enum-descriptions", {}), constraints))
    return tuple(found)
