"""The Datasette site's configuration and metadata, derived from the models.

``datasette.yaml`` at the repository root is written by ``wic-events schema`` from
``datasette_config()``; a test fails when the file has drifted. Datasette 1.0a41
does not read titles and descriptions from datasette.yaml, so ``datasette_metadata()``
is handed to Datasette when serving (see ``serving``). What the site does beyond
configuration (bounds on every connection and response, cached facet counts) is in
``datasette_plugin``.

The site is read-only by construction: the database is served immutable (``-i``),
Datasette runs with ``--default-deny``, and datasette.yaml allows only the actions
that read. Any action a plugin or a later Datasette adds is therefore denied too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._version import __version__
from .checkout import checkout_root
from .models import DERIVED_MODELS, MODELS_BY_TABLE, RECORD_MODELS, SCHEMA_VERSION, SOURCE_TEXTS_TERMS, Count, Record, date_fields, table_columns

DATABASE_NAME = "wic_events"
CONFIG_FILE = "datasette.yaml"
TITLE = "wic-events: the World Internet Conference as data"
LICENSE = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
_WHAT_IT_HOLDS = (
    "Events, speeches, participants, people, organizations and places of the World Internet Conference "
    "(Wuzhen, China; yearly since 2014): the 2014-2025 series from public web pages, each cited by short exact "
    "phrases, and the 2015 opening ceremony in full from a news release. Every fact is tied to the exact words of a source"
)
DESCRIPTION = f"{_WHAT_IT_HOLDS}: see the evidence table, or the query 'Evidence behind a record'. {SOURCE_TEXTS_TERMS}"
# The same text with links to the places a newcomer starts from. Only constants go in here:
# nothing from the data, which Datasette would then show unescaped.
DESCRIPTION_HTML = (
    f"<p>{_WHAT_IT_HOLDS}.</p>"
    f'<p>Start with <a href="/-/search">a search of all tables</a>, the <a href="/{DATABASE_NAME}/speeches">speeches</a>, '
    f'<a href="/{DATABASE_NAME}/events">events</a> and <a href="/{DATABASE_NAME}/people">people</a>, or the '
    f'<a href="/{DATABASE_NAME}/-/queries">ready-made queries</a>. Each table lists what its columns hold; names in '
    "a row link to the row they name, and a row's page lists the rows that point to it.</p>"
    f"<p>{SOURCE_TEXTS_TERMS}</p>"
)

# Everything a visitor may do; --default-deny refuses the rest (writes, stored queries, debug pages).
READ_ACTIONS = ("view-instance", "view-database", "view-database-download", "view-table", "view-query", "execute-sql")

# Text in the data may hold bidirectional controls (U+202E reverses what follows it). Escaping
# cannot stop that, so each link and each <em> (Datasette puts a row's id in one, after its
# label) is its own bidi run: a label cannot reverse the id or the text beside it.
# A data: URL keeps the rule in datasette.yaml, with no static files to serve.
BIDI_ISOLATION_CSS = "data:text/css,a, em { unicode-bidi: isolate; }"

SETTINGS: dict[str, Any] = {
    # A query that runs longer is stopped with an error; the slowest of ours takes a few ms.
    "sql_time_limit_ms": 1000,
    # The most rows one request returns; table pages and CSV downloads go on past it page by page.
    "max_returned_rows": 1000,
    "default_page_size": 50,
    "facet_time_limit_ms": 500,
    # Suggesting facets runs queries over every column of a table for each table page: at a
    # million rows that is most of the page's time. The configured facets are still shown.
    "suggest_facets": False,
    # The file is open data: anyone may download all of it.
    "allow_download": True,
    # Read-only SQL is a research tool here; the time limit above bounds what it can cost.
    "default_allow_sql": True,
    # No API tokens: there is nothing a token could be allowed to do.
    "allow_signed_tokens": False,
    "truncate_cells_html": 300,
}

PLUGIN_NAME = "wic-events"
"""The name datasette.yaml configures the package's plugin under; without that entry the plugin
(installed with the package, so in every Datasette of the environment) does nothing."""

SITE_BOUNDS: dict[str, int] = {
    # The longest text or blob any value may be, in bytes (SQLITE_LIMIT_LENGTH). The longest value
    # the build stores is a carried source text, today 8 kB; a query building longer ones fails.
    "max_value_bytes": 262_144,
    # randomblob() and zeroblob() make a value of any size from a small query.
    "max_blob_bytes": 65_536,
    # printf('%.*c', 1000000000, 'x') fills its output without ever letting the time limit stop it.
    "max_printf_width": 10_000,
    # The largest response sent at once (a streamed CSV or the database download go by parts).
    "max_response_bytes": 50 * 2**20,
    # Each facet is a query over the whole filtered table.
    "max_facets": 10,
    # Bytes of the database file SQLite reads through mmap rather than read() into a page cache of its
    # own: a search looks up thousands of speech rows ~35% faster at 1M events. The file is served
    # immutable, so no write can go through the map; SQLite caps the size at its build's maximum.
    "mmap_bytes": 4 << 30,
}
"""How much one request may cost, enforced by ``datasette_plugin`` on every served connection."""

SEARCH_EVERYTHING_TABLES = ("speeches", "speech_points", "summaries", "events", "people", "organizations", "places", "sources")


def _all_models() -> tuple[type[Record], ...]:
    return (*RECORD_MODELS, *DERIVED_MODELS)


def label_column(model: type[Record]) -> str | None:
    """The column Datasette shows in place of an id that points at a row of this model."""
    # Ids are readable slugs by design, so they are the fallback for rows without a name field.
    return model.label_field or ("id" if "id" in model.model_fields else None)


def _search_everything_sql() -> str:
    # The input becomes one quoted FTS5 phrase, so that punctuation a visitor types is
    # searched for rather than read as FTS5 syntax (which would be an error).
    branches = []
    for table in SEARCH_EVERYTHING_TABLES:
        model = MODELS_BY_TABLE[table]
        fts = model.fts_table
        branches.append(
            f"select '{table}' as in_table, t.id, t.{label_column(model)} "
            f"as label, snippet({fts}, -1, '[', ']', ' ... ', 12) as matched_text\n"
            f"from {fts} join {table} t on t.rowid = {fts}.rowid\n"
            f"where {fts} match '\"' || replace(:q, '\"', '\"\"') || '\"'"
        )
    # Other names and spellings ("习近平" for Xi Jinping) are matched whole, through their index.
    branches.append(
        "select a.entity_table as in_table, a.entity_id as id, a.name as label, 'another name (' || a.language || ')' as matched_text\n"
        "from alternate_names a\n"
        "where a.name = :q"
    )
    return "\nunion all\n".join(branches) + "\nlimit 200"


def person_ids_sql(parameter: str) -> str:
    """The ids of the people a typed value names: an id, a name in any case, or a whole other name."""
    return (
        f"select id from people where id = {parameter} or name = {parameter} collate nocase\n"
        f"  union select entity_id from alternate_names where entity_table = 'people' and name = {parameter}"
    )


def _preferred_count_sql(subject: str) -> str:
    # The preferred claim, or the only one.
    return f"""(select {Count.value_sql("c")} from counts c where c.event_id = e.id and c.subject = '{subject}'
          order by coalesce(c.preferred, 0) desc limit 1)"""


def _editions_sql() -> str:
    # The editions are chosen before the columns are computed: in a series of thousands (the
    # benchmarks' input), only the rows Datasette shows are worked out, one more than it shows so
    # that it still says the result was cut short.
    xi = "(s.speaker_id = 'xi-jinping' or s.on_behalf_of_id = 'xi-jinping') and s.event_id in (select id from events where id = e.id or parent_id = e.id)"
    return f"""select substr(e.start_date, 1, 4) as year, e.id as event_id, e.name, e.edition, e.start_date, e.end_date,
       p.name as place, e.theme,
       (select group_concat(s.kind || ' ' || replace(s.delivery_mode, '_', ' '), '; ') from speeches s where {xi}) as xi_jinping_part,
       (select group_concat(r.name, '; ') from speeches s join people r on r.id = s.speaker_id
          where {xi} and s.delivery_mode = 'read_on_behalf') as read_out_by,
       {_preferred_count_sql("guests")} as guests,
       {_preferred_count_sql("countries_and_regions")} as countries_and_regions,
       (select count(distinct coalesce(so.copy_of_id, so.id)) from evidence ev join sources so on so.id = ev.source_id
          where (ev.record_table = 'events' and ev.record_id = e.id)
             or (ev.record_table = 'counts' and ev.record_id in (select id from counts where event_id = e.id))) as independent_sources
from events e left join places p on p.id = e.place_id
where e.id in (select id from events where parent_id is null and kind = 'conference' and series = 'World Internet Conference'
               order by start_date, id limit {SETTINGS["max_returned_rows"] + 1})
order by e.start_date, e.id"""


def _read_on_behalf_sql() -> str:
    branch = """select e.start_date, e.id as event_id, e.name as event, s.reported_order, r.name as read_by,
       a.name as speech_of, s.kind, s.id as speech_id
from events e
cross join speeches s on s.event_id = e.id
join people r on r.id = s.speaker_id
join people a on a.id = s.on_behalf_of_id
where s.delivery_mode = 'read_on_behalf' and {}
  and (:event_id = '' or e.id = :event_id or e.parent_id = :event_id)"""
    # An empty year bounds nothing ('' to '~' holds every date); a year bounds the dates that start with it.
    dated = "e.start_date >= :year and e.start_date < (case :year when '' then '~' else :year || '-~' end)"
    undated = "e.start_date is null and :year = ''"
    return branch.format(dated) + "\nunion all\n" + branch.format(undated) + "\norder by start_date desc, event_id desc, reported_order"


CANNED_QUERIES: dict[str, dict[str, Any]] = {
    "speeches_at_event": {
        "title": "Speeches at an event, in the order the source reports them",
        "description": (
            "Each speech at one event with its speaker, the post the source gives the speaker there, and whose "
            "speech it was when someone else read it out. Where the source sums up several speeches at once, "
            "summary_is_shared is 1 and the summary is that one text, not what this speaker alone said: it is "
            "shown with the first of those speeches, and the others name that one. Try event_id = wic-2015-opening-ceremony."
        ),
        "params": ["event_id"],
        # A speaker may take part in several roles; the post comes from any of them, once.
        "sql": """select s.reported_order, s.id as speech_id, sp.name as speaker, po.title as speaker_post,
       coalesce(po.country_code, o.abbreviation, o.name) as post_of, ob.name as on_behalf_of,
       s.kind, s.delivery_mode, case when s.summary is not null or s.summary_id is null then s.summary
            when s.id = first_value(s.id) over shared then sm.text
            else '(shared with ' || first_value(s.id) over shared || ', above)' end as summary,
       s.summary_id is not null as summary_is_shared
from speeches s
join people sp on sp.id = s.speaker_id
left join people ob on ob.id = s.on_behalf_of_id
left join summaries sm on sm.id = s.summary_id
left join positions po on po.id = (
  select position_id from participants
  where event_id = s.event_id and person_id = s.speaker_id and position_id is not null
  order by position_id limit 1)
left join organizations o on o.id = po.organization_id
where s.event_id = :event_id
window shared as (partition by s.summary_id order by s.reported_order, s.id)
order by s.reported_order, s.id""",
    },
    "person_activity": {
        "title": "Everything one person did",
        "description": (
            "Every event a person took part in, with their role and post; every speech they delivered; every "
            "speech of theirs that someone else read out; and every post a source gives them, dated as the source "
            "states it. person_id takes a person's id, name or other name: try xi-jinping, Ban Ki-moon or 习近平."
        ),
        "params": ["person_id"],
        "sql": f"""with person(id) as (
  {person_ids_sql(":person_id")}
)
select e.start_date, e.id as event_id, e.name as event, 'took part' as what, pa.role as detail,
       po.title as post, null as speech_id, null as other_person
from participants pa join events e on e.id = pa.event_id left join positions po on po.id = pa.position_id
where pa.person_id in (select id from person)
union all
select e.start_date, e.id, e.name, 'delivered a speech', s.kind || ', ' || s.delivery_mode, null, s.id, ob.name
from speeches s join events e on e.id = s.event_id left join people ob on ob.id = s.on_behalf_of_id
where s.speaker_id in (select id from person)
union all
select e.start_date, e.id, e.name, 'had a speech read out', s.kind, null, s.id, r.name
from speeches s join events e on e.id = s.event_id join people r on r.id = s.speaker_id
where s.on_behalf_of_id in (select id from person)
union all
select coalesce(po.as_of, po.start_date), null, null, 'held a post', coalesce(o.abbreviation, o.name, po.country_code),
       po.title, null, null
from positions po left join organizations o on o.id = po.organization_id
where po.person_id in (select id from person)
order by 1, 2, 4, 5""",
    },
    "speeches_read_on_behalf": {
        "title": "Speeches read out on behalf of someone else",
        "description": (
            "Who read out whose speech, at which event, the newest first. year (2019) and event_id (wic-2015, an "
            "event or the conference it is part of) narrow it; left empty, they take every speech read out."
        ),
        "params": ["year", "event_id"],
        # Events newest first drive the join ("cross join" keeps that order), read backwards from
        # the index on (start_date, id), each finding its speeches read out through the index on
        # (event_id, delivery_mode, reported_order), so the first page of rows comes without
        # sorting every such speech. Events without a date (they sort last) are a branch of their
        # own: the range on start_date in the other branch is what lets SQLite use that index.
        "sql": _read_on_behalf_sql(),
    },
    "points_of_speech": {
        "title": "The points of a speech, in order",
        "description": ("The principles and proposals a speech enumerates, each kind in the speech's own order. Try speech_id = wic-2015-xi-jinping-keynote."),
        "params": ["speech_id"],
        "sql": """select kind, ordinal, label, text, id
from speech_points where speech_id = :speech_id
order by kind, ordinal""",
    },
    "evidence_for_record": {
        "title": "Evidence behind a record",
        "description": (
            "The exact quotes that support a record of any table, with the source sentence each stands in "
            "(empty when the quote could not be located in a carried text). Try record_id = wic-2015-guests."
        ),
        "params": ["record_id"],
        "sql": """select ev.record_table, ev.field, ev.quote, ss.text as sentence, ev.source_id, ss.id as sentence_id
from evidence ev
left join source_sentences ss on ss.source_id = ev.source_id and ss.start < ev."end" and ss."end" > ev.start
where ev.record_id = :record_id
order by ev.record_table, ss.ordinal, ev.start, ev.field""",
    },
    "events_inside_event": {
        "title": "Events inside an event",
        "description": "Every event nested in this one, at any depth, with its kind and dates. Try event_id = wic-2015.",
        "params": ["event_id"],
        "sql": """with recursive inside(id, depth) as (
  select id, 1 from events where parent_id = :event_id
  union all
  select e.id, inside.depth + 1 from events e join inside on e.parent_id = inside.id
)
select inside.depth, e.sequence, e.id, e.name, e.kind, e.start_date, e.end_date, e.time_of_day
from inside join events e on e.id = inside.id
order by inside.depth, e.sequence, e.start_date, e.id""",
    },
    "search_everything": {
        "title": "Search everything",
        "description": (
            f"Full-text search over {', '.join(SEARCH_EVERYTHING_TABLES)} at once for q as one phrase (each word "
            "after Porter stemming: 'proposal' also finds 'proposals'), and for a whole other name of a person, "
            "organization or place (习近平 finds Xi Jinping). Try q = sovereignty. To find words anywhere in a record, "
            "or words by their start (sover*), use the search box at the top of every page."
        ),
        "params": ["q"],
        "sql": _search_everything_sql(),
    },
    "editions": {
        "title": "The World Internet Conference, edition by edition",
        "description": (
            "One row per yearly meeting: its dates, place and theme as the dataset prefers them, how Xi Jinping took "
            "part (in person, by video, or a letter, and who read it out), the preferred counts of guests and of "
            "countries and regions, and how many independent sources (a copy of another page not counted) back the "
            "row. Where sources disagree, see 'Disputed facts, edition by edition'."
        ),
        "sql": _editions_sql(),
    },
    "disputed_facts_by_edition": {
        "title": "Disputed facts, edition by edition",
        "description": (
            "Every claim about a fact that sources report differently, with its source and exact words; "
            "preferred is 1 for the claim whose value the record holds."
        ),
        "sql": """select substr(coalesce(root.start_date, e.start_date), 1, 4) as year, d.fact, d.value, d.preferred,
       d.quote, d.source_id, so.publisher, so.copy_of_id, d.record_table, d.record_id
from disputed_facts d
left join events e on e.id = d.event_id
left join events root on root.id = coalesce(e.parent_id, e.id)
join sources so on so.id = d.source_id
order by year, d.fact, d.preferred desc, d.source_id""",
    },
}


RECORD_PARAMETERS: dict[str, tuple[str, str]] = {
    "speeches_at_event": ("event_id", "events"),
    "person_activity": ("person_id", "people"),
    "points_of_speech": ("speech_id", "speeches"),
    "events_inside_event": ("event_id", "events"),
}
"""Ready-made queries whose parameter names a record: (parameter, table). The site says when the
value given names none, and offers the records whose id or name holds it."""


VIEW_DESCRIPTIONS: dict[str, str] = {
    "speech_details": "Speeches with the names of their event, speaker and the person they were read out for, and the shared summary filled in.",
    "participant_details": "Participations with the names of the event and person, and the post the source gives the person there.",
    "record_sentences": "Each located evidence quote with the source sentence it stands in.",
    "sentence_coverage": "Each sentence of a carried source with the number of evidence quotes that cite it.",
    "evidence_details": "Evidence quotes with their source's title and URL and up to 200 characters of text before and after.",
    "disputed_facts": (
        "Every claim about every fact that sources report differently: the claims table, and the counts of one subject "
        "at one event that do not all say the same. fact names the fact (record and field, or event and subject); "
        "preferred is 1 for the claim the dataset prefers; event_id is the event the fact is about."
    ),
}


def datasette_config() -> dict[str, Any]:
    """The contents of datasette.yaml."""
    tables: dict[str, dict[str, Any]] = {}
    for model in _all_models():
        options: dict[str, Any] = {}
        if label := label_column(model):
            options["label_column"] = label
        if model.sort_field:
            options["sort"] = model.sort_field
        if model.facet_fields:
            # Counted once over the immutable file, then kept (see datasette_plugin.CountedOnceFacet).
            options["facets"] = [{"counted_once": column} for column in model.facet_fields]
        if model.fts_table:
            options["fts_table"] = model.fts_table
            options["fts_pk"] = "rowid"
            # Quote what a visitor types, so that "U.S." or a stray quote mark is not an FTS syntax error.
            options["searchmode"] = "escaped"
        if options:
            tables[model.table] = options
    return {
        "settings": SETTINGS,
        "extra_css_urls": [BIDI_ISOLATION_CSS],
        "permissions": {action: True for action in READ_ACTIONS},
        "plugins": {PLUGIN_NAME: SITE_BOUNDS},
        "databases": {DATABASE_NAME: {"tables": tables, "queries": CANNED_QUERIES}},
    }


def column_descriptions(model: type[Record]) -> dict[str, str]:
    """Each column's field description, with the meaning of each allowed value for closed vocabularies."""
    return {column.name: column.to_datasette() for column in table_columns(model)}


def _view_metadata() -> dict[str, dict[str, Any]]:
    views: dict[str, dict[str, Any]] = {name: {"description": text} for name, text in VIEW_DESCRIPTIONS.items()}
    for model in RECORD_MODELS:
        dates = date_fields(model)
        if not dates:
            continue
        columns: dict[str, str] = {"id": model.model_fields["id"].description or ""}
        for name in dates:
            columns[name] = model.model_fields[name].description or ""
            columns[f"{name}_earliest"] = f"The first day {name} can mean (2015-12 -> 2015-12-01)."
            columns[f"{name}_latest"] = f"The last day {name} can mean (2015-12 -> 2015-12-31)."
        views[f"{model.table}_date_ranges"] = {
            "description": f"The {model.table} table's partial dates, each with the first and last day it can mean.",
            "columns": columns,
        }
    return views


def datasette_metadata() -> dict[str, Any]:
    """Titles and descriptions of the site, the database, its tables and columns, from the models."""
    tables = {model.table: {"description": model.table_description(), "columns": column_descriptions(model)} for model in _all_models()}
    tables.update(_view_metadata())
    return {
        "title": TITLE,
        "description_html": DESCRIPTION_HTML,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "source": "the source documents listed in the sources table",
        "source_url": f"/{DATABASE_NAME}/sources",
        "about": f"wic-events {__version__}, schema {SCHEMA_VERSION}: how this file was built",
        "about_url": f"/{DATABASE_NAME}/build_info",
        "databases": {DATABASE_NAME: {"description": DESCRIPTION, "tables": tables}},
    }


def render_config() -> str:
    """The exact text of datasette.yaml."""
    import yaml

    header = (
        "# Generated by 'wic-events schema' from src/wic_events/site_config.py and the models; do not edit by hand.\n"
        "# Serve with --default-deny (as 'wic-events serve' does): the permissions below are then all a visitor has.\n"
    )
    return header + yaml.safe_dump(datasette_config(), sort_keys=False, allow_unicode=True, width=120)


def default_config_path() -> Path:
    """The repository's datasette.yaml when running from a checkout, else the packaged copy."""
    root = checkout_root()
    return root / CONFIG_FILE if root else Path(__file__).resolve().parent / CONFIG_FILE
