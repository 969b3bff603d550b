"""Request body parsing shared by both APIs: size limit, content type, malformed JSON."""

from __future__ import annotations

import functools
import gzip
import json
from typing import Any

import brotli
from aiohttp import web

from widget_server.web.problems import ProblemError

WIDGET_BODY_LIMIT = 64 * 1024
MERCHANT_BODY_LIMIT = 1024 * 1024


async def read_json(request: web.Request, *, limit: int, allow_text_plain: bool = False) -> Any:
    """The parsed JSON body; problem errors for a wrong type (415), too large (413), malformed (400)."""
    ctype = request.content_type
    allowed = ctype == "application/json" or (allow_text_plain and ctype == "text/plain")
    if not allowed:
        accepted = "application/json" + (" or text/plain carrying JSON" if allow_text_plain else "")
        raise ProblemError(415, f"Send the body as {accepted} (got {ctype or 'no content type'}).")
    if request.content_length is not None and request.content_length > limit:
        raise ProblemError(413, f"The body is larger than {limit} bytes.")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(16384):
        raw += chunk
        if len(raw) > limit:
            raise ProblemError(413, f"The body is larger than {limit} bytes.")
    charset = request.charset or "utf-8"
    try:
        text = bytes(raw).decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise ProblemError(400, "The body is not valid UTF-8 text.") from None
    if not text.strip():
        raise ProblemError(400, "The body is empty; a JSON object was expected.")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ProblemError(400, f"The body is not valid JSON: {_short(exc)}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _short(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text[:200]


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = (t.strip().removeprefix("W/") for t in if_none_match.split(","))
    return etag in tags


def preferred_coding(accept_encoding: str) -> str | None:
    """ "br", then "gzip", when an Accept-Encoding header offers them; None for identity."""
    offered = _codings(accept_encoding)
    return next((c for c in ("br", "gzip") if c in offered), None)


def _codings(header: str) -> set[str]:
    names = set()
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip()
        if q.startswith("q=") and _zero(q[2:]):
            continue
        if name:
            names.add(name.strip())
    return names


def _zero(value: str) -> bool:
    try:
        return float(value) == 0
    except ValueError:
        return False


@functools.lru_cache(maxsize=1024)
def compressed(body: bytes, coding: str) -> bytes:
    """A body in a content coding ("br" or "gzip"), made once per distinct body."""
    if coding == "br":
        return bytes(brotli.compress(body, quality=11))
    return gzip.compress(body, compresslevel=9, mtime=0)
