"""JSON Schema files derived from the models: one per record type, and one for bundle files.

A bundle is a JSON file under data/ holding lists of records by table, each record
with the evidence that supports it written inside it. Editors validate bundles while
typing through their ``$schema`` key; the build checks them with ``jsonschema``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from .models import RECORD_MODELS, Citation, Claim, Evidence, Record, Slug, StatedClaim, references
from .problems import CannotWrite

BUNDLE_SCHEMA_FILE = "bundle.schema.json"
SCHEMA_ID_BASE = "https://wic-events.github.io/schema/"


@cache
def entry_model(model: type[Record]) -> type[BaseModel]:
    """The model as authors write it: the record, plus the evidence supporting it."""
    if model in (Evidence, Claim):
        return create_model(
            f"{model.__name__}Entry",
            __base__=model,
            __doc__=model.__doc__,
            source_id=(Slug | None, references("sources", "The source quoted; defaults to the bundle's source_id.", default=None)),
        )
    fields: dict[str, Any] = {
        "evidence": (
            list[Citation],
            Field(default_factory=list, description="Quotes of the source that support this record or one of its fields."),
        )
    }
    if "id" in model.primary_key:
        fields["claims"] = (
            list[StatedClaim],
            Field(default_factory=list, description="Where sources disagree about a field: what each states, one claim per field preferred."),
        )
    return create_model(f"{model.__name__}Entry", __base__=model, __doc__=model.__doc__, **fields)


@cache
def bundle_model() -> type[BaseModel]:
    """A JSON file of records: a list per table, and the source its citations quote by default."""
    # A list of a model made at run time: its type is known only then.
    tables: dict[str, Any] = {
        model.table: (
            list[entry_model(model)],  # type: ignore[misc]
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


def schema_file_texts(directory: Path) -> dict[Path, str]:
    """Each schema file's path in ``directory`` and the exact text it holds."""
    return {directory / name: render(document) for name, document in schema_documents().items()}


def write_all(texts: dict[Path, str]) -> None:
    """Write each file, all or none: every text goes to a temporary file beside its path first,
    and only when all are written do they replace the files. Raises CannotWrite, naming the file."""
    temporaries: dict[Path, Path] = {}
    try:
        for path, text in texts.items():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                temporaries[path] = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                temporaries[path].write_text(text, encoding="utf-8", newline="\n")
            except OSError as error:
                raise CannotWrite.because(path, error) from None
        for path, temporary in temporaries.items():
            try:
                os.replace(temporary, path)
            except OSError as error:
                raise CannotWrite.because(path, error) from None
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)


def stale_schema_files(directory: Path) -> list[str]:
    """Names of schema files in ``directory`` that are missing or differ from what the models generate."""
    stale = []
    for name, document in schema_documents().items():
        path = directory / name
        if not file_holds(path, render(document)):
            stale.append(name)
    return stale


def file_holds(path: Path, text: str) -> bool:
    """Whether the file at ``path`` holds ``text`` as UTF-8, with either kind of line ending (a
    checkout may turn them into CRLF); False if it cannot be read as such."""
    try:
        return path.read_bytes().decode("utf-8").replace("\r\n", "\n") == text
    except (OSError, UnicodeDecodeError):  # missing, a folder, unreadable, not UTF-8: not what the models generate either
        return False
