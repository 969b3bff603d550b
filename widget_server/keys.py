"""Typed application state keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from widget_server.db.pool import Database
    from widget_server.jobs.runtime import JobRunner
    from widget_server.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DB: web.AppKey[Database] = web.AppKey("db")
# A small pool of its own, so slow export downloads can never take the widget's connections.
EXPORT_DB: web.AppKey[Database] = web.AppKey("export_db")
JOBS: web.AppKey[JobRunner] = web.AppKey("jobs")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
