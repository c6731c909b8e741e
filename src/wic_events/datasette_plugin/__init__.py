"""The package's Datasette plugin: what the public site does beyond its configuration.

Registered through the ``datasette`` entry point, so any Datasette in the environment loads
it; it acts only where datasette.yaml configures it (``plugins: wic-events:``), with the
bounds of ``site_config.SITE_BOUNDS``. Everything here goes through Datasette's plugin
hooks; nothing of Datasette or SQLite is changed at run time.

Anyone who reaches the site may run read-only SQL, so every served connection and every
response is bounded:

* each connection: no value longer than ``max_value_bytes`` (SQLite's length limit), no
  ``randomblob``/``zeroblob`` larger than ``max_blob_bytes``, no ``printf``/``format`` width
  or precision above ``max_printf_width``, no ``fts3_tokenizer`` (it hands out and takes
  memory addresses); the time limit is Datasette's own ``sql_time_limit_ms``;
* each request: at most ``max_facets`` facets, only GET and HEAD, and a response of at most
  ``max_response_bytes`` sent at once; a request that asks for more gets a 400 (or 405)
  with a message, as does a facet or sort over a column that does not exist;
* each response: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and a
  Content-Security-Policy that Datasette's own pages satisfy.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from datasette import Forbidden, Response, hookimpl
from datasette.facets import ColumnFacet
from datasette.resources import DatabaseResource
from datasette.utils import tilde_decode
from markupsafe import Markup

from ..loader import SEARCH_RULES, full_text_query
from ..models import MODELS_BY_TABLE, reference_fields
from ..site_config import CANNED_QUERIES, DATABASE_NAME, PLUGIN_NAME, RECORD_PARAMETERS
from .pages import record_choices, record_page, row_url, search_hits

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    # Datasette's pages carry inline scripts and styles, and the bidi rule is a data: style sheet.
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline' data:; "
        b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
]


def bounds(datasette: Any) -> dict[str, int] | None:
    """The site's bounds from datasette.yaml, or None where the plugin is not configured."""
    return datasette.plugin_config(PLUGIN_NAME)


class TooBig(OverflowError):
    """Raised by the functions below for a value over the site's bounds: Python's sqlite3 reports an
    OverflowError of a function as SQLite's own 'string or blob too big'."""


class NotAvailable(Exception):
    """Raised by a function the site refuses (SQLite reports 'user-defined function raised exception')."""


# Last, so that the escape_fts below replaces the one Datasette registers.
@hookimpl(trylast=True)
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    limits = bounds(datasette)
    if limits is None:
        return
    # A table's search box goes through escape_fts(). Datasette's turns a lone quote into an empty
    # FTS5 query, a syntax error; this one searches as the loader and the site's search page do.
    conn.create_function("escape_fts", 1, _escaped_search, deterministic=True)
    conn.execute(f"PRAGMA mmap_size = {int(limits['mmap_bytes'])}").fetchall()
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits["max_value_bytes"])
    largest_blob, widest = limits["max_blob_bytes"], limits["max_printf_width"]
    conn.create_function("randomblob", 1, _bounded_blob(largest_blob, random=True))
    conn.create_function("zeroblob", 1, _bounded_blob(largest_blob, random=False))
    for name in ("printf", "format"):
        conn.create_function(name, -1, _bounded_printf(widest, limits["max_value_bytes"]), deterministic=True)
    for arguments in (1, 2):  # SQLite prefers a function of the exact number of arguments to one of any
        conn.create_function("fts3_tokenizer", arguments, _refused("fts3_tokenizer"))


def _escaped_search(text: Any) -> str:
    # A query with no words is a string holding nothing, which matches no row (an empty one is an error).
    return full_text_query(str(text or "")) or '""'


def _bounded_blob(largest: int, random: bool) -> Callable[[Any], bytes]:
    def blob(size: Any) -> bytes:
        size = max(int(size or 0), 0)
        if size > largest:
            raise TooBig(f"blobs are limited to {largest} bytes here")
        return os.urandom(max(size, 1)) if random else bytes(size)

    return blob


def _refused(name: str) -> Callable[..., None]:
    def refuse(*arguments: Any) -> None:
        raise NotAvailable(f"{name}() is not available on this site")

    return refuse


# A conversion of SQLite's printf: flags, then a width and a precision, each digits or '*'.
_PRINTF_SPEC = re.compile(r"%([-+ 0#,!]*)(\*|[0-9]+)?(?:\.(\*|[0-9]+))?(l{0,2})([a-zA-Z%])")
_genuine = threading.local()


def _bounded_printf(widest: int, longest: int) -> Callable[..., Any]:
    """printf() and format() as SQLite has them, refusing widths and precisions above ``widest``.

    The checked call is passed on to SQLite's own printf, on a private in-memory connection
    of this thread, which the overrides do not touch.
    """

    def printf(template: Any = None, *arguments: Any) -> Any:
        if isinstance(template, str):
            remaining = list(arguments)
            for spec in _PRINTF_SPEC.finditer(template):
                for part in spec.group(2, 3):
                    if part == "*":
                        value = remaining.pop(0) if remaining else 0
                        size = abs(int(value)) if isinstance(value, (int, float)) else 0
                    else:
                        size = int(part) if part else 0
                    if size > widest:
                        raise TooBig(f"printf widths and precisions are limited to {widest} here")
                if spec.group(5) != "%" and remaining:
                    remaining.pop(0)
        connection = getattr(_genuine, "connection", None)
        if connection is None:
            connection = _genuine.connection = sqlite3.connect(":memory:")
            connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, longest)
        placeholders = ", ".join("?" * (len(arguments) + 1))
        return connection.execute(f"SELECT printf({placeholders})", (template, *arguments)).fetchone()[0]

    return printf


# --- facets --------------------------------------------------------------------------

FACET_CACHE_SIZE = 512


class _CountingOnce:
    """Stands for the Datasette instance inside a CountedOnceFacet: keeps the results of its
    queries over an immutable database, by their SQL; everything else goes to Datasette."""

    def __init__(self, datasette: Any, cache: OrderedDict[tuple, Any]):
        self._datasette = datasette
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datasette, name)

    async def execute(self, database: str, sql: str, params: Any = None, **kwargs: Any) -> Any:
        key = (database, sql, json.dumps(params, sort_keys=True, default=str), tuple(sorted(kwargs.items())))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        results = await self._datasette.execute(database, sql, params, **kwargs)
        self._cache[key] = results
        if len(self._cache) > FACET_CACHE_SIZE:
            self._cache.popitem(last=False)
        return results


_facet_counts: weakref.WeakKeyDictionary[Any, OrderedDict[tuple, Any]] = weakref.WeakKeyDictionary()
"""The kept counts of each Datasette instance: one site's never answer for another's."""


class CountedOnceFacet(ColumnFacet):
    """A column facet whose counts over an immutable database are counted once, then kept.

    A facet counts the rows of each value: at a million rows even a column with a few values
    (events.kind, participants.role) takes 50-150 ms of SQLite for every table page. The file
    is served immutable, so the same query always gives the same counts; the most recent
    FACET_CACHE_SIZE results of each Datasette instance are kept. Only the counting query is
    cached: labels and links are made for each request. A query cut off by
    facet_time_limit_ms raises, and is not kept. Configured in datasette.yaml as
    ``facets: [{counted_once: column}]``.
    """

    type = "counted_once"
    ds: Any

    async def facet_results(self) -> Any:
        served = self.ds.databases.get(self.database)
        if served is not None and not served.is_mutable:
            self.ds = _CountingOnce(self.ds, _facet_counts.setdefault(self.ds, OrderedDict()))
        return await super().facet_results()


@hookimpl
def register_facet_classes() -> list[type]:
    return [CountedOnceFacet]


# --- the site's own pages --------------------------------------------------------------

MAX_SEARCH_CHARACTERS = 500


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Callable[..., Awaitable[Response]]]]:
    if bounds(datasette) is None:
        return []
    return [(r"^/-/search(?P<as_json>\.json)?$", search_page)]


async def search_page(datasette: Any, request: Any) -> Response:
    """One search over every table, best matches first: the loader's ``search``, shown as links,
    or as JSON at /-/search.json (each hit's table, key, label, url and snippet)."""
    if not await datasette.allowed(action="view-database", resource=DatabaseResource(database=DATABASE_NAME), actor=request.actor):
        raise Forbidden("you may not view this database")
    query = request.args.get("q", "").strip()
    if len(query) > MAX_SEARCH_CHARACTERS:
        return Response.text(f"Error 400: a search may be at most {MAX_SEARCH_CHARACTERS} characters long\n", status=400)
    hits = await datasette.get_database(DATABASE_NAME).execute_fn(lambda connection: search_hits(connection, query)) if query else []
    if request.url_vars.get("as_json"):
        return Response.json({"query": query, "rules": SEARCH_RULES, "hits": [hit.as_json() for hit in hits]})
    context = {"query": query, "hits": hits, "searched": bool(query), "search_rules": SEARCH_RULES}
    return Response.html(await datasette.render_template("wic_events_search.html", context, request=request))


@hookimpl
def extra_template_vars(database: str | None, table: str | None, view_name: str, request: Any, datasette: Any) -> Any:
    if bounds(datasette) is None:
        return None
    site = {"wic_events_search": "/-/search", "wic_events_search_rules": SEARCH_RULES}
    if view_name != "row" or database != DATABASE_NAME or table is None or request is None or "pks" not in request.url_vars:
        return site
    key_values = [tilde_decode(part) for part in request.url_vars["pks"].split(",")]

    async def with_record() -> dict[str, Any]:
        found = await datasette.get_database(database).execute_fn(lambda connection: record_page(connection, table, key_values))
        return {**site, "wic_record": found}

    return with_record


@hookimpl
def top_database(datasette: Any, request: Any, database: str) -> Any:
    if database != DATABASE_NAME or bounds(datasette) is None:
        return None
    # Datasette's own list further down shows five queries and no descriptions.
    return datasette.render_template("_wic_events_queries.html", {"database": database, "queries": CANNED_QUERIES}, request=request)


@hookimpl
def top_stored_query(datasette: Any, request: Any, database: str, query_name: str) -> Any:
    if database != DATABASE_NAME or bounds(datasette) is None or query_name not in RECORD_PARAMETERS:
        return None
    parameter, table = RECORD_PARAMETERS[query_name]
    given = request.args.get(parameter, "").strip()
    if not given:
        return None

    async def nothing_matched() -> str | None:
        choices = await datasette.get_database(database).execute_fn(lambda connection: record_choices(connection, table, given))
        if choices is None:
            return None
        context = {"database": database, "query_name": query_name, "parameter": parameter, "table": table, "given": given, "choices": choices}
        return await datasette.render_template("_wic_events_no_match.html", context, request=request)

    return nothing_matched


_WIKIDATA_ID = re.compile(r"^Q[1-9][0-9]*$")


def _linked_columns() -> dict[str, str]:
    targets: dict[str, set[str]] = {}
    for model in MODELS_BY_TABLE.values():
        for column, table in reference_fields(model).items():
            targets.setdefault(column, set()).add(table)
    return {column: tables.pop() for column, tables in targets.items() if len(tables) == 1}


LINKED_COLUMNS = _linked_columns()
"""Columns of query results whose ids link to a row: those that name one table wherever they appear."""
_TABLE_COLUMNS = {"record_id": "record_table", "entity_id": "entity_table", "id": "in_table"}
"""Id columns whose table is named by another column of the same row."""


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if database != DATABASE_NAME or not isinstance(value, str) or bounds(datasette) is None:
        return None
    if column == "wikidata_id" and _WIKIDATA_ID.match(value):
        return Markup('<a href="https://www.wikidata.org/wiki/{0}">{0}</a>').format(value)
    if table is not None:
        return None  # a table page links its own foreign keys
    target = LINKED_COLUMNS.get(column)
    named_by = _TABLE_COLUMNS.get(column)
    if target is None and named_by is not None and named_by in row.keys():
        target = row[named_by]
    if target in MODELS_BY_TABLE and MODELS_BY_TABLE[target].primary_key == ("id",):
        return Markup('<a href="{}">{}</a>').format(row_url(target, [value]), value)
    return None


# --- requests and responses ------------------------------------------------------------


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def bounded(scope: Scope, receive: Any, send: Any) -> None:
            limits = bounds(datasette)
            if scope["type"] != "http" or limits is None:
                await app(scope, receive, send)
                return
            refusal = await _refusal(datasette, scope, limits)
            if refusal is not None:
                status, message = refusal
                await _send_error(scope, send, status, message)
                return
            await app(scope, receive, _bounded_send(scope, send, limits["max_response_bytes"]))

        return bounded

    return wrap


_TABLE_PATH = re.compile(r"^/([^/]+)/([^/.]+)(?:\.[a-z]+)?$")
_COLUMN_PARAMETERS = ("_facet", "_facet_date", "_facet_array", "_facet_counted_once", "_sort", "_sort_desc")


async def _refusal(datasette: Any, scope: Scope, limits: dict[str, int]) -> tuple[int, str] | None:
    """The status and message for a request this site does not answer, or None."""
    if scope["method"] not in ("GET", "HEAD"):
        return 405, "this site is read-only: it answers GET and HEAD requests only"
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    facets = sum(1 for key, _ in pairs if key == "_facet" or key.startswith("_facet_") and key != "_facet_size")
    if facets > limits["max_facets"]:
        return 400, f"{facets} facets asked for; a request may ask for at most {limits['max_facets']}"
    named = [(key, value) for key, value in pairs if key in _COLUMN_PARAMETERS]
    match = _TABLE_PATH.match(scope.get("path", ""))
    if not named or match is None or match[1] not in datasette.databases:
        return None
    database = datasette.databases[match[1]]
    table = match[2]
    if not await database.table_exists(table) and table not in await database.view_names():
        return None  # Datasette says so itself
    columns = await database.table_columns(table)
    for key, value in named:
        column = _named_column(value)
        if column is None:
            return 400, f"{key}: {value!r} names no column; give a column name or a JSON object with a 'column'"
        if column not in columns:
            return 400, f"{key}: {table} has no column {column!r}; its columns: {', '.join(columns)}"
        if key == "_facet_array" and column not in _JSON_LIST_COLUMNS.get(table, ()):
            lists = ", ".join(_JSON_LIST_COLUMNS.get(table, ())) or "none"
            return 400, f"_facet_array: {table}.{column} does not hold JSON lists; those that do: {lists}"
    return None


def _named_column(value: str) -> str | None:
    """The column a facet or sort parameter names: itself, or a facet's JSON 'column' or 'simple'."""
    if not value.startswith("{"):
        return value
    try:
        config = json.loads(value)
    except ValueError:
        return None
    return (config.get("column") or config.get("simple")) if isinstance(config, dict) else None


def _json_list_columns() -> dict[str, tuple[str, ...]]:
    found = {}
    for table, model in MODELS_BY_TABLE.items():
        names = tuple(name for name, info in model.model_fields.items() if getattr(info.annotation, "__origin__", None) is list)
        if names:
            found[table] = names
    return found


_JSON_LIST_COLUMNS = _json_list_columns()
"""The columns whose values are JSON lists, the only ones an array facet can count."""


def _bounded_send(scope: Scope, send: Callable[[dict], Awaitable[None]], largest: int) -> Callable[[dict], Awaitable[None]]:
    """``send`` with the security headers added, and a response body sent at once refused past ``largest`` bytes."""
    held: dict | None = None  # the response's start, until its first part is seen
    sent = 0

    async def bounded_send(message: dict) -> None:
        nonlocal held, sent
        if message["type"] == "http.response.start":
            held = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            return
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            sent += len(body)
            if held is not None:
                start, held = held, None
                if sent > largest and not message.get("more_body", False):
                    megabytes = largest // 2**20
                    await _send_error(
                        scope,
                        send,
                        400,
                        f"the response would be {sent / 2**20:.0f} MB; this site sends at most {megabytes} MB at once: ask for fewer rows or columns",
                    )
                    return
                await send(start)
            elif sent > largest * 20:
                raise ConnectionAbortedError("a streamed response grew past the site's bound")
        await send(message)

    return bounded_send


async def _send_error(scope: Scope, send: Callable[[dict], Awaitable[None]], status: int, message: str) -> None:
    """An error as Datasette words its own: JSON for a .json path, plain text otherwise."""
    if scope.get("path", "").endswith(".json"):
        response = Response.json({"ok": False, "error": message, "errors": [message], "status": status}, status=status)
    else:
        response = Response.text(f"Error {status}: {message}\n", status=status)
    await response.asgi_send(_with_headers(send))


def _with_headers(send: Callable[[dict], Awaitable[None]]) -> Callable[[dict], Awaitable[None]]:
    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
        await send(message)

    return sending


# --- errors caused by a request --------------------------------------------------------

_REQUEST_ERRORS = (sqlite3.OperationalError, sqlite3.DataError, json.JSONDecodeError)
"""Errors a visitor's parameters cause in Datasette's pages: a facet or a sort over a column that
does not exist (no such column), a malformed facet in JSON, a value too big. Datasette answers them
with a 500, as if the site were broken."""


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    if bounds(datasette) is None or not isinstance(exception, _REQUEST_ERRORS):
        return None

    async def inner() -> Response:
        message = str(exception)
        if request.path.endswith(".json"):
            return Response.json({"ok": False, "error": message, "errors": [message], "status": 400}, status=400)
        page = await datasette.render_template("error.html", {"ok": False, "error": message, "status": 400, "title": None}, request=request)
        return Response.html(page, status=400)

    return inner
