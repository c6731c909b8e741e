"""End to end: 'wic-events serve' in a real process, walked in headless Chromium.

The browser tests need Debian's Chromium at /usr/bin/chromium (never a downloaded one).
Without it they are skipped, except under CI=true, where they fail.
Set WIC_EVENTS_SCREENSHOTS=docs to save screenshots of the key pages there.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from conftest import DATA_DIR, missing_requirement
from test_datasette import hostile_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = os.environ.get("WIC_EVENTS_SCREENSHOTS")
DB = "wic_events"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    """'wic-events serve' on a free port of 127.0.0.1, in its own process group.

    It is given the data the database was built from, so that it finds the file up to date.
    """

    def __init__(self, database: Path, data_dir: Path, log: Path, *options: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.database = database
        command = [
            str(Path(sys.executable).with_name("wic-events")),
            "serve",
            "--db",
            str(database),
            "--data",
            str(data_dir),
            "--port",
            str(self.port),
            *options,
        ]
        with log.open("wb") as output:
            # A session of its own, so that stopping it also stops the datasette process it starts.
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_it_answers()

    def _wait_until_it_answers(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wic-events serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if fetch(f"{self.url}/-/versions.json")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"wic-events serve did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def running(database: Path, data_dir: Path, folder: Path) -> Iterator[Server]:
    server = Server(database, data_dir, folder / "serve.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(built_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from running(built_db, DATA_DIR, tmp_path_factory.mktemp("serve"))


# --- the served process, without a browser ----------------------------------------------


def listening_sockets(port: int) -> list[tuple[str, str]]:
    """The local address and inode of each socket listening on ``port`` (IPv4, from /proc/net/tcp)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, local_port = fields[1].split(":")
        if fields[3] == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
            found.append((".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)), fields[9]))
    return found


def listening_addresses(port: int) -> list[str]:
    return [address for address, _inode in listening_sockets(port)]


def open_sockets(pid: int) -> set[str]:
    """The inodes of the sockets a process has open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except FileNotFoundError:  # the process closed it after the listing: a file or connection, never the listener
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    return inodes


def test_serve_listens_on_localhost_only(server: Server):
    assert listening_addresses(server.port) == ["127.0.0.1"]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def still_running(pids: list[int], within: float) -> list[int]:
    """Those of ``pids`` that have not ended after ``within`` seconds; a loaded machine may take a moment."""
    deadline = time.monotonic() + within
    while (running := [pid for pid in pids if Path(f"/proc/{pid}").exists()]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return running


def test_serve_answers_on_one_port_from_several_processes_and_stops_them_all(built_db: Path, tmp_path: Path):
    server = Server(built_db, DATA_DIR, tmp_path / "serve.log", "--processes", "3")
    try:
        [(_address, inode)] = listening_sockets(server.port)
        started = children(server.process.pid)  # uvicorn's workers, and multiprocessing's resource tracker
        servers = [pid for pid in started if inode in open_sockets(pid)]
        assert len(servers) == 3  # each holds the one listening socket
        for _ in range(12):
            assert fetch(f"{server.url}/{DB}/speeches.json?_size=1")[0] == 200
        server.process.terminate()  # the serving process alone, as kill <pid> does
        server.process.wait(timeout=20)
        assert still_running(started, within=10) == []
    finally:
        server.stop()


def test_serve_says_when_the_port_is_taken(server: Server):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("wic-events")), "serve", "--db", str(server.database), "--data", str(DATA_DIR), "--port", str(server.port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"Error: cannot listen on 127.0.0.1:{server.port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_says_where_it_serves_once_it_listens(server: Server, built_db: Path):
    assert f"Serving {server.database} at http://127.0.0.1:{server.port}/ (Ctrl+C to stop)" in server.log.read_text()
    command = [str(Path(sys.executable).with_name("wic-events")), "serve", "--db", str(built_db), "--data", str(DATA_DIR), "--port", "0", "--processes", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert select.select([process.stdout], [], [], 60)[0], "serve printed nothing within 60 s"
        announced = re.fullmatch(r"Serving .* at (http://127\.0\.0\.1:(\d+)/) \(Ctrl\+C to stop\)\n", process.stdout.readline())
        assert announced and int(announced[2]) != 0
        assert fetch(announced[1] + "-/versions.json")[0] == 200  # the port the system chose
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_served_site_refuses_writes(server: Server):
    status, body = fetch(f"{server.url}/{DB}/people/-/insert", b'{"row": {"id": "intruder", "name": "I", "sort_name": "I"}}')
    assert status == 405 and b"read-only" in body
    status, body = fetch(f"{server.url}/{DB}/-/query.json?sql=select+count(*)+as+n+from+people")
    with closing(sqlite3.connect(server.database)) as connection:
        (people,) = connection.execute("select count(*) from people").fetchone()
    assert status == 200 and f'"n": {people}'.encode() in body


def test_slow_query_is_stopped_while_the_site_keeps_answering(server: Server):
    slow_sql = "with+recursive+n(i)+as+(select+1+union+all+select+i%2B1+from+n+where+i<1000000000)+select+count(*)+from+n"
    outcome = {}

    def slow() -> None:
        started = time.perf_counter()
        outcome["status"], outcome["body"] = fetch(f"{server.url}/{DB}/-/query.json?sql={slow_sql}")
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    # A request the site refuses itself is quick too. (Datasette's own error pages take about a second
    # when the rich package is installed, as the tests' frictionless brings it: it prints a traceback.)
    for path, expected_status in ((f"/{DB}/speeches.json", 200), (f"/{DB}/speeches.json?_facet=nonexistent", 400), ("/-/versions.json", 200)):
        started = time.perf_counter()
        status, _ = fetch(server.url + path)
        assert time.perf_counter() - started < 0.5, path
        assert status == expected_status, path
    thread.join(timeout=15)
    assert outcome["status"] == 400 and b"took too long" in outcome["body"]
    assert outcome["seconds"] < 5


# --- in the browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing_requirement(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser, base_url: str):
    """A page that records every page error, console error, dialog and HTTP status >= 400."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console error: {message.text}"))
    page.on("response", lambda response: response.status >= 400 and problems.append(f"HTTP {response.status}: {response.url}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return context, page, problems


@pytest.fixture
def page(browser, server: Server):
    context, opened, problems = open_page(browser, server.url)
    yield opened
    context.close()
    assert problems == [], problems


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


@pytest.mark.browser
def test_a_new_user_walks_from_search_to_a_disputed_count(page):
    page.goto("/")
    assert page.locator("h1").inner_text() == "wic-events: the World Internet Conference as data"

    # the search box of every page, with a whole other name
    page.fill("#wic-search-q", "习近平")
    page.press("#wic-search-q", "Enter")
    page.wait_for_url("**/-/search?q=*")
    first = page.locator("ol#hits > li").first
    assert first.locator("a").inner_text() == "Xi Jinping" and "习近平" in first.locator(".snippet").inner_text()
    screenshot(page, "search")

    first.locator("a").click()
    page.wait_for_url(f"**/{DB}/people/xi-jinping")
    assert page.locator("h1").inner_text() == "Xi Jinping"
    assert page.locator("td.col-name").inner_text() == "Xi Jinping"
    assert "习近平" in page.locator("#other-names + ul").inner_text()
    assert page.locator("#evidence + ul.evidence li").count() >= 1 and page.locator("#evidence + ul.evidence mark").count() >= 1
    screenshot(page, "person")

    page.click(f"#pointing ~ ul a[href='/{DB}/speeches/wic-2015-xi-jinping-keynote']")
    page.wait_for_url(f"**/{DB}/speeches/wic-2015-xi-jinping-keynote")
    assert page.locator("td.col-kind").inner_text() == "keynote"
    assert page.locator("td.col-speaker_id a").inner_text() == "Xi Jinping"

    # the database page lists the ready-made queries
    page.click(f"nav a[href='/{DB}']")
    page.wait_for_url(f"**/{DB}")
    page.click("#ready-made-queries + dl a:has-text('edition by edition')")
    page.wait_for_url(f"**/{DB}/editions")
    years = page.locator("table.rows-and-columns td.col-year").all_inner_texts()
    assert years == [str(year) for year in range(2014, 2026)]
    screenshot(page, "editions")

    page.goto(f"/{DB}/disputed_facts_by_edition")
    page.click(f"td.col-record_id a[href='/{DB}/counts/wic-2014-countries-and-regions-preview']")
    page.wait_for_url(f"**/{DB}/counts/wic-2014-countries-and-regions-preview")
    claims = page.locator("#disputed ~ ul").first.locator("li").all_inner_texts()
    assert len(claims) == 3 and sum("(preferred)" in claim for claim in claims) == 1
    screenshot(page, "disputed-count")


@pytest.mark.browser
def test_canned_query_with_a_parameter(page):
    page.goto(f"/{DB}/-/queries")
    page.click("text=Speeches at an event, in the order the source reports them")
    page.fill("input[name=event_id]", "wic-2015-opening-ceremony")
    page.click("form.sql input[type=submit]")
    page.wait_for_url("**/speeches_at_event?*event_id=wic-2015-opening-ceremony*")
    speakers = page.locator("table.rows-and-columns td.col-speaker").all_inner_texts()
    assert len(speakers) == 11 and speakers[0] == "Xi Jinping"
    (read_out,) = [row for row in page.locator("table.rows-and-columns tbody tr").all_inner_texts() if "Ban Ki-moon" in row]
    assert "Wu Hongbo" in read_out


@pytest.mark.browser
def test_table_facets_narrow_the_rows(page):
    page.goto(f"/{DB}/speeches")
    facet = page.locator("#facet-delivery_mode")
    assert "read_on_behalf" in facet.inner_text()
    # The column descriptions come first; show the facets and the rows.
    page.locator(".facet-results").evaluate("element => element.scrollIntoView()")
    screenshot(page, "speeches-facets")
    facet.locator("a", has_text="read_on_behalf").click()
    page.wait_for_url("**delivery_mode=read_on_behalf**")
    rows = page.locator("table.rows-and-columns tbody tr")
    assert rows.count() == 9
    assert [row for row in rows.all_inner_texts() if "Wu Hongbo" in row and "Ban Ki-moon" in row]
    assert all("read_on_behalf" in row for row in rows.all_inner_texts())


@pytest.mark.browser
def test_hostile_text_stays_text(browser, data_copy: Path, tmp_path: Path):
    database = hostile_database(data_copy, tmp_path / "hostile.db")
    for server in running(database, data_copy, tmp_path):
        context, page, problems = open_page(browser, server.url)
        page.goto(f"/{DB}/speeches/wic-2015-xi-jinping-keynote")
        speaker = page.locator("td.col-speaker_id")
        assert speaker.locator("a").inner_text().startswith("<script>alert('name')</script>")
        assert page.locator("td script, td img, td b").count() == 0
        # The right-to-left override in the name stays inside its link: the id after it reads left to right.
        assert speaker.locator("em").evaluate("element => getComputedStyle(element).unicodeBidi") == "isolate"
        context.close()
        assert problems == [], problems
