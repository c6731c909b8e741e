"""The chart in docs/ is what its script draws from the database the data builds."""

import importlib.util
import re
import sqlite3
from contextlib import closing

from conftest import ROOT

spec = importlib.util.spec_from_file_location("chart", ROOT / "docs" / "chart.py")
chart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chart)


def test_the_committed_chart_is_what_the_script_draws(built_db):
    assert chart.CHART.read_text(encoding="utf-8") == chart.draw(built_db), "run 'python docs/chart.py' after a build"


def test_disputed_counts_are_drawn_as_ranges_and_a_missing_count_is_said(built_db):
    svg = chart.draw(built_db)
    # 2019: 83 countries at the close against "over 70" before: a range, from 70 to 83.
    with closing(sqlite3.connect(built_db)) as connection:
        assert chart.reports(connection, "countries_and_regions")["2019"] == (83, 70, 83)
        assert chart.reports(connection, "guests")["2024"] == (None, None, None)  # no page gives the 2024 guests
    assert svg.count(">n/a<") == 1
    assert len(re.findall(r'stroke-width="2"', svg)) == 3 * 5  # countries in 2018, 2019, 2021 and 2023, guests in 2022: a line with two ends each
