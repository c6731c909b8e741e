"""The World Internet Conference 2014-2025, asked by SQL over the public contract and compared with the pages."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

import wic_events
from wic_events.site_config import CANNED_QUERIES

SERIES = "World Internet Conference"


def rows(connection, sql, *parameters):
    return [tuple(row) for row in connection.execute(sql, parameters)]


EDITIONS = {
    # id: (edition, start, end, opening day)
    "wic-2014": (1, "2014-11-19", "2014-11-21", "2014-11-19"),
    "wic-2015": (2, "2015-12-16", "2015-12-18", "2015-12-16"),
    "wic-2016": (3, "2016-11-16", "2016-11-18", "2016-11-16"),
    "wic-2017": (4, "2017-12-03", "2017-12-05", "2017-12-03"),
    "wic-2018": (5, "2018-11-07", "2018-11-09", "2018-11-07"),
    "wic-2019": (6, "2019-10-20", "2019-10-22", "2019-10-20"),
    "wic-2020": (None, "2020-11-23", "2020-11-24", "2020-11-23"),
    "wic-2021": (None, "2021-09-26", "2021-09-28", "2021-09-26"),
    "wic-2022": (None, "2022-11-09", "2022-11-11", "2022-11-09"),
    "wic-2023": (None, "2023-11-08", "2023-11-10", "2023-11-08"),
    "wic-2024": (None, "2024-11-19", "2024-11-22", "2024-11-20"),
    "wic-2025": (None, "2025-11-06", "2025-11-09", "2025-11-07"),
}


def test_one_conference_a_year_2014_to_2025_with_its_dates_and_place(connection):
    found = rows(
        connection,
        """SELECT e.id, e.edition, e.start_date, e.end_date, o.start_date, e.place_id FROM events e
        JOIN events o ON o.parent_id = e.id AND o.kind = 'ceremony' AND o.name LIKE 'Opening ceremony%'
        WHERE e.parent_id IS NULL AND e.kind = 'conference' AND e.series = ? ORDER BY e.start_date""",
        SERIES,
    )
    assert found == [(event, *values, "wuzhen") for event, values in EDITIONS.items()]


def test_wuzhen_lies_in_tongxiang_jiaxing_zhejiang_china_and_the_founding_in_beijing(connection):
    chain = rows(
        connection,
        """WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM places WHERE id = 'wuzhen'
        UNION ALL SELECT p.id, p.parent_id FROM places p JOIN up ON p.id = up.parent_id) SELECT id FROM up""",
    )
    assert chain == [("wuzhen",), ("tongxiang",), ("jiaxing",), ("zhejiang",), ("china",)]
    assert rows(connection, "SELECT kind, parent_id, start_date, end_date, place_id FROM events WHERE id = 'wic-2022-founding'") == [
        ("ceremony", None, "2022-07-12", "2022-07-12", "beijing")
    ]


THEMES = {
    "wic-2014": "An Interconnected World Shared and Governed by All",
    "wic-2016": "Innovation-driven Internet Development for the Benefit of All -- Building a Community of Common Future in Cyberspace",
    "wic-2019": "Intelligent Interconnection for Openness and Cooperation: Building a Community with a Shared Future in Cyberspace",
    "wic-2025": "Forging an Open, Cooperative, Secure and Inclusive Future of Digital Intelligence -- Building a Community with a Shared Future in Cyberspace",
}


@pytest.mark.parametrize("event_id", list(THEMES))
def test_the_theme_the_dataset_prefers_and_every_other_wording(connection, event_id):
    (theme,) = rows(connection, "SELECT theme FROM events WHERE id = ?", event_id)[0]
    assert theme == THEMES[event_id]
    claims = rows(connection, "SELECT value, preferred FROM claims WHERE record_id = ? AND field = 'theme'", event_id)
    assert [value for value, preferred in claims if preferred] == [theme]
    assert len({value for value, _ in claims}) > 1 or event_id == "wic-2025" and len(claims) == 2


XI = {
    # year: (delivery mode, kind, who delivered it)
    "2014": ("read_on_behalf", "message", "ma-kai"),
    "2015": ("in_person", "keynote", "xi-jinping"),
    "2016": ("video", "speech", "xi-jinping"),
    "2017": ("read_on_behalf", "message", "huang-kunming"),
    "2018": ("read_on_behalf", "message", "huang-kunming"),
    "2019": ("read_on_behalf", "message", "huang-kunming"),
    "2020": ("read_on_behalf", "message", "zhuang-rongwen"),
    "2021": ("read_on_behalf", "message", "liu-he"),
    "2022": ("read_on_behalf", "message", "li-shulei"),
    "2023": ("video", "speech", "xi-jinping"),
    "2024": ("video", "message", "xi-jinping"),
}


def test_xi_jinpings_part_each_year_and_none_made_up_for_2025(connection):
    found = rows(
        connection,
        """SELECT substr(coalesce(root.start_date, e.start_date), 1, 4), s.delivery_mode, s.kind, s.speaker_id
        FROM speeches s JOIN events e ON e.id = s.event_id LEFT JOIN events root ON root.id = e.parent_id
        WHERE (s.speaker_id = 'xi-jinping' OR s.on_behalf_of_id = 'xi-jinping') AND coalesce(root.id, e.id) != 'wic-2022-founding'
        ORDER BY 1""",
    )
    assert found == [(year, *part) for year, part in XI.items()]
    # A reader is a participant with role reader; the one whose letter it is, is not a participant there.
    readers = rows(
        connection,
        """SELECT s.id FROM speeches s WHERE s.on_behalf_of_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM participants p JOIN events e ON e.id = p.event_id
        WHERE p.person_id = s.speaker_id AND p.role = 'reader' AND (p.event_id = s.event_id OR e.id = (SELECT parent_id FROM events WHERE id = s.event_id)))""",
    )
    assert readers == []


def test_the_2022_founding_its_letter_and_the_organizations_officers(connection):
    assert rows(connection, "SELECT speaker_id, delivery_mode FROM speeches WHERE event_id = 'wic-2022-founding' AND on_behalf_of_id = 'xi-jinping'") == [
        ("huang-kunming", "read_on_behalf")
    ]
    assert rows(
        connection, """SELECT p.person_id, p.title, p.as_of FROM positions p WHERE p.organization_id = 'world-internet-conference' ORDER BY p.person_id"""
    ) == [("francis-gurry", "Vice Chair", "2023-11-08"), ("ren-xianliang", "Secretary-General", "2022-11-01"), ("zhuang-rongwen", "Chair", "2022-11-09")]
    assert rows(connection, "SELECT name, kind, abbreviation FROM organizations WHERE id = 'world-internet-conference'") == [
        ("World Internet Conference", "forum", "WIC")
    ]


DISPUTED_COUNTS = {
    ("wic-2014", "countries_and_regions"): {"about 100", "over 100"},
    ("wic-2018", "countries_and_regions"): {"76", "over 70"},
    ("wic-2019", "countries_and_regions"): {"83", "over 70", "70"},
    ("wic-2021", "countries_and_regions"): {"96", "over 80"},
}


@pytest.mark.parametrize("fact", list(DISPUTED_COUNTS), ids=lambda fact: " ".join(fact))
def test_disputed_counts_are_kept_side_by_side_each_with_its_source(connection, fact):
    found = rows(connection, "SELECT value, source_id, quote, preferred FROM disputed_facts WHERE fact = ?", " ".join(fact))
    assert {value for value, *_ in found} == DISPUTED_COUNTS[fact]
    assert all(source and quote for _, source, quote, _ in found)
    assert sum(preferred for *_, preferred in found) == 1
    preferred_value = next(value for value, _, _, preferred in found if preferred)
    assert preferred_value == {"wic-2014": "about 100", "wic-2018": "76", "wic-2019": "83", "wic-2021": "96"}[fact[0]]


def test_the_2020_ordinal_and_the_2023_chair_are_disputed_claims(connection):
    assert rows(connection, "SELECT value, preferred, source_id FROM disputed_facts WHERE fact = 'wic-2020 edition' ORDER BY preferred DESC, source_id") == [
        (None, 1, "scio-wic2020"),
        (None, 0, "chinacomcn-2020-11-03"),
        (None, 0, "chinadaily-2020-11-03"),
        ("7", 0, "shine-2020-11-02"),
        (None, 0, "tellerreport-2020-11-02"),
    ]
    assert rows(connection, "SELECT edition FROM events WHERE id = 'wic-2020'") == [(None,)]
    assert rows(connection, "SELECT value, preferred FROM disputed_facts WHERE fact = 'wic-2023-opening-ceremony-chair person_id' ORDER BY value") == [
        ("ren-xianliang", 0),
        ("zhuang-rongwen", 1),
    ]


def test_disputed_facts_has_the_contract_columns_and_one_preferred_claim_per_fact(connection):
    columns = [column[1] for column in connection.execute("PRAGMA table_info(disputed_facts)")]
    assert columns[:7] == ["record_table", "record_id", "field", "value", "source_id", "quote", "preferred"]
    assert rows(connection, "SELECT fact FROM disputed_facts GROUP BY fact HAVING sum(preferred) != 1") == []
    assert rows(connection, "SELECT count(DISTINCT fact) > 30 FROM disputed_facts") == [(1,)]


def test_the_loader_gives_the_disputed_facts(built_db):
    with closing(wic_events.connect(built_db)) as connection:
        claims = wic_events.disputed_facts(connection, event_id="wic-2018")
    assert {claim.fact for claim in claims} >= {"wic-2018 countries_and_regions", "wic-2018 theme", "wic-2018 forums"}
    first = [claim for claim in claims if claim.fact == "wic-2018 countries_and_regions"][0]
    assert (first.value, first.preferred, first.source_id) == ("76", True, "csr-china-2018")


def test_the_editions_query_row_for_2019(connection):
    query = CANNED_QUERIES["editions"]
    found = [dict(row) for row in connection.execute(query["sql"])]
    assert [row["year"] for row in found] == [str(year) for year in range(2014, 2026)]
    row = next(row for row in found if row["year"] == "2019")
    assert (row["xi_jinping_part"], row["read_out_by"], row["guests"], row["countries_and_regions"]) == (
        "message read on behalf",
        "Huang Kunming",
        "about 1500",
        "83",
    )
    assert row["independent_sources"] >= 5
    assert next(row for row in found if row["year"] == "2025")["xi_jinping_part"] is None


def test_web_pages_are_quoted_by_short_phrases_and_copies_are_marked(connection):
    assert rows(
        connection,
        """SELECT count(*) FROM evidence e JOIN sources s ON s.id = e.source_id
        WHERE s.text IS NULL AND (length(e.quote) > 200 OR length(trim(e.quote)) < 2 OR e.start IS NOT NULL)""",
    ) == [(0,)]
    assert rows(connection, "SELECT count(*) FROM claims c JOIN sources s ON s.id = c.source_id WHERE s.text IS NULL AND length(c.quote) > 200") == [(0,)]
    assert rows(connection, "SELECT count(*) FROM sources WHERE text IS NULL AND url IS NULL") == [(0,)]
    copies = rows(connection, "SELECT id, copy_of_id FROM sources WHERE copy_of_id IS NOT NULL ORDER BY id")
    assert ("bankipay-2014-opening", "baogaosu-hangzhou-2014-opening") in copies or copies


DOUBTED = ("start_date", "end_date", "place_id", "theme")


def test_every_doubtable_field_of_a_yearly_meeting_is_stated_by_two_independent_pages(connection):
    weak = []
    for (event_id,) in rows(connection, "SELECT id FROM events WHERE parent_id IS NULL AND kind = 'conference' AND series = ?", SERIES):
        for field in (*DOUBTED, *(("edition",) if rows(connection, "SELECT edition FROM events WHERE id = ?", event_id)[0][0] else ())):
            # A page that words the theme otherwise still states it: its claim counts.
            independent = rows(
                connection,
                """SELECT count(DISTINCT coalesce(s.copy_of_id, s.id)) FROM (
                    SELECT source_id, record_table, record_id, field FROM evidence UNION ALL SELECT source_id, record_table, record_id, field FROM claims) e
                JOIN sources s ON s.id = e.source_id WHERE e.record_table = 'events' AND e.record_id = ? AND e.field = ?""",
                event_id,
                field,
            )[0][0]
            assert independent >= 1, (event_id, field)
            if independent < 2:
                weak.append((event_id, field))
    assert weak == []


def test_build_info_and_the_site_say_what_the_data_covers(connection):
    (coverage,) = rows(connection, "SELECT coverage FROM build_info")[0]
    pages = rows(connection, "SELECT count(*) FROM sources WHERE text IS NULL")[0][0]
    assert coverage.startswith(f"The World Internet Conference 2014-2025 (13 events at the top level), from {pages} public web pages")
    assert "Xi Jinping Attends Opening Ceremony of Second World Internet Conference" in coverage


def test_the_sources_command_lists_what_cites_each_page(built_db):
    from click.testing import CliRunner

    from wic_events.cli import cli

    result = CliRunner().invoke(cli, ["sources", "csr-china-2018", "--db", str(built_db)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("csr-china-2018: ")
    assert "    counts wic-2018-countries-and-regions-china-wto-tribune: value" in result.output
    assert "    events wic-2018: theme" in result.output  # a claim of its wording
    missing = CliRunner().invoke(cli, ["sources", "no-such-page", "--db", str(built_db)])
    assert missing.exit_code == 1 and "no source named no-such-page" in missing.output


def test_no_quote_of_the_carried_release_is_claimed_about_a_page(built_db):
    with closing(sqlite3.connect(built_db)) as connection:
        # Every located quote is the span it says.
        assert connection.execute(
            "SELECT count(*) FROM evidence e JOIN sources s ON s.id = e.source_id WHERE "
            'e.start IS NOT NULL AND substr(s.text, e.start + 1, e."end" - e.start) != e.quote'
        ).fetchone() == (0,)
