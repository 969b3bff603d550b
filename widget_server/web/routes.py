"""The route table's entry: one declaration per route drives both the router and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from marshmallow import Schema

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Who may call: anyone (`public`), a visitor's browser for one site (`widget`: the handler also
# gets the site, and CORS follows the site's origins), or a merchant key (`key`).
Access = Literal["public", "widget", "key"]
SchemaRef = type[Schema] | Schema
JSON = "application/json"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A placeholder must not take a sibling's literal segment: `/requests/export` is no request id
# (else a 405 there would advertise the methods of `/requests/{request_id}` in its Allow header).
ROUTE_PATTERNS = {
    "{request_id}": "{request_id:(?!export$)[^/]+}",
    "{version}": "{version:[0-9]{1,9}}",
    "{hash}": "{hash:[0-9a-f]+}",
}


@dataclass(frozen=True)
class Route:
    """A route with everything its OpenAPI entry needs."""

    method: str
    path: str
    handler: Callable[..., Awaitable[web.StreamResponse]]
    summary: str
    tag: str
    access: Access = "key"
    status: int = 200
    # The success answer's body: a schema (JSON), or the media types of a non-JSON body.
    response: SchemaRef | None = None
    media: tuple[str, ...] = (JSON,)
    body: SchemaRef | None = None
    body_media: tuple[str, ...] = (JSON,)
    query: type[Schema] | None = None
    # Other documented answers, as OpenAPI response objects by status (304, a second 2xx, ...).
    responses: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    # Error statuses beyond those the access, path, query and body already imply.
    errors: frozenset[int] = frozenset()
    description: str = ""
    operation_name: str | None = None
    # aiohttp-cors answers this path's OPTIONS preflights (documented, registered by it).
    cors_preflight: bool = False

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
        head, *rest = (self.operation_name or self.handler.__name__).split("_")
        return head + "".join(part.title() for part in rest)
