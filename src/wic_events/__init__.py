"""wic-events: the World Internet Conference as an open dataset.

>>> import wic_events
>>> keynote = wic_events.speeches(kind="keynote")[0]
>>> keynote.speaker_id
'xi-jinping'
"""

from ._version import __version__
from .loader import (
    alternate_names,
    build_info,
    connect,
    counts,
    db_path,
    events,
    evidence,
    organizations,
    participants,
    people,
    places,
    positions,
    records,
    sources,
    speech_points,
    speeches,
    stated_totals,
    summaries,
)
from .models import (
    AlternateName,
    Count,
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
)

__all__ = [
    "__version__",
    "db_path",
    "connect",
    "records",
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
    "stated_totals",
    "evidence",
    "build_info",
    "AlternateName",
    "Count",
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
