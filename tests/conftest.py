"""Shared fixtures: the repository's data, a database built from it, and scratch copies to break."""

from __future__ import annotations

import os
import shutil
from contextlib import closing
from pathlib import Path

import pytest

from wic_events.compiling import build

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_requirement(message: str) -> None:
    """Skip a test whose requirement is missing here, but fail it in CI, where nothing may be skipped."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's data/ compiled once per test session."""
    path = tmp_path_factory.mktemp("built") / "wic_events.db"
    build(DATA_DIR, path)
    return path


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of data/ that a test may change."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture
def connection(built_db: Path):
    from wic_events import connect

    with closing(connect(built_db)) as opened:
        yield opened
