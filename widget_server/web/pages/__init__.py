"""Public HTML pages: policies, unsubscribe and confirmation; every value escaped."""

from __future__ import annotations

from widget_server.web.pages import policy, unsubscribe
from widget_server.web.routes import Route

ROUTES: tuple[Route, ...] = (*policy.ROUTES, *unsubscribe.ROUTES)
