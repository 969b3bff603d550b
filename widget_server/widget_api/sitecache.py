"""Per-process cache of site configurations, dropped on NOTIFY from any process, with a TTL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web
from marshmallow import Schema

from widget_server.db import TRANSIENT_ERRORS, Database, connect
from widget_server.keys import SETTINGS
from widget_server.origins import normalize_origin
from widget_server.queries import policies, sites
from widget_server.schemas.widget import FIELD_TYPES, FieldSpec, build_request_schema
from widget_server.widget_api.state import SITE_CACHE

log = logging.getLogger("widget_server.widget_api.sitecache")
CHANNEL = "widget_site_changed"
SITE_KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_ENTRIES = 10_000
LISTENER_PING_SECONDS = 30.0
LISTENER_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)

Localized = str | Mapping[str, str]


@dataclass(frozen=True)
class Purpose:
    key: str
    label: Localized
    description: Localized
    required: bool


@dataclass(frozen=True)
class FormField:
    spec: FieldSpec
    label: Localized
    options: tuple[tuple[str, Localized], ...]


@dataclass(frozen=True)
class Policy:
    version: int
    title: str
    body: str
    language: str
    sha256: str
    published_at: Any


@dataclass
class Site:
    """What the widget API needs of one enabled site, plus lazily built derived objects."""

    site_id: uuid.UUID
    site_key: str
    name: str
    allowed_origins: frozenset[str]
    default_locale: str
    purposes: tuple[Purpose, ...]
    form_fields: tuple[FormField, ...]
    opt_in_label: Localized | None
    texts: dict[str, dict[str, str]]
    theme: dict[str, Any]
    consent_expiry_days: int
    store_user_agent: bool
    policy: Policy | None
    rendered: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _request_schema: Schema | None = None

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        return tuple(f.spec for f in self.form_fields)

    def request_schema(self) -> Schema:
        if self._request_schema is None:
            self._request_schema = build_request_schema(self.specs)
        return self._request_schema


def _origins(values: Any) -> frozenset[str]:
    out = set()
    for value in values or ():
        with contextlib.suppress(ValueError, TypeError):
            out.add(normalize_origin(value))
    return frozenset(out)


def _localized(value: Any, fallback: str = "") -> Localized:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return fallback


def _form_fields(form: Any) -> tuple[tuple[FormField, ...], Localized | None]:
    """Read the stored form leniently: the merchant API validated it when it was saved."""
    form = form if isinstance(form, Mapping) else {}
    found: list[FormField] = []
    for raw in form.get("fields") or ():
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            continue
        kind = raw.get("type") if raw.get("type") in FIELD_TYPES else "text"
        options: list[tuple[str, Localized]] = []
        for opt in raw.get("options") or ():
            if isinstance(opt, str):
                options.append((opt, opt))
            elif isinstance(opt, Mapping) and isinstance(opt.get("value"), str):
                options.append((opt["value"], _localized(opt.get("label"), opt["value"])))
        max_length = raw.get("max_length")
        spec = FieldSpec(
            name=raw["name"],
            type=str(kind),
            required=bool(raw.get("required", False)),
            max_length=max_length if isinstance(max_length, int) and max_length > 0 else None,
            options=tuple(v for v, _ in options),
        )
        found.append(FormField(spec, _localized(raw.get("label"), raw["name"]), tuple(options)))
    opt_in = form.get("marketing_opt_in")
    label = _localized(opt_in.get("label")) if isinstance(opt_in, Mapping) else None
    return tuple(found), label


def build_site(row: asyncpg.Record, policy: asyncpg.Record | None) -> Site:
    purposes = tuple(
        Purpose(
            key=str(p["key"]),
            label=_localized(p.get("label"), str(p["key"])),
            description=_localized(p.get("description")),
            required=bool(p.get("required", False)),
        )
        for p in (row["purposes"] or ())
        if isinstance(p, Mapping) and isinstance(p.get("key"), str)
    )
    if not any(p.key == "necessary" for p in purposes):
        # The contract promises `necessary` in every config.
        purposes = (Purpose("necessary", "Necessary", "", True), *purposes)
    form_fields, opt_in_label = _form_fields(row["form"])
    texts = row["texts"] if isinstance(row["texts"], dict) else {}
    return Site(
        site_id=row["site_id"],
        site_key=row["site_key"],
        name=row["name"],
        allowed_origins=_origins(row["allowed_origins"]),
        default_locale=row["default_locale"],
        purposes=purposes,
        form_fields=form_fields,
        opt_in_label=opt_in_label,
        texts={k: v for k, v in texts.items() if isinstance(v, dict)},
        theme=row["theme"] if isinstance(row["theme"], dict) else {},
        consent_expiry_days=row["consent_expiry_days"],
        store_user_agent=row["store_user_agent"],
        policy=Policy(**{k: policy[k] for k in Policy.__dataclass_fields__}) if policy else None,
    )


class SiteCache:
    """site_key -> Site (or None for unknown/disabled), fresh for `ttl` seconds or until notified."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Site | None]] = {}
        self._loading: dict[str, asyncio.Task[Site | None]] = {}
        self._generation = 0

    async def get(self, db: Database, site_key: str) -> Site | None:
        if not SITE_KEY_FORMAT.fullmatch(site_key):
            return None
        hit = self._entries.get(site_key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        task = self._loading.get(site_key)
        if task is None:
            # Many visitors asking at once for a cold site cost one query, not one each; the load
            # runs as its own task so that one impatient client cannot cancel it for the others.
            task = asyncio.create_task(self._load_and_keep(db, site_key))
            self._loading[site_key] = task
            task.add_done_callback(lambda t: self._done(site_key, t))
        return await asyncio.shield(task)

    def _done(self, site_key: str, task: asyncio.Task[Site | None]) -> None:
        if self._loading.get(site_key) is task:
            del self._loading[site_key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a load nobody waits for any more logs nothing

    async def _load_and_keep(self, db: Database, site_key: str) -> Site | None:
        generation = self._generation
        site = await self._load(db, site_key)
        # A change notified while we were reading may not be in what we read: do not keep it.
        if generation == self._generation:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[site_key] = (self._clock() + self.ttl, site)
        return site

    async def _load(self, db: Database, site_key: str) -> Site | None:
        async with db.connection() as conn:
            row = await sites.get_site_by_key(conn, site_key)
            if row is None or row["disabled_at"] is not None:
                return None
            policy = await policies.current(conn, row["site_id"])
        return build_site(row, policy)

    def invalidate(self, site_key: str) -> None:
        self._generation += 1
        self._entries.pop(site_key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


async def _listen(dsn: str, cache: SiteCache, ready: asyncio.Event) -> None:
    """Hold a LISTEN connection; reconnect with backoff; forget everything after a gap."""
    delay = 0.5
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await connect(dsn)
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
            await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, key: cache.invalidate(str(key)))
            cache.clear()  # notifications sent while we were not listening are gone
            ready.set()
            delay = 0.5
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), LISTENER_PING_SECONDS)
                if not lost.is_set():
                    # A silently dead TCP connection never terminates; a query finds out.
                    await conn.execute("SELECT 1", timeout=5)
        except LISTENER_ERRORS:
            log.warning("site change listener lost its connection; retrying in %.1fs", delay)
        finally:
            ready.set()
            if conn is not None and not conn.is_closed():
                conn.terminate()
        cache.clear()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)


async def listen_for_changes(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: start the listener and wait (briefly) for its first connection."""
    settings = app[SETTINGS]
    if settings.database_url is None:
        yield
        return
    ready = asyncio.Event()
    task = asyncio.create_task(_listen(settings.database_url.reveal(), app[SITE_CACHE], ready))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ready.wait(), settings.db_acquire_timeout)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
