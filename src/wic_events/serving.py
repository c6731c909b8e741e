"""Serving the database with Datasette: one port, several uvicorn worker processes.

``serve`` prepares a scratch folder (a link giving the database its public name, Datasette's
inspect file, and a site file naming them with the configuration), then runs uvicorn with
``workers``: uvicorn binds the port once and its supervisor starts, watches and stops the
worker processes. Each worker builds the site with ``application``, through Datasette's
public constructor, so the package's plugin (``datasette_plugin``) and datasette.yaml shape
it exactly as they would ``datasette serve``.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .site_config import DATABASE_NAME, datasette_metadata, default_config_path

SITE_FILE_VARIABLE = "WIC_EVENTS_SITE"
"""Names the site file that ``application`` reads in each worker process."""

WORKER_MEMORY_BYTES = 1 << 30
"""The most heap one server process may take (RLIMIT_DATA; the database file, read through
mmap, is not counted). A request that would need more fails alone, and the process goes on."""


class CannotListen(Exception):
    """The address to serve on is taken, or not this machine's."""


def site_datasette(database: Path, config_file: Path, inspect_data: dict | None = None, secret: str | None = None) -> Any:
    """Datasette as the site runs it: ``database`` (named wic_events.db) immutable, datasette.yaml's
    configuration, the models' metadata, and every action denied that datasette.yaml does not allow."""
    import yaml
    from datasette.app import Datasette

    return Datasette(
        immutables=[str(database)],
        inspect_data=inspect_data,
        config=yaml.safe_load(config_file.read_text(encoding="utf-8")),
        metadata=datasette_metadata(),
        secret=secret,
        default_deny=True,
    )


def application() -> Any:
    """The ASGI application of one server process: the site over the database the site file names."""
    site = json.loads(Path(os.environ[SITE_FILE_VARIABLE]).read_text(encoding="utf-8"))
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard == resource.RLIM_INFINITY or hard > WORKER_MEMORY_BYTES:
        resource.setrlimit(resource.RLIMIT_DATA, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    inspect_data = json.loads(Path(site["inspect_file"]).read_text(encoding="utf-8"))
    # One secret for all processes: what one signs, the others accept.
    return site_datasette(Path(site["database"]), Path(site["config_file"]), inspect_data, site["secret"]).app()


def prepare_site(database: Path, scratch: Path, config_file: Path | None = None) -> Path:
    """Write into ``scratch`` what the server processes read, and return the site file.

    The link gives the database its public name whatever the file is called; with the inspect
    file Datasette shows exact row counts for an immutable database instead of stopping at 10,000.
    """
    linked = scratch / f"{DATABASE_NAME}.db"
    linked.symlink_to(database.resolve())
    inspect_file = scratch / "inspect.json"
    subprocess.run([sys.executable, "-m", "datasette", "inspect", str(linked), "--inspect-file", str(inspect_file)], check=True)
    site_file = scratch / "site.json"
    site = {
        "database": str(linked),
        "inspect_file": str(inspect_file),
        "config_file": str((config_file or default_config_path()).resolve()),
        "secret": secrets.token_hex(32),
    }
    site_file.write_text(json.dumps(site), encoding="utf-8")
    return site_file


def serve(
    database: Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    config_file: Path | None = None,
    processes: int | None = None,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Serve the database in ``processes`` uvicorn workers (default: two a core) on one port, until stopped.

    ``announce`` gets the site's URL once the port answers (with port 0, a free port chosen
    first). Two processes a core, not one: a process leaves its core idle while it hands each
    query to a thread of its own and back, and at 1M events, 8 clients got about three times
    as many table pages (JSON) a second from four processes on two cores as from two.

    Returns 0 when stopped by Ctrl+C or SIGTERM (uvicorn stops its workers); raises
    CannotListen when the address cannot be listened on.
    """
    import uvicorn

    processes = processes or 2 * (os.cpu_count() or 1)
    port = _free_port(host, port)
    with tempfile.TemporaryDirectory(prefix="wic-events-") as scratch:
        site_file = prepare_site(database, Path(scratch), config_file)
        os.environ[SITE_FILE_VARIABLE] = str(site_file)  # the workers inherit it
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        if announce:
            threading.Thread(target=_announce_when_answering, args=(host, port, url, announce), daemon=True).start()
        uvicorn.run(
            "wic_events.serving:application",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            lifespan="on",
            log_level="warning",
            access_log=False,
        )
    return 0


def _free_port(host: str, port: int) -> int:
    """``port``, or for 0 a free one, after checking that it can be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.create_server((host, port), family=family) as probe:
            return probe.getsockname()[1]
    except (OSError, OverflowError) as error:  # OverflowError: a port outside 0-65535
        raise CannotListen(f"cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}") from None


def _announce_when_answering(host: str, port: int, url: str, announce: Callable[[str], None], wait: float = 120.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                announce(url)
                return
        except OSError:
            time.sleep(0.1)
