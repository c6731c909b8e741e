"""The built wheel carries the database and works outside the source tree, offline."""

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    target = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(target), str(ROOT)],
        check=True, capture_output=True,
    )
    (built,) = target.glob("wic_events-*.whl")
    return built


def test_the_wheel_carries_database_data_and_configuration(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("wic_events/wic_events.db", "wic_events/datasette.yaml", "wic_events/data/events/wic-2015.json", "wic_events/data/people.csv"):
        assert needed in names


def test_the_installed_wheel_loads_outside_the_source_tree(wheel, tmp_path):
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
    assert output == [str(site / "wic_events"), "11", "Speech"]
