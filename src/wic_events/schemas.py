"""JSON Schema files derived from the models: one per record type, and one for bundle files.

A bundle is a JSON file under data/ holding lists of records by table, each record
with the evidence that supports it written inside it. Editors validate bundles while
typing through their ``$schema`` key; the build checks them with ``jsonschema``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from .models import RECORD_MODELS, Citation, Evidence, Record, Slug, references

BUNDLE_SCHEMA_FILE = "bundle.schema.json"
SCHEMA_ID_BASE = "https://wic-events.github.io/schema/"


@cache
def entry_model(model: type[Record]) -> type[BaseModel]:
    """The model as authors write it: the record, plus the evidence supporting it."""
    if model is Evidence:
        return create_model(
            "EvidenceEntry",
            __base__=Evidence,
            __doc__=Evidence.__doc__,
            source_id=(Slug | None, references("sources", "The source quoted; defaults to the bundle's source_id.", default=None)),
        )
    return create_model(
        f"{model.__name__}Entry",
        __base__=model,
        __doc__=model.__doc__,
        evidence=(
            list[Citation],
            Field(default_factory=list, description="Quotes of the source that support this record or one of its fields."),
        ),
    )


@cache
def bundle_model() -> type[BaseModel]:
    """A JSON file of records: a list per table, and the source its citations quote by default."""
    tables = {
        model.table: (
            list[entry_model(model)],
            Field(default_factory=list, description=f"Records of the {model.table} table."),
        )
        for model in RECORD_MODELS
    }
    return create_model(
        "Bundle",
        __config__=ConfigDict(extra="forbid", populate_by_name=True),
        __doc__="A file of wic-events records, grouped by table.",
        schema_=(str | None, Field(None, alias="$schema", description="Path or URL of this schema, for editors.")),
        source_id=(Slug | None, Field(None, description="Source quoted by citations that do not name their own.")),
        **tables,
    )


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema file, by file name."""
    documents = {BUNDLE_SCHEMA_FILE: _with_id(bundle_model().model_json_schema(by_alias=True), BUNDLE_SCHEMA_FILE)}
    for model in RECORD_MODELS:
        name = f"{model.table}.schema.json"
        documents[name] = _with_id(entry_model(model).model_json_schema(), name)
    return documents


def _with_id(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID_BASE + name, **schema}


def render(document: dict[str, Any]) -> str:
    """The exact text a schema file holds."""
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_schema_files(directory: Path) -> list[Path]:
    """Write (or rewrite) every schema file into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in schema_documents().items():
        path = directory / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written


def stale_schema_files(directory: Path) -> list[str]:
    """Names of schema files in ``directory`` that are missing or differ from what the models generate."""
    stale = []
    for name, document in schema_documents().items():
        path = directory / name
        if not holds(path, render(document)):
            stale.append(name)
    return stale


def holds(path: Path, text: str) -> bool:
    """Whether the file at ``path`` holds exactly ``text`` (as UTF-8); False if it cannot be read."""
    try:
        return path.read_bytes() == text.encode("utf-8")
    except OSError:  # missing, a folder, unreadable: not what the models generate either
        return False
