"""One table entry per merchant API operation: what routes are registered from and documented by."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from marshmallow import Schema

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READ_METHODS = frozenset({"GET", "HEAD"})
# A placeholder must not take a sibling's literal segment: `/requests/export` is no request id
# (else a 405 there would advertise the methods of `/requests/{request_id}` in its Allow header).
ROUTE_PATTERNS = {"{request_id}": "{request_id:(?!export$)[^/]+}"}


@dataclass(frozen=True)
class Operation:
    """A route with everything its OpenAPI entry needs; handlers stay plain aiohttp handlers."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    status: int = 200
    response: type[Schema] | None = None
    # A Schema instance (e.g. partial=True for PATCH) documents a variant of a class.
    body: type[Schema] | Schema | None = None
    query: type[Schema] | None = None
    # Media types of the success answer, when it is not JSON (exports).
    media: tuple[str, ...] = ("application/json",)
    description: str = ""
    public: bool = False

    @property
    def route_path(self) -> str:
        """The path as the router matches it; `path` is the one documented."""
        path = self.path
        for placeholder, pattern in ROUTE_PATTERNS.items():
            path = path.replace(placeholder, pattern)
        return path

    @property
    def writes(self) -> bool:
        return self.method not in READ_METHODS

    @property
    def operation_id(self) -> str:
        """`list_sites` -> `listSites`."""
        head, *rest = self.handler.__name__.split("_")
        return head + "".join(part.title() for part in rest)
