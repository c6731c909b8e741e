"""Draw docs/counts-by-edition.svg: guests and countries per edition, every report of a count shown.

Each edition gets a bar per subject up to the preferred count; where reports disagree, a line
runs from the lowest to the highest value reported, so a disputed count is seen as a range.
Run it after a build (`python docs/chart.py [DATABASE]`); a test checks that the committed file is
what it draws from the packaged database.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from html import escape
from pathlib import Path

CHART = Path(__file__).with_name("counts-by-edition.svg")
SUBJECTS = {"guests": ("Guests", "#3465a4"), "countries_and_regions": ("Countries and regions", "#c17d11")}
WIDTH, PANEL_HEIGHT, LEFT, TOP, GAP = 760, 170, 60, 60, 50

EDITIONS_SQL = """
select substr(e.start_date, 1, 4) as year,
       -- the preferred report, or the only one (a lone report need not be marked preferred)
       coalesce(max(case when c.preferred then c.value end), case when count(c.value) = 1 then max(c.value) end),
       min(c.value), max(c.value)
from events e left join counts c on c.event_id = e.id and c.subject = ? and c.value is not null
where e.kind = 'conference' and e.series = 'World Internet Conference'
group by e.id order by e.start_date
"""


def reports(connection: sqlite3.Connection, subject: str) -> dict[str, tuple[int | None, int | None, int | None]]:
    """For each edition's year, the preferred value of ``subject`` and the lowest and highest reported
    (all None where no page reports it)."""
    return {year: (chosen, lowest, highest) for year, chosen, lowest, highest in connection.execute(EDITIONS_SQL, (subject,))}


def panel(by_year: dict[str, tuple[int | None, int | None, int | None]], title: str, colour: str, top: int) -> list[str]:
    highest = max((high for _, _, high in by_year.values() if high is not None), default=1)
    step = (WIDTH - LEFT - 20) / len(by_year)

    def y(value: float) -> float:
        return top + PANEL_HEIGHT - value / highest * PANEL_HEIGHT

    parts = [
        f'<text x="{LEFT}" y="{top - 12}" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{top + PANEL_HEIGHT}" x2="{WIDTH - 20}" y2="{top + PANEL_HEIGHT}" stroke="#555"/>',
        f'<text x="{LEFT - 6}" y="{y(highest) + 4:.1f}" text-anchor="end">{highest:,}</text>',
    ]
    for index, (year, (chosen, low, high)) in enumerate(by_year.items()):
        middle = LEFT + step * (index + 0.5)
        parts.append(f'<text x="{middle:.1f}" y="{top + PANEL_HEIGHT + 16}" text-anchor="middle">{year}</text>')
        if high is None:
            parts.append(f'<text x="{middle:.1f}" y="{top + PANEL_HEIGHT - 6}" text-anchor="middle" fill="#888">n/a</text>')
            continue
        if chosen is not None:
            parts.append(
                f'<rect x="{middle - step * 0.3:.1f}" y="{y(chosen):.1f}" width="{step * 0.6:.1f}" '
                f'height="{top + PANEL_HEIGHT - y(chosen):.1f}" fill="{colour}"/>'
            )
            parts.append(f'<text x="{middle:.1f}" y="{y(chosen) - 4:.1f}" text-anchor="middle">{chosen:,}</text>')
        if low != high:
            parts.append(f'<line x1="{middle:.1f}" y1="{y(low):.1f}" x2="{middle:.1f}" y2="{y(high):.1f}" stroke="#000" stroke-width="2"/>')
            for value in (low, high):
                parts.append(f'<line x1="{middle - 6:.1f}" y1="{y(value):.1f}" x2="{middle + 6:.1f}" y2="{y(value):.1f}" stroke="#000" stroke-width="2"/>')
    return parts


def draw(database: Path) -> str:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        parts = []
        for number, (subject, (title, colour)) in enumerate(SUBJECTS.items()):
            parts += panel(reports(connection, subject), title, colour, TOP + number * (PANEL_HEIGHT + GAP + 20))
    height = TOP + len(SUBJECTS) * (PANEL_HEIGHT + GAP + 20)
    note = "Bars: the preferred count of each edition. Black lines: from the lowest to the highest count reported, where reports disagree."
    return (
        "\n".join(
            [
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
                f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
                f'<text x="{LEFT}" y="18" font-size="14">World Internet Conference: reported counts per edition (wic-events)</text>',
                *parts,
                f'<text x="{LEFT}" y="{height - 10}" fill="#555">{escape(note)}</text>',
                "</svg>",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from wic_events import db_path

    CHART.write_text(draw(Path(sys.argv[1]) if len(sys.argv) > 1 else db_path()), encoding="utf-8")
    print(f"Wrote {CHART}")
