"""What the CLI's `policy publish` and `consent verify` do, on a plain connection."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import asyncpg

from widget_server import receipts
from widget_server.queries import consents, policies, sites

_ATX_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
MAX_POLICY_BYTES = 1024 * 1024


def split_title(text: str) -> tuple[str | None, str]:
    """The first Markdown heading (when it opens the file) and the rest as the body."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines):
        atx = _ATX_HEADING.fullmatch(lines[i])
        if atx:
            return atx.group(1).strip(), "\n".join(lines[i + 1 :]).strip("\n")
        if i + 1 < len(lines) and lines[i].strip() and _SETEXT_UNDERLINE.fullmatch(lines[i + 1]):
            return lines[i].strip(), "\n".join(lines[i + 2 :]).strip("\n")
    return None, text.strip("\n")


async def publish_policy_file(
    conn: asyncpg.Connection,
    site_key: str,
    path: Path,
    title: str | None = None,
    language: str | None = None,
) -> asyncpg.Record:
    """Publish a Markdown or text file as the site's next policy version.

    The title is `title`, else the file's first heading (then left out of the body, so the
    page does not show it twice), else the file name without its suffix. LookupError for an
    unknown site, OSError for an unreadable file, ValueError for an empty or non-UTF-8 one.
    """
    site = await sites.get_site_by_key(conn, site_key)
    if site is None:
        raise LookupError(f"no site with key {site_key!r}")
    raw = await asyncio.to_thread(Path(path).read_bytes)
    if len(raw) > MAX_POLICY_BYTES:
        raise ValueError(f"{path}: larger than {MAX_POLICY_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    heading, body = split_title(text)
    if title is not None:
        body = text.strip("\n")
    chosen = (title or heading or Path(path).stem).strip()
    if not body.strip():
        raise ValueError(f"{path}: the policy text is empty")
    if not chosen:
        raise ValueError("the policy needs a title")
    return await policies.publish(
        conn,
        site["site_id"],
        title=chosen,
        body=body,
        language=language or site["default_locale"],
    )


async def verify_consent(
    conn: asyncpg.Connection, secret: str, record_id: uuid.UUID
) -> tuple[bool, asyncpg.Record | None]:
    """(receipt matches, the record); (False, None) when there is no such record."""
    record = await consents.get_record(conn, record_id)
    if record is None:
        return False, None
    return receipts.verify(secret, dict(record.items())), record
