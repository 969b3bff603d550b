"""Policy versions: published through one schema (title and body limits), from the API or a file."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from widget_server.db.queries import policies
from widget_server.domain.errors import Invalid
from widget_server.domain.policytext import policy_sha256, split_title
from widget_server.domain.rows import Row
from widget_server.schemas.loading import load
from widget_server.schemas.merchant import MAX_POLICY_BODY, PolicyCreateSchema
from widget_server.services.sites import site_by_key

KEYSET = policies.KEYSET
# A file longer than this cannot hold a body the schema accepts (UTF-8 takes at most 4 bytes a
# character, and a title line of its own), so it is not read to the end only to be refused.
_MAX_FILE_BYTES = 4 * (MAX_POLICY_BODY + 1000)


async def publish_policy(conn: asyncpg.Connection, site: Row, data: Any) -> asyncpg.Record:
    """`{title, body, language?}` as the site's next version, current at once."""
    values = load(PolicyCreateSchema(), data)
    title, body = values["title"], values["body"]
    return await policies.insert_next(
        conn,
        site["site_id"],
        title=title,
        body=body,
        language=values["language"] or site["default_locale"],
        sha256=policy_sha256(title, body),
    )


async def publish_policy_file(
    conn: asyncpg.Connection,
    site_key: str,
    path: Path,
    *,
    title: str | None = None,
    language: str | None = None,
) -> asyncpg.Record:
    """A Markdown or text file as the site's next version. The title is `title`, else the file's
    first heading (then left out of the body, so the page does not show it twice), else the file
    name. OSError for an unreadable file; Invalid for one the policy rules refuse."""
    site = await site_by_key(conn, site_key)
    raw = await asyncio.to_thread(_read_head, Path(path), _MAX_FILE_BYTES + 1)
    if len(raw) > _MAX_FILE_BYTES:
        raise Invalid({"body": [f"Longer than maximum length {MAX_POLICY_BODY}."]})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid({"body": ["The file is not UTF-8 text."]}) from None
    heading, body = split_title(text)
    if title is not None:
        body = text.strip("\n")
    data: dict[str, Any] = {"title": (title or heading or Path(path).stem).strip(), "body": body}
    if language is not None:
        data["language"] = language
    return await publish_policy(conn, site, data)


def _read_head(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        return f.read(limit)


# A site's policy versions, newest first (a read with no rule of its own).
list_policies = policies.list_page


async def current_policy(conn: asyncpg.Connection, site_id: uuid.UUID) -> asyncpg.Record | None:
    return await policies.current(conn, site_id)


async def all_versions(conn: asyncpg.Connection, site_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every version, newest first."""
    return await policies.all_versions(conn, site_id)
