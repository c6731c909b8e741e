"""The built wheel carries the database and works outside the source tree, offline."""

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    target = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(target), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = target.glob("wic_events-*.whl")
    return built


def test_the_wheel_carries_database_data_and_configuration(wheel):
    from wic_events.inputs import input_files

    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("wic_events/wic_events.db", "wic_events/datasette.yaml", "wic_events/data/events/wic-2015.json", "wic_events/data/people.csv"):
        assert needed in names
    # The input files the build reads, and nothing else of data/.
    packed_data = sorted(name.removeprefix("wic_events/data/") for name in names if name.startswith("wic_events/data/"))
    assert packed_data == sorted(path.relative_to(ROOT / "data").as_posix() for path in input_files(ROOT / "data"))
    # The JSON Schema each bundle names, at the path it names it by.
    bundle = "wic_events/data/events/wic-2015.json"
    schema = json.loads(zipfile.ZipFile(wheel).read(bundle))["$schema"]
    assert os.path.normpath(os.path.join(os.path.dirname(bundle), schema)) in names


def test_the_installed_wheel_loads_outside_the_source_tree(wheel, tmp_path, built_db):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], check=True)
    code = (
        "import wic_events, pathlib;"
        "print(pathlib.Path(wic_events.__file__).parent);"
        "print(wic_events.connect().execute('select count(*) from speeches').fetchone()[0]);"
        "print(type(wic_events.speeches()[0]).__name__)"
    )
    environment = {key: value for key, value in os.environ.items() if key != "WIC_EVENTS_DB"}
    environment["PYTHONPATH"] = str(site)
    output = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, check=True).stdout.split()
    with closing(sqlite3.connect(built_db)) as built:  # built from the same data as the wheel's
        speeches = built.execute("SELECT count(*) FROM speeches").fetchone()[0]
    assert output == [str(site / "wic_events"), str(speeches), "Speech"]
    # Installed beside someone else's data/ and datasette.yaml, it still uses its own copies.
    (tmp_path / "data" / "sources").mkdir(parents=True)
    (tmp_path / "datasette.yaml").write_text("{}\n")
    code = (
        "from wic_events.inputs import default_data_dir; from wic_events.site_config import "
        "default_config_path; print(default_data_dir()); print(default_config_path())"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, check=True).stdout.split()
    assert output == [str(site / "wic_events" / "data"), str(site / "wic_events" / "datasette.yaml")]
