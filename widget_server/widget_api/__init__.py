"""The widget api routes."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this package's routes on the app."""
