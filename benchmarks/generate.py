"""Synthetic wic-events input of any size, valid by construction, for benchmarks.

    python benchmarks/generate.py --events 200000 --seed 1 --output /tmp/wic-200k

writes a data folder in the layout of data/: source documents and their bundle under
sources/, small tables as CSV at the top, big tables as JSON Lines or CSV in a folder
named after the table. The same arguments always give the same bytes. Every row is
computed from its index, and each file is written as a stream, so memory stays flat
whatever the size. The row count of each table is printed as JSON on stdout
(and returned by ``expected_counts``), so that callers can check the build.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

SOURCES = 100
"""Carried source documents. The build keeps every carried text in memory to locate
quotes, so their number stays fixed: the record tables are what grows with --events."""
SENTENCES_PER_SOURCE = 100
EVENTS_PER_CONFERENCE = 10
ORGANIZATIONS = 50
COUNTRIES = ("CN", "US", "RU", "PK", "KZ", "KG", "TJ", "GB", "FR", "DE", "BR", "IN", "ZA", "JP", "KR", "EG", "NG", "MX", "AU", "ID")
SUMMARY_CHARS = 800
SHARED_SUMMARY_EVERY = 1000
"""One speech in this many links a shared summary instead of carrying its own."""
STATED_TOTALS = 100

GIVEN = ("Anna", "Li", "Omar", "Maria", "Kenji", "Amara", "Ivan", "Sofia", "Wei", "Carlos", "Fatima", "John", "Priya", "Lars", "Nadia", "Tomas")
FAMILY = ("Chen", "Wang", "Ivanov", "Garcia", "Smith", "Khan", "Sato", "Okafor", "Muller", "Silva", "Dubois", "Kim", "Singh", "Haddad", "Novak", "Jensen")
HANZI = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
WORDS = (
    "internet governance cyberspace security digital economy cooperation sovereignty development innovation "
    "infrastructure connectivity data privacy trust openness sharing community future network platform "
    "technology research education trade investment growth inclusion bridge divide youth industry cloud "
    "artificial intelligence standards rules order peace stability partnership exchange culture mobile "
    "broadband satellite computing startup enterprise talent skills protection crime terrorism law ethics"
).split()
SYLLABLES = ("ka", "lo", "mi", "ren", "tu", "sha", "vo", "ne", "di", "pa", "qui", "zo", "ber", "gan", "li", "mo", "sa", "te", "wu", "xi")
VOCABULARY = tuple(WORDS) + tuple(map("".join, itertools.product(SYLLABLES, repeat=3)))
"""Words of speech summaries, drawn with Zipf's law as in real text: a search for a common word
finds most speeches, one for a word of rank 500 about one in forty."""
ZIPF = tuple(itertools.accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))
EVENT_KINDS = ("conference", "ceremony", "photo_session") + ("session",) * (EVENTS_PER_CONFERENCE - 3)
SPEECH_KINDS = ("keynote", "address", "speech", "message", "remarks")


def expected_counts(events: int) -> dict[str, int]:
    """How many rows of each table the generator writes for ``events`` events."""
    conferences = -(-events // EVENTS_PER_CONFERENCE)
    places = max(len(COUNTRIES) + 3, events // 50)
    speeches = events // 2 + events % 2
    return {
        "sources": SOURCES,
        "places": places,
        "organizations": ORGANIZATIONS,
        "people": max(3, events // 2),
        "alternate_names": -(-max(3, events // 2) // 10),
        "positions": -(-max(3, events // 2) // 10),
        "events": events,
        "counts": conferences,
        "documents": conferences,
        "claims": 0,  # a claim needs a second source that disagrees: the series data has them, this input does not
        "participants": 3 * events,
        "summaries": -(-speeches // SHARED_SUMMARY_EVERY),
        "speeches": speeches,
        "speech_points": 2 * -(-speeches // 4),
        "stated_totals": min(STATED_TOTALS, -(-speeches // 4)),
        "evidence": -(-events // 4),
        "source_sentences": SOURCES * SENTENCES_PER_SOURCE,
    }


class Generator:
    def __init__(self, events: int, seed: int, output: Path):
        self.events = events
        self.seed = seed
        self.output = output
        self.counts = expected_counts(events)
        self.people = self.counts["people"]
        self.places = self.counts["places"]
        # Venues are every third place after the countries (province, city, venue, ...).
        self.venues = (self.places - len(COUNTRIES)) // 3

    def rng(self, *key: object) -> random.Random:
        """A random generator for one row: rows do not depend on each other or on write order."""
        return random.Random(f"{self.seed}:" + ":".join(map(str, key)))

    # --- ids, computed from indexes, so that references need no lookup table ---

    def event_id(self, index: int) -> str:
        conference, within = divmod(index, EVENTS_PER_CONFERENCE)
        return f"conf-{conference:07d}" + ("" if within == 0 else f"-{EVENT_KINDS[within].replace('_', '-')}-{within}")

    def person_id(self, index: int) -> str:
        return f"person-{index % self.people:07d}"

    def venue_id(self, index: int) -> str:
        return f"place-{len(COUNTRIES) + 3 * (index % self.venues) + 2:06d}"

    def source_id(self, index: int) -> str:
        return f"source-{index % SOURCES:03d}"

    # --- the files ---

    def write(self) -> None:
        self.output.mkdir(parents=True, exist_ok=True)
        self.write_sources()
        self.write_csv("places.csv", self.place_rows())
        self.write_csv("organizations.csv", self.organization_rows())
        self.write_csv("people.csv", self.person_rows())
        self.write_csv("alternate_names.csv", self.alternate_name_rows())
        self.write_csv("positions/positions.csv", self.position_rows())
        self.write_jsonl("events/events.jsonl", self.event_rows())
        self.write_jsonl("counts/counts.jsonl", self.count_rows())
        self.write_jsonl("documents/documents.jsonl", self.document_rows())
        self.write_csv("participants/participants.csv", self.participant_rows())
        self.write_jsonl("speeches/speeches.jsonl", self.speech_rows())
        self.write_csv("speech_points/speech_points.csv", self.point_rows())
        self.write_jsonl("evidence/evidence.jsonl", self.evidence_rows())
        self.write_bundle()

    def write_csv(self, name: str, rows: Iterator[dict]) -> None:
        path = self.output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = None
            for row in rows:
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(row), lineterminator="\n")
                    writer.writeheader()
                writer.writerow(row)

    def write_jsonl(self, name: str, rows: Iterator[dict]) -> None:
        path = self.output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False) + "\n")

    def source_sentence(self, source: int, ordinal: int) -> str:
        """A sentence that occurs exactly once in its source: it names both numbers."""
        rng = self.rng("sentence", source, ordinal)
        topic = " ".join(rng.choices(WORDS, k=6))
        return f"Report {source}.{ordinal}: delegates from {rng.choice(COUNTRIES)} discussed {topic}."

    def write_sources(self) -> None:
        folder = self.output / "sources"
        folder.mkdir(parents=True, exist_ok=True)
        records = []
        for index in range(SOURCES):
            text = "\n".join(self.source_sentence(index, ordinal) for ordinal in range(1, SENTENCES_PER_SOURCE + 1)) + "\n"
            content = text.encode("utf-8")
            (folder / f"{self.source_id(index)}.txt").write_bytes(content)
            records.append(
                {
                    "id": self.source_id(index),
                    "title": f"Synthetic report {index}",
                    "publisher": "wic-events benchmark generator",
                    "language": "en",
                    "published_on": f"{2014 + index % 11}-{1 + index % 12:02d}",
                    "file": f"sources/{self.source_id(index)}.txt",
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            )
        (folder / "sources.json").write_text(json.dumps({"sources": records}, indent=1) + "\n", encoding="utf-8")

    def place_rows(self) -> Iterator[dict]:
        for index in range(self.places):
            rng = self.rng("place", index)
            if index < len(COUNTRIES):
                kind, parent, country = "country", None, COUNTRIES[index]
            else:
                step = (index - len(COUNTRIES)) % 3
                kind = ("province", "city", "venue")[step]
                # A province lies in a country; a city in the province before it; a venue in that city.
                parent = f"place-{index % len(COUNTRIES):06d}" if step == 0 else f"place-{index - 1:06d}"
                country = COUNTRIES[(index - step) % len(COUNTRIES)]
            yield {
                "id": f"place-{index:06d}",
                "name": f"{kind.title()} {index}",
                "kind": kind,
                "parent_id": parent or "",
                "country_code": country,
                "latitude": f"{rng.uniform(-60, 70):.4f}" if kind == "venue" else "",
                "longitude": f"{rng.uniform(-180, 180):.4f}" if kind == "venue" else "",
            }

    def organization_rows(self) -> Iterator[dict]:
        for index in range(ORGANIZATIONS):
            yield {
                "id": f"organization-{index:03d}",
                "name": f"Organization {index}",
                "abbreviation": f"ORG{index}",
                "kind": ("government", "intergovernmental", "company", "forum", "academic")[index % 5],
                "country_code": "" if index % 5 == 1 else COUNTRIES[index % len(COUNTRIES)],
            }

    def person_rows(self) -> Iterator[dict]:
        for index in range(self.people):
            rng = self.rng("person", index)
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            yield {
                "id": self.person_id(index),
                "name": f"{given} {family}",
                "sort_name": f"{family}, {given}",
                "wikidata_id": f"Q{1000 + index}" if index % 5 == 0 else "",
            }

    def alternate_name_rows(self) -> Iterator[dict]:
        for index in range(0, self.people, 10):
            rng = self.rng("alternate", index)
            yield {"entity_table": "people", "entity_id": self.person_id(index), "name": "".join(rng.choices(HANZI, k=3)), "language": "zh-Hans"}

    def position_id(self, person: int) -> str | None:
        """Every tenth person holds a post."""
        return f"{self.person_id(person)}-post" if person % 10 == 0 else None

    def position_rows(self) -> Iterator[dict]:
        for index in range(0, self.people, 10):
            yield {
                "id": self.position_id(index),
                "person_id": self.person_id(index),
                "title": ("Minister", "Secretary-General", "Chairman", "Director")[index // 10 % 4],
                "organization_id": f"organization-{index // 10 % ORGANIZATIONS:03d}",
                "country_code": COUNTRIES[index // 10 % len(COUNTRIES)],
                "start_date": "",
                "end_date": "",
                "as_of": f"{2014 + index % 11}",
            }

    def conference_dates(self, conference: int) -> tuple[str, str | None]:
        """Three days; every seventh conference is known only to the month."""
        year, month, day = 2014 + conference % 11, 1 + conference % 12, 1 + conference % 25
        if conference % 7 == 0:
            return f"{year}-{month:02d}", None
        return f"{year}-{month:02d}-{day:02d}", f"{year}-{month:02d}-{day + 2:02d}"

    def event_rows(self) -> Iterator[dict]:
        for index in range(self.events):
            conference, within = divmod(index, EVENTS_PER_CONFERENCE)
            start, end = self.conference_dates(conference)
            kind = EVENT_KINDS[within]
            row = {
                "id": self.event_id(index),
                "name": f"World Internet Conference {conference}" if within == 0 else f"{kind.replace('_', ' ').title()} {within} of conference {conference}",
                "kind": kind,
                "series": "World Internet Conference" if within == 0 else None,
                "edition": conference + 1 if within == 0 else None,
                "parent_id": None,
                "sequence": None,
                "start_date": start,
                "end_date": end,
                "time_of_day": None,
                "place_id": self.venue_id(conference),
                "theme": " ".join(self.rng("theme", conference).choices(WORDS, k=8)).capitalize() if within == 0 else None,
                "source_id": self.source_id(index),
            }
            if within:
                # Children fall on the conference's first day; the photo session lies inside the ceremony.
                first_day = start if end else f"{start}-01"
                row.update(
                    parent_id=self.event_id(index - 1) if kind == "photo_session" else self.event_id(index - within),
                    sequence=1 if kind == "photo_session" else within - (within > 2),  # the photo session is its parent's only child
                    start_date=first_day,
                    end_date=None,
                    time_of_day=("morning", "afternoon", "09:30", "14:00")[within % 4],
                )
            yield row

    def count_rows(self) -> Iterator[dict]:
        for conference in range(self.counts["counts"]):
            value = 1000 + self.rng("count", conference).randrange(5000)
            yield {
                "event_id": self.event_id(conference * EVENTS_PER_CONFERENCE),
                "subject": "guests",
                "value": value,
                "qualifier": "over",
                "as_reported": f"Over {value:,} guests",
                "source_id": self.source_id(conference),
            }

    def document_rows(self) -> Iterator[dict]:
        for conference in range(self.counts["documents"]):
            yield {
                "id": f"{self.event_id(conference * EVENTS_PER_CONFERENCE)}-report",
                "event_id": self.event_id(conference * EVENTS_PER_CONFERENCE),
                "title": f"Internet Development Report {conference}",
                "kind": "report",
                "released_on": self.conference_dates(conference)[0],
                "source_id": self.source_id(conference),
            }

    def participant_rows(self) -> Iterator[dict]:
        # Three different people per event; the speech's speaker is the second of them.
        for index in range(self.events):
            for slot, role in enumerate(self.roles(index)):
                person = (3 * index + slot) % self.people
                yield {
                    "event_id": self.event_id(index),
                    "person_id": self.person_id(person),
                    "role": role,
                    "position_id": self.position_id(person) or "",
                }

    def roles(self, index: int) -> tuple[str, str, str]:
        return ("chair", "speaker", "attendee") if index % 2 == 0 else ("host", "attendee", "attendee")

    def speech_rows(self) -> Iterator[dict]:
        for number, index in enumerate(range(0, self.events, 2)):
            rng = self.rng("speech", index)
            read_out = number % 10 == 9
            shared = number % SHARED_SUMMARY_EVERY == 0
            summary = None
            if not shared:
                words, length = [], 0
                for word in rng.choices(VOCABULARY, cum_weights=ZIPF, k=SUMMARY_CHARS):
                    words.append(word)
                    length += len(word) + 1
                    if length >= SUMMARY_CHARS:
                        break
                summary = " ".join(words).capitalize() + "."
            yield {
                "id": f"{self.event_id(index)}-speech",
                "event_id": self.event_id(index),
                "speaker_id": self.person_id(3 * index + 1),
                "on_behalf_of_id": self.person_id(3 * index + 2) if read_out else None,
                "delivery_mode": "read_on_behalf" if read_out else "in_person",
                "kind": SPEECH_KINDS[number % len(SPEECH_KINDS)],
                "title": f"Speech {number}" if number % 3 == 0 else None,
                "summary": summary,
                "summary_id": f"summary-{number // SHARED_SUMMARY_EVERY:05d}" if shared else None,
                "reported_order": 1,
            }

    def speeches_with_points(self) -> Iterator[tuple[int, str]]:
        """Every fourth speech makes two proposals."""
        for number, index in enumerate(range(0, self.events, 2)):
            if number % 4 == 0:
                yield number, f"{self.event_id(index)}-speech"

    def point_rows(self) -> Iterator[dict]:
        for number, speech_id in self.speeches_with_points():
            for ordinal in (1, 2):
                words = " ".join(self.rng("point", number, ordinal).choices(WORDS, k=12))
                yield {"speech_id": speech_id, "ordinal": ordinal, "kind": "proposal", "label": f"Proposal {ordinal}", "text": words.capitalize() + "."}

    def evidence_rows(self) -> Iterator[dict]:
        # Every fourth event is supported by one whole sentence, or the first words of one.
        for index in range(0, self.events, 4):
            source, ordinal = index % SOURCES, 1 + index // SOURCES % SENTENCES_PER_SOURCE
            sentence = self.source_sentence(source, ordinal)
            yield {
                "source_id": self.source_id(source),
                "record_table": "events",
                "record_id": self.event_id(index),
                "field": "name" if index % 8 == 0 else None,
                "quote": sentence if index % 8 == 0 else sentence.split(" discussed ")[0],
            }

    def write_bundle(self) -> None:
        """The small tables whose records need JSON structure: shared summaries and stated totals."""
        summaries = [
            {"id": f"summary-{number:05d}", "text": " ".join(self.rng("summary", number).choices(WORDS, k=60)).capitalize() + "."}
            for number in range(self.counts["summaries"])
        ]
        totals = [
            {
                "id": f"{speech_id}-proposals",
                "record_table": "speech_points",
                "match": {"speech_id": speech_id, "kind": "proposal"},
                "expected": 2,
                "as_reported": "two proposals",
            }
            for number, speech_id in self.speeches_with_points()
            if number < 4 * STATED_TOTALS
        ]
        bundle = {"summaries": summaries, "stated_totals": totals}
        (self.output / "bundle.json").write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True, help="number of events (the other tables scale with it)")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same bytes")
    parser.add_argument("--output", type=Path, required=True, help="data folder to write (created)")
    args = parser.parse_args(argv)
    if args.events < EVENTS_PER_CONFERENCE:
        parser.error(f"--events must be at least {EVENTS_PER_CONFERENCE}")
    if args.output.exists() and any(args.output.iterdir()):
        parser.error(f"{args.output} is not empty")
    generator = Generator(args.events, args.seed, args.output)
    generator.write()
    json.dump(generator.counts, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
