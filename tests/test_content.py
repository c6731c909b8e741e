"""The first source's facts, asked by SQL over the public contract and compared with the article.

The series around it (web pages, 2014-2025) is checked in test_series.py; here only the records
the news release states are asked for.
"""

from wic_events.coverage import source_coverage

SOURCE = "wic-2015-opening-news-release"


def rows(connection, sql, *parameters):
    return [tuple(row) for row in connection.execute(sql, parameters)]


def test_events_nest_with_dates_places_and_order(connection):
    assert rows(
        connection, "SELECT id, kind, parent_id, sequence, start_date, end_date, time_of_day, place_id FROM events WHERE source_id = ? ORDER BY id", SOURCE
    ) == [
        ("wic-2015", "conference", None, None, "2015-12-16", "2015-12-18", None, "wuzhen"),
        # Before a ceremony on the 16th, within a conference that began that day: the photo's last possible day.
        ("wic-2015-group-photo", "photo_session", "wic-2015", 1, None, "2015-12-16", None, None),
        ("wic-2015-opening-ceremony", "ceremony", "wic-2015", 2, "2015-12-16", "2015-12-16", "morning", "wuzhen"),
    ]
    assert rows(connection, "SELECT series, edition, theme FROM events WHERE id = 'wic-2015'") == [
        ("World Internet Conference", 2, "An Interconnected World Shared and Governed by All- Building a Community of Common Future in Cyberspace")
    ]


def test_places_nest_town_province_country(connection):
    chain = rows(
        connection,
        """
        WITH RECURSIVE up(id, name, kind, parent_id) AS (
          SELECT id, name, kind, parent_id FROM places WHERE id = 'wuzhen'
          UNION ALL SELECT p.id, p.name, p.kind, p.parent_id FROM places p JOIN up ON p.id = up.parent_id)
        SELECT name, kind FROM up""",
    )
    assert chain == [("Wuzhen", "town"), ("Tongxiang", "county"), ("Jiaxing", "city"), ("Zhejiang Province", "province"), ("China", "country")]
    # No source gives coordinates: none are made up.
    assert rows(connection, "SELECT country_code, latitude, longitude FROM places WHERE id = 'wuzhen'") == [("CN", None, None)]


def test_speeches_in_reported_order_with_speaker_and_mode(connection):
    assert rows(
        connection,
        """
        SELECT s.reported_order, s.speaker_id, s.on_behalf_of_id, s.kind, s.delivery_mode FROM speeches s
        WHERE s.event_id = 'wic-2015-opening-ceremony' ORDER BY s.reported_order""",
    ) == [
        (1, "xi-jinping", None, "keynote", "in_person"),
        (2, "mamnoon-hussain", None, "speech", "in_person"),
        (3, "dmitry-medvedev", None, "speech", "in_person"),
        (4, "karim-masimov", None, "speech", "in_person"),
        (5, "temir-sariyev", None, "speech", "in_person"),
        (6, "kokhir-rasulzoda", None, "speech", "in_person"),
        (7, "rustam-azimov", None, "speech", "in_person"),
        (8, "zhao-houlin", None, "speech", "in_person"),
        (9, "klaus-schwab", None, "speech", "in_person"),
        (10, "wu-hongbo", "ban-ki-moon", "speech", "read_on_behalf"),
        (11, "liu-yunshan", None, "address", "in_person"),
    ]


def test_the_shared_summary_is_kept_once_and_linked_from_nine_speeches(connection):
    assert rows(connection, "SELECT count(*) FROM summaries") == [(1,)]
    assert rows(connection, "SELECT count(*), count(DISTINCT summary_id) FROM speeches WHERE summary_id IS NOT NULL AND summary IS NULL") == [(9, 1)]
    assert rows(connection, "SELECT count(*) FROM speeches WHERE summary_id IS NULL AND summary IS NOT NULL") == [(2,)]


def test_ban_ki_moon_is_not_a_participant(connection):
    assert rows(connection, "SELECT count(*) FROM participants WHERE person_id = 'ban-ki-moon'") == [(0,)]


def test_one_person_chairs_and_addresses(connection):
    assert rows(connection, "SELECT role FROM participants WHERE person_id = 'liu-yunshan' AND event_id = 'wic-2015-opening-ceremony' ORDER BY role") == [
        ("chair",),
        ("speaker",),
    ]


def test_attendees_without_speaking_and_unnamed_others(connection):
    attendees = rows(
        connection,
        """SELECT person_id FROM participants WHERE event_id = 'wic-2015-opening-ceremony'
                                    AND role = 'attendee' ORDER BY person_id""",
    )
    assert attendees == [("li-zhanshu",), ("wang-huning",), ("wang-qinmin",), ("yang-jiechi",)]
    assert rows(connection, "SELECT id, unnamed_participants FROM events WHERE id LIKE 'wic-2015-%' AND unnamed_participants IS NOT NULL ORDER BY id") == [
        ("wic-2015-group-photo", "attending guests"),
        ("wic-2015-opening-ceremony", "and others"),
    ]


def test_posts_as_the_source_states_them(connection):
    assert rows(
        connection,
        """SELECT pe.name, po.title, po.country_code, o.abbreviation, po.as_of
        FROM participants pa JOIN people pe ON pe.id = pa.person_id JOIN positions po ON po.id = pa.position_id
        LEFT JOIN organizations o ON o.id = po.organization_id
        WHERE pa.event_id = 'wic-2015-opening-ceremony' AND pa.role IN ('speaker', 'reader') ORDER BY pe.sort_name""",
    ) == [
        ("Rustam Azimov", "First Deputy Prime Minister", "UZ", None, "2015-12-16"),
        ("Mamnoon Hussain", "President", "PK", None, "2015-12-16"),
        ("Karim Masimov", "Prime Minister", "KZ", None, "2015-12-16"),
        ("Dmitry Medvedev", "Prime Minister", "RU", None, "2015-12-16"),
        ("Kokhir Rasulzoda", "Prime Minister", "TJ", None, "2015-12-16"),
        ("Temir Sariyev", "Prime Minister", "KG", None, "2015-12-16"),
        ("Klaus Schwab", "Founder and Executive Chairman", None, "WEF", "2015-12-16"),
        ("Wu Hongbo", "Under Secretary-General", None, "UN", "2015-12-16"),
        ("Zhao Houlin", "Secretary General", None, "ITU", "2015-12-16"),
    ]


def test_keynote_points_in_the_articles_order(connection):
    points = rows(connection, "SELECT kind, ordinal, label FROM speech_points WHERE speech_id = 'wic-2015-xi-jinping-keynote' ORDER BY kind, ordinal")
    assert [(kind, ordinal) for kind, ordinal, _ in points] == [("principle", n) for n in range(1, 5)] + [("proposal", n) for n in range(1, 6)]
    # Labels in the source's own words; "principles" is the word of later pages, cited for each point's kind.
    assert [label for kind, _, label in points if kind == "principle"] == [
        "Respecting the cyber sovereignty",
        "Maintaining peace and security",
        "Advancing opening up and cooperation",
        "Building sound order",
    ]
    assert rows(
        connection,
        """SELECT DISTINCT e.source_id FROM evidence e JOIN speech_points p ON p.id = e.record_id
        WHERE e.record_table = 'speech_points' AND e.field = 'kind' ORDER BY 1""",
    ) == [("lanzhou-baogaosu-2015-closing",), ("scio-2017-4th-wic-briefing",)]
    first_words = rows(
        connection,
        """SELECT p.ordinal, substr(e.quote, 1, instr(e.quote, ',') - 1) FROM speech_points p
        JOIN evidence e ON e.record_table = 'speech_points' AND e.record_id = p.id WHERE p.kind = 'proposal' ORDER BY p.ordinal""",
    )
    assert first_words == [(1, "Firstly"), (2, "Secondly"), (3, "Thirdly"), (4, "Fourthly"), (5, "Fifthly")]


def test_counts_with_qualifiers_and_wording(connection):
    assert rows(connection, "SELECT subject, value, qualifier, low, high, as_reported FROM counts WHERE source_id = ? ORDER BY subject", SOURCE) == [
        ("continents", 5, "exact", 5, 5, "the five continents"),
        ("countries_and_regions", 120, "over", 121, None, "over 120 countries and regions"),
        ("guests", 2000, "over", 2001, None, "Over 2,000 guests"),
    ]


def test_stated_totals_add_up(connection):
    # "delivered a speech respectively" states no number, so it is no stated total.
    assert rows(connection, "SELECT id, expected, source_id FROM stated_totals ORDER BY id") == [
        ("wic-2015-xi-jinping-keynote-five-proposals", 5, SOURCE),
        ("wic-2015-xi-jinping-keynote-four-principles", 4, "scio-2017-4th-wic-briefing"),
    ]


def test_names_in_other_scripts_and_wikidata_only_where_certain(connection):
    assert rows(connection, "SELECT name FROM alternate_names WHERE entity_id = 'xi-jinping' AND language = 'zh-Hans'") == [("习近平",)]
    assert rows(connection, "SELECT id, wikidata_id FROM people WHERE wikidata_id IS NOT NULL ORDER BY id") == [
        ("ban-ki-moon", "Q1253"),
        ("dmitry-medvedev", "Q23530"),
        ("xi-jinping", "Q15031"),
    ]


def test_every_record_has_evidence(connection):
    for table in (
        "events",
        "people",
        "places",
        "organizations",
        "positions",
        "participants",
        "speeches",
        "speech_points",
        "counts",
        "summaries",
        "stated_totals",
        "documents",
    ):
        uncited = rows(
            connection, f"SELECT id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.record_table = ? AND e.record_id = t.id)", table
        )
        assert uncited == [], table
    # A web page is its own record of its title and address; the carried document is cited for its title.
    assert (
        rows(
            connection,
            "SELECT id FROM sources s WHERE text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.record_table = 'sources' AND e.record_id = s.id)",
        )
        == []
    )


def test_doubtable_fields_have_evidence(connection):
    cited = set(rows(connection, "SELECT record_id, field FROM evidence WHERE field IS NOT NULL"))
    for needed in [
        ("wic-2015", "start_date"),
        ("wic-2015", "end_date"),
        ("wic-2015", "theme"),
        ("wic-2015-opening-ceremony", "time_of_day"),
        ("wic-2015-ban-ki-moon-speech", "delivery_mode"),
        ("wic-2015-guests", "value"),
        ("dmitry-medvedev-prime-minister", "title"),
    ]:
        assert needed in cited


def test_every_fact_bearing_sentence_is_cited(connection):
    (report,) = source_coverage(connection, SOURCE)
    assert report.uncited == []
    assert len(report.cited) == 41
    assert report.boilerplate == [(42, "Suggest to a Friend:")]
