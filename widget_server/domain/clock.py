"""The server's clock and the one time format the service writes."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """UTC now, to the microsecond Postgres keeps, so receipts survive a round trip."""
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a `Z`, microseconds included."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
