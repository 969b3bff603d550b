"""The two middlewares every request passes: request id and access log, then errors as problem+json."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from widget_server.db.pool import TRANSIENT_ERRORS
from widget_server.domain.errors import DomainError
from widget_server.keys import REQUEST_ID
from widget_server.runtime import logs
from widget_server.web.problems import ProblemError, from_domain, from_error, problem_response

log = logging.getLogger("widget_server.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_FORMAT = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id in and out, and one access-log line, whatever happens below."""
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if REQUEST_ID_FORMAT.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        route = request.match_info.route.resource
        template = route.canonical if route is not None else "(unmatched)"
        logs.access(
            request.method, template, status, (time.perf_counter() - started) * 1000, request_id
        )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as problem+json; nothing internal reaches the client."""
    try:
        return await handler(request)
    except ProblemError as exc:
        return from_error(exc)
    except DomainError as exc:
        return from_error(from_domain(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        detail = _http_detail(exc)
        return problem_response(exc.status, detail, headers=headers)
    except asyncpg.exceptions.QueryCanceledError:
        log.warning("database query timed out on %s", request.path)
        return problem_response(
            503, "The database did not answer in time.", headers={"Retry-After": "5"}
        )
    except TRANSIENT_ERRORS:
        log.warning("database unreachable on %s", request.path, exc_info=True)
        return problem_response(503, "The database is unreachable.", headers={"Retry-After": "5"})
    except asyncpg.exceptions.PostgresConnectionError:
        return problem_response(503, "The database is unreachable.", headers={"Retry-After": "5"})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "An internal error occurred; it has been logged.")


def _http_detail(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "There is nothing at this address."
    if exc.status == 405:
        return f"This address does not accept {exc.method if isinstance(exc, web.HTTPMethodNotAllowed) else 'this method'}."
    if exc.status == 413:
        return "The body is too large."
    text = exc.text or exc.reason
    # aiohttp's own texts are like "404: Not Found"; they carry no internals.
    return text.split(": ", 1)[-1][:300]
