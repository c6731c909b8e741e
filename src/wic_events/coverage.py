"""How well the evidence covers each source, and the evidence behind one record.

Both read the built database: ``sentence_coverage`` and ``record_sentences`` are views
the compiler creates.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .models import MODELS_BY_TABLE


@dataclass
class SourceCoverage:
    source_id: str
    cited: list[tuple[int, str]] = field(default_factory=list)
    uncited: list[tuple[int, str]] = field(default_factory=list)
    boilerplate: list[tuple[int, str]] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Share of fact-bearing (non-boilerplate) sentences cited by at least one evidence row."""
        total = len(self.cited) + len(self.uncited)
        return len(self.cited) / total if total else 1.0


def source_coverage(connection: sqlite3.Connection, source_id: str | None = None) -> list[SourceCoverage]:
    """Coverage of every carried source, or of one."""
    query = "SELECT source_id, ordinal, text, boilerplate, evidence_count FROM sentence_coverage"
    parameters: list[Any] = []
    if source_id is not None:
        query += " WHERE source_id = ?"
        parameters.append(source_id)
    reports: dict[str, SourceCoverage] = {}
    for source, ordinal, text, boilerplate, evidence_count in connection.execute(query + " ORDER BY source_id, ordinal", parameters):
        report = reports.setdefault(source, SourceCoverage(source))
        bucket = report.boilerplate if boilerplate else report.cited if evidence_count else report.uncited
        bucket.append((ordinal, text))
    return list(reports.values())


@dataclass
class SourceCitations:
    """A source whose text is not carried, and the records that quote it, each with the fields quoted."""

    source_id: str
    title: str | None
    url: str | None
    publisher: str | None
    copy_of_id: str | None
    cited: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(table, record id) -> the fields quoted ('' for the record as a whole), in the evidence and the claims."""


def uncarried_source_citations(connection: sqlite3.Connection, source_id: str | None = None) -> list[SourceCitations]:
    """Every source the project does not carry the text of (a web page), or one, with what cites it."""
    query = "SELECT id, title, url, publisher, copy_of_id FROM sources WHERE text IS NULL"
    parameters: list[Any] = []
    if source_id is not None:
        query += " AND id = ?"
        parameters.append(source_id)
    reports = {row[0]: SourceCitations(*row) for row in connection.execute(query + " ORDER BY id", parameters)}
    quoted = """SELECT source_id, record_table, record_id, coalesce(field, '') FROM evidence
                UNION SELECT source_id, record_table, record_id, field FROM claims ORDER BY 1, 2, 3, 4"""
    for source, table, record_id, quoted_field in connection.execute(quoted):
        if source in reports:
            reports[source].cited.setdefault((table, record_id), []).append(quoted_field)
    return list(reports.values())


@dataclass
class CitedRecord:
    table: str
    values: dict[str, Any]
    evidence: list[dict[str, Any]]


def find_record(connection: sqlite3.Connection, record_id: str) -> list[CitedRecord]:
    """Every record with this id (ids are unique within a table, not across tables), with its evidence in context."""
    found = []
    for table, model in MODELS_BY_TABLE.items():
        if "id" not in model.primary_key:
            continue
        row = connection.execute(f'SELECT * FROM "{table}" WHERE id = ?', (record_id,)).fetchone()
        if row is None:
            continue
        columns = [description[0] for description in connection.execute(f'SELECT * FROM "{table}" LIMIT 0').description]
        evidence = connection.execute(
            'SELECT field, quote, source_id, source_title, start, "end", before_quote, after_quote '
            "FROM evidence_details WHERE record_table = ? AND record_id = ? ORDER BY source_id, start",
            (table, record_id),
        ).fetchall()
        names = ["field", "quote", "source_id", "source_title", "start", "end", "before", "after"]
        found.append(CitedRecord(table, dict(zip(columns, row, strict=True)), [dict(zip(names, item, strict=True)) for item in evidence]))
    return found
