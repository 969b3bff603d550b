"""Public HTML pages: policies and one-click unsubscribe."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the public pages."""
