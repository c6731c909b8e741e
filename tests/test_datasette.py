"""The Datasette site, through Datasette's internal client, configured as 'wic-events serve' configures it."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from contextlib import closing
from html import unescape
from pathlib import Path

import pytest
import yaml
from datasette.database import Database
from datasette.resources import DatabaseResource, QueryResource, TableResource
from markupsafe import escape

from wic_events import serving, site_config
from wic_events.cli import serve as serve_cli
from wic_events.compiling import build
from wic_events.models import DERIVED_MODELS, MODELS_BY_TABLE, RECORD_MODELS, reference_fields

ROOT = Path(__file__).resolve().parent.parent
DB = site_config.DATABASE_NAME


def served_config() -> dict:
    return yaml.safe_load((ROOT / site_config.CONFIG_FILE).read_text(encoding="utf-8"))


class Site:
    """A Datasette app driven from synchronous tests, on one event loop of its own."""

    def __init__(self, database: Path, config_file: Path = ROOT / site_config.CONFIG_FILE):
        self.loop = asyncio.new_event_loop()
        self.datasette = serving.site_datasette(database, config_file)  # as each server process builds it
        self.run(self.datasette.invoke_startup())

    def run(self, awaitable):
        return self.loop.run_until_complete(awaitable)

    def get(self, path: str, **kwargs):
        return self.run(self.datasette.client.get(path, **kwargs))

    def post(self, path: str, **kwargs):
        return self.run(self.datasette.client.post(path, **kwargs))

    def rows(self, path: str, **params) -> list[dict]:
        """The rows of a table or query page, as objects; fails on any error status."""
        response = self.get(path + ".json", params={**params, "_shape": "objects", "_size": "max"})
        assert response.status_code == 200, response.text
        return response.json()["rows"]

    def close(self) -> None:
        self.run(self.loop.shutdown_asyncgens())
        self.loop.close()


def public_copy(database: Path, folder: Path) -> Path:
    """The database under its public name, as serving.prepare_site links it."""
    folder.mkdir(parents=True, exist_ok=True)
    linked = folder / f"{DB}.db"
    linked.symlink_to(database)
    return linked


@pytest.fixture(scope="module")
def site(built_db: Path, tmp_path_factory: pytest.TempPathFactory):
    opened = Site(public_copy(built_db, tmp_path_factory.mktemp("site")))
    yield opened
    opened.close()


def table_names(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as connection:
        # sqlite_stat1 (the query planner's statistics) is SQLite's own, and Datasette hides it.
        return [
            name
            for (name,) in connection.execute(
                "select name from sqlite_master where type = 'table' and name not like '%_fts%' and name not like 'sqlite_%' order by name"
            )
        ]


def view_names(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as connection:
        return [name for (name,) in connection.execute("select name from sqlite_master where type = 'view' order by name")]


# --- the configuration files -------------------------------------------------------


def test_datasette_yaml_is_what_the_models_generate():
    written = (ROOT / site_config.CONFIG_FILE).read_text(encoding="utf-8")
    assert written == site_config.render_config(), "datasette.yaml has drifted: run 'wic-events schema'"


def test_the_site_serves_the_database_immutable_read_only_on_localhost(built_db: Path, tmp_path: Path):
    site = json.loads(serving.prepare_site(built_db, tmp_path).read_text())
    assert site["database"] == str(tmp_path / f"{DB}.db") and Path(site["database"]).resolve() == built_db.resolve()
    datasette = serving.site_datasette(Path(site["database"]), Path(site["config_file"]))
    assert not datasette.databases[DB].is_mutable
    assert datasette.default_deny
    # The inspect file gives Datasette exact counts for the immutable file.
    counts = json.loads(Path(site["inspect_file"]).read_text())[DB]["tables"]
    with closing(sqlite3.connect(built_db)) as connection:
        (recorded,) = connection.execute("select record_counts from build_info").fetchone()
    assert counts["evidence"]["count"] == json.loads(recorded)["evidence"]
    host_option = next(option for option in serve_cli.params if option.name == "host")
    assert host_option.default == "127.0.0.1"


# --- metadata: the site explains itself ----------------------------------------------


def test_home_page_has_title_description_license_source_and_about(site: Site):
    html = site.get("/").text
    assert f"<h1>{site_config.TITLE}</h1>" in html
    assert "Every fact is tied to the exact words of a source" in html and "the 2014-2025 series from public web pages" in html
    assert f'<a href="{site_config.LICENSE_URL}">{site_config.LICENSE}</a>' in html
    assert "remain under their publishers&#39; terms" in html or "remain under their publishers' terms" in html
    assert f'<a href="/{DB}/sources">' in html and f'<a href="/{DB}/build_info">' in html


def test_every_link_on_the_home_and_database_pages_answers(site: Site):
    links = {
        unescape(link)
        for page in ("/", f"/{DB}", f"/{DB}/-/queries")
        for link in re.findall(r'href="(/[^"#]*)', site.get(page).text)
        if not link.startswith("/-/static")
    }
    assert {"/-/search", f"/{DB}/-/queries", f"/{DB}/speeches"} | {f"/{DB}/{name}" for name in site_config.CANNED_QUERIES} <= links
    for link in links:
        assert site.get(link).status_code == 200, link


@pytest.mark.parametrize("model", [*RECORD_MODELS, *DERIVED_MODELS], ids=lambda model: model.table)
def test_every_table_page_describes_the_table_and_each_column(site: Site, model):
    page = site.get(f"/{DB}/{model.table}").text
    description = site_config.datasette_metadata()["databases"][DB]["tables"][model.table]["description"]
    assert description and description in unescape(page)
    # The list of column descriptions above the table (the headings' tooltips skip the primary key).
    listed = dict(re.findall(r"<dt>([a-z0-9_]+)</dt><dd>([^<]+)</dd>", page))
    assert set(listed) == set(model.model_fields)
    assert all(text.strip() for text in listed.values()), listed


def test_closed_vocabularies_list_their_values_in_the_column_description():
    columns = site_config.datasette_metadata()["databases"][DB]["tables"]["speeches"]["columns"]
    assert "read_on_behalf: Read out by the speaker on behalf of the person named in on_behalf_of_id" in columns["delivery_mode"]


def test_every_table_and_view_in_the_database_has_a_description(built_db: Path):
    described = site_config.datasette_metadata()["databases"][DB]["tables"]
    missing = [name for name in table_names(built_db) + view_names(built_db) if not described.get(name, {}).get("description")]
    assert not missing, f"no description for {missing}"


# --- navigation ----------------------------------------------------------------------


def test_every_table_a_foreign_key_points_to_has_a_label_column_that_is_never_empty(built_db: Path):
    tables = site_config.datasette_config()["databases"][DB]["tables"]
    targets = {target for model in RECORD_MODELS for target in reference_fields(model).values()}
    with closing(sqlite3.connect(built_db)) as connection:
        for table in targets:
            label = tables[table]["label_column"]
            # Datasette shows a null label as the word "None", so a label column must always have a value.
            (empty,) = connection.execute(f'select count(*) from "{table}" where "{label}" is null or "{label}" = ""').fetchone()
            assert empty == 0, f"{table}.{label} is empty in {empty} rows"


def test_foreign_keys_show_names_and_link_to_the_row(site: Site):
    (keynote,) = [row for row in site.rows(f"/{DB}/speeches", _labels="on", event_id="wic-2015-opening-ceremony") if row["kind"] == "keynote"]
    assert keynote["speaker_id"] == {"value": "xi-jinping", "label": "Xi Jinping"}
    html = site.get(f"/{DB}/speeches").text
    assert f'<a href="/{DB}/people/xi-jinping">Xi Jinping</a>' in html


def test_row_pages_list_the_rows_that_point_to_them(site: Site):
    def incoming(path: str) -> dict[str, int]:
        data = site.get(f"{path}.json", params={"_extra": "foreign_key_tables"}).json()
        return {f"{link['other_table']}.{link['other_column']}": link["count"] for link in data["foreign_key_tables"]}

    assert incoming(f"/{DB}/people/xi-jinping") == {
        "participants.person_id": 3,
        "positions.person_id": 1,
        "speeches.speaker_id": 4,
        "speeches.on_behalf_of_id": 8,
    }  # in person in 2015, by video three times, and eight letters others read out
    assert incoming(f"/{DB}/people/ban-ki-moon")["speeches.on_behalf_of_id"] == 1
    event = incoming(f"/{DB}/events/wic-2015")
    assert event["events.parent_id"] == 3 and event["counts.event_id"] == 19
    assert incoming(f"/{DB}/events/wic-2015-opening-ceremony")["speeches.event_id"] == 11
    html = site.get(f"/{DB}/people/xi-jinping").text
    pointing = html.partition('<h2 id="pointing">')[2]
    assert f'<a href="/{DB}/speeches?speaker_id=xi-jinping">4 rows of speeches</a> by speaker_id' in pointing
    assert f'<a href="/{DB}/speeches?on_behalf_of_id=xi-jinping">8 rows of speeches</a> by on_behalf_of_id' in pointing
    # each row by its label, linking to its page
    assert f'<li><a href="/{DB}/speeches/wic-2015-xi-jinping-keynote">' in pointing


def test_a_row_page_reads_as_a_record_titled_by_its_label(site: Site):
    html = site.get(f"/{DB}/people/ban-ki-moon").text
    assert "<title>Ban Ki-moon (people)</title>" in html and ">Ban Ki-moon</h1>" in html
    # one field a line, the Wikidata id a link to Wikidata
    assert re.search(r'<th scope="row">wikidata_id</th><td class="col-wikidata_id"><a href="https://www.wikidata.org/wiki/Q\d+"', html)
    assert '<span lang="ko">반기문</span> (ko)' in html.partition('<h2 id="other-names">')[2]
    evidence = html.partition('<h2 id="evidence">')[2]
    assert "“Ban Ki-moon”" in evidence and f'<a href="/{DB}/sources/wic-2015-opening-news-release">' in evidence
    # a carried source: the sentence around the quote, the quote marked
    assert "<mark>Ban Ki-moon</mark>" in evidence.partition("<blockquote>")[2].partition("</blockquote>")[0]


def test_a_source_page_shows_its_text_wrapped_and_links_to_its_page(site: Site):
    html = site.get(f"/{DB}/sources/wic-2015-opening-news-release").text
    assert "table.record td { white-space: pre-wrap; max-width: 50em; }" in html
    assert '<td class="col-text">' in html and "Medvedev" in html.partition('<td class="col-text">')[2].partition("</td>")[0]
    assert '<a href="http://www.china-embassy.org/eng/zgyw/t1325603.htm"' in html


def test_a_disputed_field_shows_every_claim_with_its_source(site: Site):
    disputed = site.get(f"/{DB}/events/wic-2014").text.partition('<h2 id="disputed">')[2].partition("<h2")[0]
    theme = disputed.partition("<h3>wic-2014 theme</h3>")[2].partition("</ul>")[0]
    claims = site.rows(f"/{DB}/disputed_facts", fact="wic-2014 theme")
    assert len(claims) == theme.count("<li>") == 4 and theme.count("(preferred)") == 1
    assert all(f'href="/{DB}/sources/{claim["source_id"]}"' in theme for claim in claims)


def test_each_count_of_a_disputed_count_shows_the_others(site: Site):
    html = site.get(f"/{DB}/counts/wic-2014-countries-and-regions-preview").text
    disputed = html.partition('<h2 id="disputed">')[2].partition("</ul>")[0]
    assert "<h3>wic-2014 countries_and_regions</h3>" in disputed and disputed.count("<li>") == 3
    assert "<li>about 100 <strong>(preferred)</strong>: “Representatives from nearly 100 countries and regions" in disputed
    assert f'(<a href="/{DB}/counts/wic-2014-countries-and-regions-ecns-body">its count</a>)' in disputed
    assert 'href="/wic_events/counts/wic-2014-countries-and-regions-preview"' not in disputed  # not itself


def test_a_row_page_of_another_database_is_datasettes_own(site: Site, tmp_path: Path):
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("create table people (id text primary key, name text)")
        connection.execute("insert into people values ('ban-ki-moon', 'someone else')")
    site.datasette.add_database(Database(site.datasette, path=str(other)), name="other")
    try:
        html = site.get("/other/people/ban-ki-moon").text
        assert "Ban Ki-moon" not in html and 'id="evidence"' not in html and "someone else" in html
    finally:
        site.datasette.remove_database("other")


def test_default_sort(site: Site):
    speeches = site.rows(f"/{DB}/speeches")
    assert [row["event_id"] for row in speeches] == sorted(row["event_id"] for row in speeches)
    assert speeches[0]["event_id"].startswith("wic-2014") and speeches[-1]["event_id"].startswith("wic-2025")
    sort_names = [row["sort_name"] for row in site.rows(f"/{DB}/people")]
    assert sort_names == sorted(sort_names) and sort_names[0] == "Ahern, Bertie"


EXPECTED_FACETS = {
    "speeches": {"kind": {"speech": 20, "keynote": 10, "message": 9}, "delivery_mode": {"in_person": 36, "read_on_behalf": 9, "video": 9}},
    "participants": {"role": {"reader": 9, "chair": 6, "keynote_speaker": 10}},
    "events": {"kind": {"conference": 12, "ceremony": 17, "photo_session": 1}},
    "speech_points": {"kind": {"principle": 4, "proposal": 5}},
    "counts": {"qualifier": {"over": 50, "exact": 43, "about": 20}},
}


@pytest.mark.parametrize("table", [model.table for model in MODELS_BY_TABLE.values() if model.facet_fields])
def test_configured_facets_count_the_rows(site: Site, table: str):
    response = site.get(f"/{DB}/{table}.json", params={"_extra": "facet_results", "_size": "0"})
    results = response.json()["facet_results"]["results"]
    assert list(results) == list(MODELS_BY_TABLE[table].facet_fields)
    connection = sqlite3.connect(site.datasette.databases[DB].path)
    for column, facet in results.items():
        counts = {item["value"]: item["count"] for item in facet["results"]}
        assert counts, f"facet {table}.{column} is empty"
        # Every value of the small real data, as SQL counts it; a facet leaves out empty values.
        in_sql = dict(connection.execute(f'select "{column}", count(*) from "{table}" where "{column}" is not null group by "{column}"').fetchall())
        if facet["truncated"]:  # the most frequent values, as many as a facet shows
            assert len(counts) == site.datasette.setting("default_facet_size") and all(in_sql[value] == count for value, count in counts.items()), (
                table,
                column,
            )
            assert min(counts.values()) >= max(count for value, count in in_sql.items() if value not in counts), (table, column)
        else:
            assert counts == in_sql, (table, column)
        for value, count in EXPECTED_FACETS.get(table, {}).get(column, {}).items():
            assert counts[value] == count, (table, column, value)


def test_facet_on_a_foreign_key_shows_labels(site: Site):
    response = site.get(f"/{DB}/speeches.json", params={"_extra": "facet_results", "_size": "0", "_facet": "event_id", "event_id": "wic-2015-opening-ceremony"})
    (item,) = response.json()["facet_results"]["results"]["event_id"]["results"]
    assert item["label"] == "Opening ceremony of the Second World Internet Conference"


# --- search --------------------------------------------------------------------------

SEARCHES = {
    "speeches": ("sovereignty", ["wic-2015-xi-jinping-keynote"]),
    "speech_points": ("sovereignty", ["wic-2015-xi-jinping-keynote-principle-1"]),
    "events": ("photos", ["wic-2015-group-photo"]),
    "people": ("medvedev", ["dmitry-medvedev"]),
    "sources": ("Medvedev", ["wic-2015-opening-news-release"]),
    "documents": ("initiative", ["wuzhen-initiative-2015"]),
    "places": ("Zhejiang", ["zhejiang"]),
    "organizations": ("ITU", ["international-telecommunication-union"]),
    "summaries": ("digital economy", None),
    "evidence": ("2,000 guests", None),
}


def test_every_searchable_table_is_searched():
    assert set(SEARCHES) == {model.table for model in (*RECORD_MODELS, *DERIVED_MODELS) if model.search_fields}


@pytest.mark.parametrize("table", list(SEARCHES))
def test_table_search_box_finds_rows(site: Site, table: str):
    words, expected_ids = SEARCHES[table]
    found = [row["id"] for row in site.rows(f"/{DB}/{table}", _search=words)]
    assert found if expected_ids is None else found == expected_ids
    assert '<input id="_search" type="search" name="_search"' in site.get(f"/{DB}/{table}").text


def test_search_box_takes_punctuation_as_text(site: Site):
    assert site.rows(f"/{DB}/speeches", _search='"U.S. (cyber') == []


def test_an_empty_or_lone_quote_search_finds_nothing_without_an_error(site: Site):
    for table in SEARCHES:
        for typed in ('"', '""', "*", "(", "-"):
            response = site.get(f"/{DB}/{table}.json", params={"_search": typed, "_shape": "objects"})
            assert response.status_code == 200 and response.json()["rows"] == [], (table, typed, response.text)


def test_table_search_finds_kinds_and_word_starts(site: Site):
    proposals = site.rows(f"/{DB}/speech_points", _search="proposal")
    assert len(proposals) == 5 and {row["kind"] for row in proposals} == {"proposal"}
    assert {row["id"] for row in site.rows(f"/{DB}/speeches", _search="sover*")} == {"wic-2015-xi-jinping-keynote"}
    # as the rules say: stems, not starts
    assert site.rows(f"/{DB}/speeches", _search="sovereign") == []
    assert len(site.rows(f"/{DB}/speeches", _search="AND")) > 1  # an operator typed is a word searched for


def search_page(site: Site, query: str):
    response = site.get("/-/search", params={"q": query})
    assert response.status_code == 200, response.text
    items = re.findall(
        r'<li><a href="([^"]+)">([^<]+)</a> <span class="hit-table">in ([a-z_]+)</span><br><span class="snippet">(.*?)</span></li>', response.text
    )
    return response.text, items


def test_the_search_page_answers_like_the_loaders_search(site: Site, built_db: Path):
    import wic_events

    html, items = search_page(site, "sovereignty")
    with closing(wic_events.connect(built_db)) as connection:
        expected = wic_events.search("sovereignty", connection, limit=50)
    assert [(table, unescape(label)) for _, label, table, _ in items] == [
        (hit.table, getattr(hit.record, site_config.label_column(MODELS_BY_TABLE[hit.table]))) for hit in expected
    ]
    assert len(items) > 5
    assert all("<mark>" in snippet.lower() and "sovereignty</mark>" in snippet.lower() for _, _, _, snippet in items)
    assert f"{len(items)} matches, best first." in html
    # the same order on every load
    assert search_page(site, "sovereignty")[1] == items


def test_the_search_page_finds_a_whole_other_name_first(site: Site):
    _, items = search_page(site, "习近平")
    assert items[0][:3] == (f"/{DB}/people/xi-jinping", "Xi Jinping", "people")
    assert "习近平" in items[0][3]


def test_the_search_page_takes_word_starts_and_says_when_nothing_matched(site: Site):
    _, items = search_page(site, "sover*")
    assert items and all("<mark>sover" in snippet.lower() for _, _, _, snippet in items)
    for typed in ('"', '""', "zzyzx"):
        html, items = search_page(site, typed)
        assert items == [] and f"Nothing matched {typed}." in unescape(html), typed
    assert site.get("/-/search", params={"q": "x" * 501}).status_code == 400
    # the rules the page states are the loader's
    from wic_events.loader import SEARCH_RULES

    assert SEARCH_RULES in unescape(site.get("/-/search").text)


def test_the_search_page_answers_in_json_too(site: Site):
    response = site.get("/-/search.json", params={"q": "习近平"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    found = response.json()
    assert found["query"] == "习近平" and "Porter stemming" in found["rules"]
    assert found["hits"][0] == {
        "table": "people",
        "key": "xi-jinping",
        "label": "Xi Jinping",
        "url": f"/{DB}/people/xi-jinping",
        "snippet": "习近平 (another name, zh-Hans)",
    }
    _, items = search_page(site, "sovereignty")
    hits = site.get("/-/search.json", params={"q": "sovereignty"}).json()["hits"]
    assert [(hit["url"], hit["label"], hit["table"]) for hit in hits] == [(url, unescape(label), table) for url, label, table, _ in items]
    assert all("«sovereignty»" in hit["snippet"].lower() for hit in hits)
    assert site.get("/-/search.json", params={"q": "x" * 501}).status_code == 400
    assert site.get("/-/search.json").json()["hits"] == []


def test_every_page_has_the_search_box(site: Site):
    for path in ("/", f"/{DB}", f"/{DB}/people", f"/{DB}/people/xi-jinping", f"/{DB}/editions", "/-/search"):
        html = site.get(path).text
        assert '<form class="wic-search" action="/-/search"' in html and 'id="wic-search-q"' in html, path


# --- canned queries ------------------------------------------------------------------


CANNED_QUERY_CHECKS = {}


def checks(name: str):
    def register(function):
        CANNED_QUERY_CHECKS[name] = function
        return function

    return register


@checks("speeches_at_event")
def check_speeches_at_event(site: Site):
    rows = site.rows(f"/{DB}/speeches_at_event", event_id="wic-2015-opening-ceremony")
    assert len(rows) == 11
    assert [row["reported_order"] for row in rows] == list(range(1, 12))
    assert (rows[0]["speaker"], rows[0]["speaker_post"], rows[0]["post_of"], rows[0]["kind"]) == ("Xi Jinping", "President", None, "keynote")
    (read_out,) = [row for row in rows if row["on_behalf_of"]]
    assert (read_out["speaker"], read_out["on_behalf_of"], read_out["post_of"]) == ("Wu Hongbo", "Ban Ki-moon", "UN")
    shared = [row for row in rows if row["summary_is_shared"]]
    speakers = {row["speaker"] for row in shared}
    assert len(speakers) == 9 and "Xi Jinping" not in speakers and "Liu Yunshan" not in speakers  # the guests, summed up together
    # the one text they share, once, with the first of them; the others point to it
    first, *others = shared
    assert len(first["summary"]) > 100
    assert all(row["summary"] == f"(shared with {first['speech_id']}, above)" for row in others)
    assert all(row["summary"] for row in rows if not row["summary_is_shared"])
    assert site.rows(f"/{DB}/speeches_at_event", event_id="wic-2015") == []


@checks("person_activity")
def check_person_activity(site: Site):
    rows = site.rows(f"/{DB}/person_activity", person_id="xi-jinping")
    done = {(row["event_id"], row["what"], row["detail"]) for row in rows}
    assert {
        ("wic-2015", "took part", "attendee"),
        ("wic-2015-group-photo", "took part", "attendee"),
        ("wic-2015-opening-ceremony", "took part", "keynote_speaker"),
        ("wic-2015-opening-ceremony", "delivered a speech", "keynote, in_person"),
        ("wic-2019-opening-ceremony", "had a speech read out", "message"),
        (None, "held a post", None),
    } <= done
    assert [row["what"] for row in rows].count("delivered a speech") == 4 and [row["what"] for row in rows].count("had a speech read out") == 8
    post, ban = site.rows(f"/{DB}/person_activity", person_id="ban-ki-moon")
    # a name as a person types it, or another name, finds the same rows
    assert site.rows(f"/{DB}/person_activity", person_id="Ban Ki-moon") == site.rows(f"/{DB}/person_activity", person_id="ban ki-moon") == [post, ban]
    assert site.rows(f"/{DB}/person_activity", person_id="习近平") == rows
    assert (post["start_date"], post["what"], post["post"], post["detail"]) == ("2015-12-16", "held a post", "Secretary General", "UN")
    assert (ban["what"], ban["other_person"], ban["speech_id"]) == ("had a speech read out", "Wu Hongbo", "wic-2015-ban-ki-moon-speech")


@checks("speeches_read_on_behalf")
def check_speeches_read_on_behalf(site: Site):
    rows = site.rows(f"/{DB}/speeches_read_on_behalf")
    assert len(rows) == 9
    # the newest first
    assert [row["start_date"] for row in rows] == sorted((row["start_date"] for row in rows), reverse=True)
    assert rows[0]["start_date"].startswith("2022") and rows[-1]["speech_id"] == "wic-2014-xi-jinping-message"
    # a year, an event or its conference narrow it; empty means all
    assert [row["speech_id"] for row in site.rows(f"/{DB}/speeches_read_on_behalf", year="2019")] == ["wic-2019-xi-jinping-letter"]
    assert [row["speech_id"] for row in site.rows(f"/{DB}/speeches_read_on_behalf", event_id="wic-2015")] == ["wic-2015-ban-ki-moon-speech"]
    assert site.rows(f"/{DB}/speeches_read_on_behalf", event_id="wic-2015-opening-ceremony", year="2015") == site.rows(
        f"/{DB}/speeches_read_on_behalf", event_id="wic-2015"
    )
    assert site.rows(f"/{DB}/speeches_read_on_behalf", year="2015", event_id="wic-2019") == []
    assert site.rows(f"/{DB}/speeches_read_on_behalf", year="", event_id="") == rows
    assert ("Wu Hongbo", "Ban Ki-moon", "wic-2015-ban-ki-moon-speech") in [(row["read_by"], row["speech_of"], row["speech_id"]) for row in rows]
    assert ("Huang Kunming", "Xi Jinping", "wic-2019-xi-jinping-letter") in [(row["read_by"], row["speech_of"], row["speech_id"]) for row in rows]


@checks("points_of_speech")
def check_points_of_speech(site: Site):
    rows = site.rows(f"/{DB}/points_of_speech", speech_id="wic-2015-xi-jinping-keynote")
    assert [(row["kind"], row["ordinal"]) for row in rows] == [("principle", n) for n in range(1, 5)] + [("proposal", n) for n in range(1, 6)]
    assert rows[0]["label"] == "Respecting the cyber sovereignty"


@checks("evidence_for_record")
def check_evidence_for_record(site: Site):
    rows = site.rows(f"/{DB}/evidence_for_record", record_id="wic-2015-guests")
    assert rows and all(row["record_table"] == "counts" for row in rows)
    assert any(row["quote"] == "Over 2,000 guests" and row["sentence"].startswith("Over 2,000 guests") for row in rows)
    assert all(row["quote"] in row["sentence"] for row in rows if row["sentence"])


@checks("events_inside_event")
def check_events_inside_event(site: Site):
    rows = site.rows(f"/{DB}/events_inside_event", event_id="wic-2015")
    # The closing ceremony comes from another page, which gives no order: its sequence is empty.
    assert [(row["depth"], row["sequence"], row["id"]) for row in rows] == [
        (1, None, "wic-2015-closing-ceremony"),
        (1, 1, "wic-2015-group-photo"),
        (1, 2, "wic-2015-opening-ceremony"),
    ]
    assert (rows[2]["start_date"], rows[2]["end_date"], rows[2]["time_of_day"]) == ("2015-12-16", "2015-12-16", "morning")
    assert site.rows(f"/{DB}/events_inside_event", event_id="wic-2015-opening-ceremony") == []


@checks("search_everything")
def check_search_everything(site: Site):
    rows = site.rows(f"/{DB}/search_everything", q="sovereignty")
    found = {(row["in_table"], row["id"]) for row in rows}
    assert {
        ("speeches", "wic-2015-xi-jinping-keynote"),
        ("speech_points", "wic-2015-xi-jinping-keynote-principle-1"),
        ("sources", "wic-2015-opening-news-release"),
    } <= found
    assert all("[sovereignty]" in row["matched_text"].lower() for row in rows)
    assert {row["in_table"] for row in site.rows(f"/{DB}/search_everything", q="Medvedev")} >= {"people", "sources"}
    (other_name,) = site.rows(f"/{DB}/search_everything", q="习近平")
    assert (other_name["in_table"], other_name["id"], other_name["matched_text"]) == ("people", "xi-jinping", "another name (zh-Hans)")
    # FTS syntax typed by a visitor is searched for as text, not an error.
    assert site.rows(f"/{DB}/search_everything", q='"U.S." AND (') == []
    assert site.rows(f"/{DB}/search_everything", q="") == []


@checks("editions")
def check_editions(site: Site):
    rows = site.rows(f"/{DB}/editions")
    assert [row["year"] for row in rows] == [str(year) for year in range(2014, 2026)]
    by_year = {row["year"]: row for row in rows}
    assert (by_year["2015"]["xi_jinping_part"], by_year["2015"]["guests"], by_year["2015"]["edition"]) == ("keynote in person", "over 2000", 2)
    assert (by_year["2019"]["xi_jinping_part"], by_year["2019"]["read_out_by"], by_year["2019"]["guests"], by_year["2019"]["countries_and_regions"]) == (
        "message read on behalf",
        "Huang Kunming",
        "about 1500",
        "83",
    )
    assert by_year["2025"]["xi_jinping_part"] is None  # no page states a part: nothing is inferred
    assert by_year["2020"]["edition"] is None  # it replaced the 7th edition, most pages say; one early page calls it the seventh
    assert all(row["place"] == "Wuzhen" and row["independent_sources"] >= 2 for row in rows)


@checks("disputed_facts_by_edition")
def check_disputed_facts_by_edition(site: Site):
    rows = site.rows(f"/{DB}/disputed_facts_by_edition", _size="max")
    facts = {row["fact"] for row in rows}
    assert {row["year"] for row in rows} == {str(year) for year in range(2014, 2026)}
    for fact in facts:  # each fact has one preferred claim and at least one other value
        claims = [row for row in rows if row["fact"] == fact]
        assert sum(row["preferred"] for row in claims) <= 1 and len({row["value"] for row in claims}) > 1, fact
    assert {"value": "over 100", "preferred": 0, "source_id": "ecns-2014-first-internet-conference"} in [
        {key: row[key] for key in ("value", "preferred", "source_id")} for row in rows if row["fact"] == "wic-2014 countries_and_regions"
    ]


def test_the_database_page_lists_every_query_with_its_description(site: Site):
    listed = site.get(f"/{DB}").text.partition('<h2 id="ready-made-queries">')[2]
    for name, query in site_config.CANNED_QUERIES.items():
        assert f'<dt><a href="/{DB}/{name}">{escape(query["title"])}</a></dt>' in listed, name
        assert f"<dd>{escape(query['description'])}</dd>" in listed, name


def test_a_query_page_is_titled_by_its_title(site: Site):
    html = site.get(f"/{DB}/editions").text
    assert f"<title>{escape(site_config.CANNED_QUERIES['editions']['title'])} | {DB}</title>" in html


def test_ids_in_query_results_link_to_their_rows(site: Site):
    html = site.get(f"/{DB}/person_activity", params={"person_id": "ban-ki-moon"}).text
    assert f'<a href="/{DB}/speeches/wic-2015-ban-ki-moon-speech">wic-2015-ban-ki-moon-speech</a>' in html
    html = site.get(f"/{DB}/speeches_at_event", params={"event_id": "wic-2015-opening-ceremony"}).text
    assert f'<a href="/{DB}/speeches/wic-2015-xi-jinping-keynote">wic-2015-xi-jinping-keynote</a>' in html
    # search_everything names the table of each id
    html = site.get(f"/{DB}/search_everything", params={"q": "Medvedev"}).text
    assert f'<a href="/{DB}/people/dmitry-medvedev">dmitry-medvedev</a>' in html
    # in arbitrary SQL too, for a column name that names one table
    html = site.get(f"/{DB}/-/query", params={"sql": "select id as speech_id from speeches where id = 'wic-2015-xi-jinping-keynote'"}).text
    assert f'<a href="/{DB}/speeches/wic-2015-xi-jinping-keynote">' in html


def test_a_query_says_when_its_record_parameter_names_nothing(site: Site):
    html = site.get(f"/{DB}/person_activity", params={"person_id": "moon"}).text
    warning = html.partition('<div class="message-warning wic-no-match">')[2].partition("</div>")[0]
    assert "No row of people is named “moon”" in warning
    assert f'<a href="/{DB}/person_activity?person_id=ban-ki-moon">Ban Ki-moon</a> (ban-ki-moon)' in warning
    warning = site.get(f"/{DB}/points_of_speech", params={"speech_id": "zzyzx"}).text.partition("wic-no-match")[2]
    assert 'href="/-/search?q=zzyzx"' in warning
    # a value that names a record, or none given: no warning
    for params in ({"person_id": "Ban Ki-moon"}, {"person_id": "ban-ki-moon"}, {}):
        assert "wic-no-match" not in site.get(f"/{DB}/person_activity", params=params).text, params


def test_every_canned_query_is_checked():
    assert set(CANNED_QUERY_CHECKS) == set(site_config.CANNED_QUERIES)


@pytest.mark.parametrize("name", list(site_config.CANNED_QUERIES))
def test_canned_query(site: Site, name: str):
    CANNED_QUERY_CHECKS[name](site)
    query = site_config.CANNED_QUERIES[name]
    assert query["title"] and len(query["description"]) > 20
    html = site.get(f"/{DB}/{name}").text
    assert query["title"].replace("'", "&#39;") in html
    # Each parameter the SQL uses gets a named form field, and the config lists it.
    assert re.findall(r'data-parameter-name="([a-z_]+)"', html) == query.get("params", [])


# --- safety --------------------------------------------------------------------------


def resource_for(action, database: str):
    if action.resource_class is None:
        return None
    if action.resource_class is DatabaseResource:
        return DatabaseResource(database=database)
    if action.resource_class is TableResource:
        return TableResource(database=database, table="people")
    if action.resource_class is QueryResource:
        return QueryResource(database=database, query="speeches_at_event")
    raise AssertionError(f"unknown resource class for {action.name}")


def test_every_action_but_reading_is_denied_to_everyone(site: Site):
    actions = site.datasette.actions
    assert set(site_config.READ_ACTIONS) < set(actions)
    for actor in (None, {"id": "root"}, {"id": "someone"}):
        for name, action in actions.items():
            allowed = site.run(site.datasette.allowed(action=name, resource=resource_for(action, DB), actor=actor))
            assert allowed == (name in site_config.READ_ACTIONS), (name, actor)


def test_write_requests_are_refused_and_change_nothing(site: Site):
    before = site.rows(f"/{DB}/people")
    attempts = [
        (f"/{DB}/people/-/insert", {"row": {"id": "intruder", "name": "Intruder", "sort_name": "Intruder"}}),
        (f"/{DB}/people/-/upsert", {"rows": [{"id": "xi-jinping", "name": "Changed", "sort_name": "Changed"}]}),
        (f"/{DB}/people/xi-jinping/-/update", {"update": {"name": "Changed"}}),
        (f"/{DB}/people/xi-jinping/-/delete", {}),
        (f"/{DB}/people/-/drop", {"confirm": True}),
        (f"/{DB}/people/-/alter", {"add_columns": [{"name": "note"}]}),
        (f"/{DB}/-/create", {"table": "intruders", "columns": [{"name": "id"}]}),
        (f"/{DB}/-/execute-write", {"sql": "delete from people"}),
        (f"/{DB}/-/queries/store", {"name": "mine", "sql": "select 1"}),
    ]
    cookies = {"ds_actor": site.datasette.client.actor_cookie({"id": "root"})}
    for path, body in attempts:
        for extra in ({}, {"cookies": cookies}):
            response = site.post(path, json=body, **extra)
            assert response.status_code in (403, 404, 405), (path, response.status_code, response.text[:200])
    for path in ("/-/create-token", "/-/permissions", "/-/rules", f"/{DB}/-/execute-write"):
        assert site.get(path).status_code == 403, path
    assert site.rows(f"/{DB}/people") == before


def test_arbitrary_sql_is_read_only(site: Site):
    response = site.get(f"/{DB}/-/query.json", params={"sql": "delete from people"})
    assert response.status_code == 400
    with closing(sqlite3.connect(site.datasette.databases[DB].path)) as connection:
        (people,) = connection.execute("select count(*) from people").fetchone()
    assert site.rows(f"/{DB}/-/query", sql="select count(*) as n from people") == [{"n": people}] and people > 16


def test_a_slow_query_is_stopped_while_other_requests_answer(site: Site):
    slow_sql = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000000) select count(*) from n"
    client = site.datasette.client
    finished: dict[str, float] = {}

    async def timed(name, path, **kwargs):
        response = await client.get(path, **kwargs)
        finished[name] = time.perf_counter()
        return response

    async def both():
        slow = asyncio.create_task(timed("slow", f"/{DB}/-/query.json", params={"sql": slow_sql}))
        await asyncio.sleep(0.05)
        fast = await timed("fast", f"/{DB}/speeches.json", params={"_size": "1"})
        return await slow, fast

    started = time.perf_counter()
    slow, fast = site.run(both())
    assert fast.status_code == 200 and finished["fast"] < finished["slow"]
    assert slow.status_code == 400 and "took too long" in slow.json()["error"]
    limit = site_config.SETTINGS["sql_time_limit_ms"] / 1000
    assert limit <= finished["slow"] - started < limit + 3


def test_answers_stop_at_max_returned_rows(site: Site):
    limit = site_config.SETTINGS["max_returned_rows"]
    sql = f"with recursive n(i) as (select 1 union all select i + 1 from n where i < {limit + 500}) select i from n"
    data = site.get(f"/{DB}/-/query.json", params={"sql": sql, "_shape": "objects"}).json()
    assert len(data["rows"]) == limit and data["truncated"] is True


def hostile_database(data_dir: Path, output: Path) -> Path:
    """Build from data whose texts hold markup, a script and a right-to-left override."""
    people = data_dir / "people.csv"
    people.write_text(
        people.read_text(encoding="utf-8").replace("xi-jinping,Xi Jinping,", "xi-jinping,\"<script>alert('name')</script>Xi \u202egnipniJ\",", 1),
        encoding="utf-8",
    )
    bundle_file = data_dir / "events" / "wic-2015.json"
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    keynote = next(speech for speech in bundle["speeches"] if speech["id"] == "wic-2015-xi-jinping-keynote")
    keynote["title"] = '<img src=x onerror="alert(1)"> </td></tr></table><b>bold</b> \u202eeltit'
    bundle_file.write_text(json.dumps(bundle), encoding="utf-8")
    build(data_dir, output)
    return output


@pytest.fixture
def hostile_site(data_copy: Path, tmp_path: Path):
    database = hostile_database(data_copy, tmp_path / "built.db")
    opened = Site(public_copy(database, tmp_path / "site"))
    yield opened
    opened.close()


def test_hostile_text_is_shown_escaped(hostile_site: Site):
    pages = [
        f"/{DB}/people/xi-jinping",
        f"/{DB}/people",
        f"/{DB}/speeches",
        f"/{DB}/speeches/wic-2015-xi-jinping-keynote",
        f"/{DB}/speeches_at_event?event_id=wic-2015-opening-ceremony",
        f"/{DB}/search_everything?q=gnipniJ",
        f"/{DB}/participants?_facet=person_id",
        "/-/search?q=gnipniJ",
    ]
    for page in pages:
        response = hostile_site.get(page)
        assert response.status_code == 200, page
        html = response.text
        for raw in ("<script>alert", "<img src=x", "<b>bold</b>", "</td></tr></table><b>"):
            assert raw not in html, (page, raw)
    row = hostile_site.get(f"/{DB}/speeches/wic-2015-xi-jinping-keynote").text
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;Xi \u202egnipniJ" in row
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in row
    # The override stays inside its own link: the id after it is isolated by the site's CSS.
    assert site_config.BIDI_ISOLATION_CSS in row


def test_cached_facet_counts_stay_right_for_each_filter(site: Site):
    """CountedOnceFacet keys the counts by their SQL and parameters: a filtered page gets its own."""

    def counts(**params):
        response = site.get(f"/{DB}/speeches.json", params={"_extra": "facet_results", "_size": "0", **params})
        return {item["value"]: item["count"] for item in response.json()["facet_results"]["results"]["delivery_mode"]["results"]}

    assert counts() == counts() == {"in_person": 36, "read_on_behalf": 9, "video": 9}
    assert counts(kind="keynote") == counts(kind="keynote") == {"in_person": 9, "video": 1}
    assert counts(kind="speech") == {"in_person": 14, "read_on_behalf": 1, "video": 5}


def test_a_full_text_index_stays_hidden_with_its_table_on_each_site(built_db: Path, tmp_path: Path):
    """Permissions belong to one site: another may deny the table behind an index."""
    denying = served_config()
    denying["databases"][DB]["tables"]["speeches"]["allow"] = False
    denying_file = tmp_path / "denying.yaml"
    denying_file.write_text(yaml.safe_dump(denying), encoding="utf-8")
    allowing_site = Site(public_copy(built_db, tmp_path / "allowing"))
    denying_site = Site(public_copy(built_db, tmp_path / "denying"), denying_file)
    try:
        for _ in range(2):
            assert allowing_site.get(f"/{DB}/speeches_fts.json").status_code == 200
            assert denying_site.get(f"/{DB}/speeches_fts.json").status_code == 403
            tables = [table["name"] for table in denying_site.get(f"/{DB}.json").json()["tables"]]
            assert "speeches_fts" not in tables and "speeches" not in tables and "people_fts" in tables
    finally:
        allowing_site.close()
        denying_site.close()


def test_served_database_is_read_through_mmap(site: Site):
    # Visitors may not run PRAGMA statements, so ask on one of the connections the site reads with.
    results = site.run(site.datasette.databases[DB].execute("pragma mmap_size"))
    assert results.rows[0][0] > 0  # SQLite caps MMAP_SIZE at its build's maximum (2 GB by default)
