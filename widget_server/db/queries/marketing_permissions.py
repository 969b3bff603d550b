"""SQL for marketing permissions: granted by a ticked form box, withdrawn by unsubscribe links."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

COLUMNS = """site_id, email, contact_id, status, source_request_id, source_record_id,
    granted_at, opted_out_at, opt_out_source, updated_at"""


async def grant(
    conn: asyncpg.Connection,
    *,
    site_id: uuid.UUID,
    email: str,
    request_id: uuid.UUID,
    record_id: uuid.UUID,
    at: dt.datetime,
) -> asyncpg.Record:
    """Record an explicit opt-in. It also re-grants after an opt-out: the new request and consent
    record become the source, and opted_out_at stays as the history of the earlier opt-out."""
    row = await conn.fetchrow(
        f"""INSERT INTO marketing_permissions (site_id, email, contact_id, status,
                source_request_id, source_record_id, granted_at, updated_at)
            VALUES ($1, $2, $3, 'granted', $4, $5, $6, $6)
            ON CONFLICT (site_id, email) DO UPDATE SET
                status = 'granted',
                source_request_id = EXCLUDED.source_request_id,
                source_record_id = EXCLUDED.source_record_id,
                granted_at = EXCLUDED.granted_at,
                updated_at = EXCLUDED.updated_at
            RETURNING {COLUMNS}""",
        site_id,
        email,
        uuid.uuid4(),
        request_id,
        record_id,
        at,
    )
    assert row is not None
    return row


async def by_contact(
    conn: asyncpg.Connection, site_id: uuid.UUID, contact_id: uuid.UUID
) -> asyncpg.Record | None:
    """The permission with its site's name and locale (what an unsubscribe page shows)."""
    return await conn.fetchrow(
        """SELECT p.site_id, p.email, p.contact_id, p.status, p.source_request_id,
                  p.source_record_id, p.granted_at, p.opted_out_at, p.opt_out_source, p.updated_at,
                  s.name AS site_name, s.default_locale
           FROM marketing_permissions p JOIN sites s ON s.site_id = p.site_id
           WHERE p.site_id = $1 AND p.contact_id = $2""",
        site_id,
        contact_id,
    )


async def opt_out_contact(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    source: str,
    at: dt.datetime,
) -> asyncpg.Record | None:
    """Opt out; a second opt-out keeps the first one's time and source. None if no such contact."""
    await conn.execute(
        """UPDATE marketing_permissions
           SET status = 'opted_out', opted_out_at = $3, opt_out_source = $4, updated_at = $3
           WHERE site_id = $1 AND contact_id = $2 AND status <> 'opted_out'""",
        site_id,
        contact_id,
        at,
        source,
    )
    return await by_contact(conn, site_id, contact_id)
