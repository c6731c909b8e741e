"""Publishing with Datasette: its configuration and metadata, derived from the models.

``datasette.yaml`` at the repository root is written by ``wic-events schema`` from
``datasette_config()``; a test fails when the file has drifted. Datasette 1.0a41
does not read titles and descriptions from datasette.yaml, so ``datasette_metadata()``
is written to a temporary file and passed with ``-m`` when serving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._version import __version__
from .models import DERIVED_MODELS, RECORD_MODELS, SCHEMA_VERSION, Record

DATABASE_NAME = "wic_events"
CONFIG_FILE = "datasette.yaml"
LICENSE = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
ABOUT_URL = "https://pypi.org/project/wic-events/"
DESCRIPTION = (
    "Events, speeches, participants, people, organizations and places of the World Internet Conference "
    "(Wuzhen, China; yearly since 2014). Every fact is tied to the exact words of a source: see the "
    "evidence table, or the canned query 'Evidence behind a record'."
)

FACETS: dict[str, list[str]] = {
    "events": ["kind", "parent_id"],
    "participants": ["role", "event_id"],
    "speeches": ["kind", "delivery_mode", "event_id"],
    "positions": ["title", "country_code"],
    "organizations": ["kind", "country_code"],
    "places": ["kind", "country_code"],
    "speech_points": ["kind", "speech_id"],
    "counts": ["subject", "qualifier"],
    "evidence": ["record_table", "field"],
    "alternate_names": ["entity_table", "language"],
}

SORT: dict[str, str] = {
    "speeches": "reported_order",
    "speech_points": "ordinal",
    "source_sentences": "ordinal",
    "people": "sort_name",
    "events": "start_date",
}

CANNED_QUERIES: dict[str, dict[str, str]] = {
    "speeches_at_event": {
        "title": "Speeches at an event, in the order the source reports them",
        "description": "Each speech with its speaker, the speaker's post at the event, and whose speech it was if read out for someone else.",
        "sql": """select s.reported_order, s.id as speech_id, s.kind, s.delivery_mode,
       sp.name as speaker, po.title as speaker_post, coalesce(po.country_code, o.abbreviation, o.name) as post_of,
       ob.name as on_behalf_of, coalesce(s.summary, sm.text) as summary
from speeches s
join people sp on sp.id = s.speaker_id
left join people ob on ob.id = s.on_behalf_of_id
left join summaries sm on sm.id = s.summary_id
left join participants pa on pa.event_id = s.event_id and pa.person_id = s.speaker_id and pa.position_id is not null
  and pa.role = (select role from participants where event_id = s.event_id and person_id = s.speaker_id and position_id is not null order by role limit 1)
left join positions po on po.id = pa.position_id
left join organizations o on o.id = po.organization_id
where s.event_id = :event_id
order by s.reported_order, s.id""",
    },
    "person_activity": {
        "title": "Everything one person did",
        "description": "Every event a person took part in, with their role and post, and every speech they delivered or that was read out for them.",
        "sql": """select e.start_date, e.id as event_id, e.name as event, 'participant' as what, pa.role as detail, po.title as post
from participants pa join events e on e.id = pa.event_id left join positions po on po.id = pa.position_id
where pa.person_id = :person_id
union all
select e.start_date, e.id, e.name, 'speech delivered', s.kind || ' (' || s.delivery_mode || ')', s.id
from speeches s join events e on e.id = s.event_id where s.speaker_id = :person_id
union all
select e.start_date, e.id, e.name, 'speech read out on their behalf', s.kind || ' read by ' || r.name, s.id
from speeches s join events e on e.id = s.event_id join people r on r.id = s.speaker_id where s.on_behalf_of_id = :person_id
order by 1, 2, 4""",
    },
    "speeches_read_on_behalf": {
        "title": "Speeches read out on behalf of someone else",
        "description": "Who read whose speech, at which event.",
        "sql": """select e.name as event, r.name as read_by, a.name as speech_of, s.kind, s.id as speech_id
from speeches s join events e on e.id = s.event_id join people r on r.id = s.speaker_id join people a on a.id = s.on_behalf_of_id
where s.delivery_mode = 'read_on_behalf'
order by e.start_date, s.reported_order""",
    },
    "points_of_speech": {
        "title": "The points of a speech, in order",
        "description": "Principles and proposals a speech enumerates, in the speech's own order.",
        "sql": """select kind, ordinal, label, text, id from speech_points where speech_id = :speech_id order by kind, ordinal""",
    },
    "evidence_for_record": {
        "title": "Evidence behind a record",
        "description": "The exact quotes, and the source sentences they stand in, that support a record (any table) with this id.",
        "sql": """select record_table, field, quote, sentence, source_id, sentence_id
from record_sentences where record_id = :record_id
order by record_table, sentence_id, field""",
    },
    "events_inside_event": {
        "title": "Events inside an event",
        "description": "Every event nested in this one, at any depth, with its kind and dates.",
        "sql": """with recursive inside(id, depth) as (
  select id, 1 from events where parent_id = :event_id
  union all
  select e.id, inside.depth + 1 from events e join inside on e.parent_id = inside.id
)
select inside.depth, e.sequence, e.id, e.name, e.kind, e.start_date, e.time_of_day
from inside join events e on e.id = inside.id
order by inside.depth, e.sequence, e.start_date, e.id""",
    },
    "search_everything": {
        "title": "Search everything",
        "description": "Full-text search over speeches, speech points, summaries, events, people and sources at once.",
        "sql": """select 'speeches' as in_table, s.id, coalesce(s.title, s.id) as label, snippet(speeches_fts, -1, '[', ']', '...', 12) as match
from speeches_fts join speeches s on s.rowid = speeches_fts.rowid where speeches_fts match :q
union all
select 'speech_points', p.id, p.label, snippet(speech_points_fts, -1, '[', ']', '...', 12)
from speech_points_fts join speech_points p on p.rowid = speech_points_fts.rowid where speech_points_fts match :q
union all
select 'summaries', m.id, m.id, snippet(summaries_fts, -1, '[', ']', '...', 12)
from summaries_fts join summaries m on m.rowid = summaries_fts.rowid where summaries_fts match :q
union all
select 'events', e.id, e.name, snippet(events_fts, -1, '[', ']', '...', 12)
from events_fts join events e on e.rowid = events_fts.rowid where events_fts match :q
union all
select 'people', pe.id, pe.name, snippet(people_fts, -1, '[', ']', '...', 12)
from people_fts join people pe on pe.rowid = people_fts.rowid where people_fts match :q
union all
select 'sources', so.id, so.title, snippet(sources_fts, -1, '[', ']', '...', 12)
from sources_fts join sources so on so.rowid = sources_fts.rowid where sources_fts match :q
limit 100""",
    },
}


def _all_models() -> tuple[type[Record], ...]:
    return (*RECORD_MODELS, *DERIVED_MODELS)


def datasette_config() -> dict[str, Any]:
    """The contents of datasette.yaml."""
    tables: dict[str, dict[str, Any]] = {}
    for model in _all_models():
        options: dict[str, Any] = {}
        if model.label_field:
            options["label_column"] = model.label_field
        if model.table in SORT:
            options["sort"] = SORT[model.table]
        if model.table in FACETS:
            options["facets"] = FACETS[model.table]
        if model.search_fields:
            options["fts_table"] = f"{model.table}_fts"
            options["fts_pk"] = "rowid"
            options["searchmode"] = "escaped"
        if options:
            tables[model.table] = options
    return {
        "settings": {
            "sql_time_limit_ms": 1000,
            "max_returned_rows": 1000,
            "default_page_size": 50,
            "facet_time_limit_ms": 500,
            "allow_download": True,
            "default_allow_sql": True,
            "truncate_cells_html": 300,
        },
        "permissions": {
            # No visitor may change anything, whatever plugins are installed.
            "insert-row": False,
            "delete-row": False,
            "update-row": False,
            "create-table": False,
            "alter-table": False,
            "drop-table": False,
        },
        "databases": {DATABASE_NAME: {"tables": tables, "queries": CANNED_QUERIES}},
    }


def datasette_metadata() -> dict[str, Any]:
    """Titles and descriptions of the database, its tables and columns, from the models."""
    tables = {}
    for model in _all_models():
        columns = {name: info.description or "" for name, info in model.model_fields.items()}
        tables[model.table] = {"description": " ".join((model.__doc__ or "").split()), "columns": columns}
    return {
        "title": "wic-events: the World Internet Conference as data",
        "description": DESCRIPTION,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "source": "News releases and official reports; see the sources table",
        "source_url": "https://www.china-embassy.org/eng/zgyw/t1325603.htm",
        "about": f"wic-events {__version__} (schema {SCHEMA_VERSION})",
        "about_url": ABOUT_URL,
        "databases": {DATABASE_NAME: {"description": DESCRIPTION, "tables": tables}},
    }


def render_config() -> str:
    """The exact text of datasette.yaml."""
    import yaml

    header = "# Generated by 'wic-events schema' from src/wic_events/publishing.py and the models; do not edit by hand.\n"
    return header + yaml.safe_dump(datasette_config(), sort_keys=False, allow_unicode=True, width=120)


def default_config_path() -> Path:
    """The repository's datasette.yaml when running from a checkout, else the packaged copy."""
    package_dir = Path(__file__).resolve().parent
    checkout_copy = package_dir.parent.parent / CONFIG_FILE
    return checkout_copy if checkout_copy.is_file() else package_dir / CONFIG_FILE


def serve_command(database: Path, host: str, port: int, metadata_file: Path, config_file: Path) -> list[str]:
    """The datasette command line that serves the database read-only and immutable."""
    linked = metadata_file.parent / f"{DATABASE_NAME}.db"
    if not linked.exists():
        os.symlink(database.resolve(), linked)
    return [
        sys.executable, "-m", "datasette", "serve", "-i", str(linked),
        "--host", host, "--port", str(port), "-c", str(config_file), "-m", str(metadata_file),
    ]


def serve(database: Path, host: str = "127.0.0.1", port: int = 8001, config_file: Path | None = None) -> int:
    """Run Datasette until interrupted; returns its exit status."""
    with tempfile.TemporaryDirectory(prefix="wic-events-") as scratch:
        metadata_file = Path(scratch) / "metadata.json"
        metadata_file.write_text(json.dumps(datasette_metadata(), indent=2), encoding="utf-8")
        command = serve_command(database, host, port, metadata_file, config_file or default_config_path())
        try:
            return subprocess.call(command)
        except KeyboardInterrupt:
            return 0
