"""wic-events: the World Internet Conference as an open dataset.

>>> import wic_events
>>> keynote = wic_events.speeches(event_id="wic-2015-opening-ceremony", kind="keynote")[0]
>>> keynote.speaker_id
'xi-jinping'

A date known only to the month or year stands for a range of days:

>>> earliest_day("2015-12"), latest_day("2015-12")
(datetime.date(2015, 12, 1), datetime.date(2015, 12, 31))
>>> latest_day("2016-02")
datetime.date(2016, 2, 29)
"""

from ._version import __version__
from .loader import (
    DisputedClaim,
    NotADatabase,
    SearchResult,
    alternate_names,
    build_info,
    claims,
    connect,
    counts,
    db_path,
    disputed_facts,
    documents,
    events,
    evidence,
    iter_records,
    load,
    organizations,
    participants,
    people,
    places,
    positions,
    records,
    search,
    sources,
    speech_points,
    speeches,
    stated_totals,
    summaries,
    tables,
    to_pandas,
)
from .models import (
    AlternateName,
    Claim,
    Count,
    Document,
    Event,
    Evidence,
    Organization,
    Participant,
    Person,
    Place,
    Position,
    Source,
    Speech,
    SpeechPoint,
    StatedTotal,
    Summary,
    earliest_day,
    latest_day,
)

__all__ = [
    "__version__",
    "db_path",
    "connect",
    "NotADatabase",
    "records",
    "iter_records",
    "search",
    "SearchResult",
    "to_pandas",
    "tables",
    "load",
    "earliest_day",
    "latest_day",
    "sources",
    "places",
    "organizations",
    "people",
    "alternate_names",
    "positions",
    "events",
    "counts",
    "participants",
    "summaries",
    "speeches",
    "speech_points",
    "documents",
    "stated_totals",
    "evidence",
    "claims",
    "disputed_facts",
    "DisputedClaim",
    "build_info",
    "AlternateName",
    "Claim",
    "Count",
    "Document",
    "Event",
    "Evidence",
    "Organization",
    "Participant",
    "Person",
    "Place",
    "Position",
    "Source",
    "Speech",
    "SpeechPoint",
    "StatedTotal",
    "Summary",
]
