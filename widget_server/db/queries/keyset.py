"""Building blocks every list query shares: a WHERE builder, time windows, keyset pagination."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg


@dataclass
class Where:
    """Conditions joined by AND, each with its own `$n` parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str, *values: Any) -> None:
        """`condition` uses `{}` where each value's placeholder goes."""
        self.conditions.append(condition.format(*(self.param(v) for v in values)))

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"

    @classmethod
    def of(cls, condition: str, *values: Any) -> Where:
        where = cls()
        where.add(condition, *values)
        return where


@dataclass(frozen=True)
class TimeWindow:
    """created_at >= since and < before (both optional)."""

    since: dt.datetime | None = None
    before: dt.datetime | None = None

    def apply(self, where: Where, column: str = "created_at") -> None:
        if self.since is not None:
            where.add(f"{column} >= {{}}", self.since)
        if self.before is not None:
            where.add(f"{column} < {{}}", self.before)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


# How a position value travels in a cursor (JSON) and back.
_TO_JSON: dict[str, Callable[[Any], str | int]] = {
    "time": lambda v: v.astimezone(dt.UTC).isoformat(),
    "uuid": str,
    "int": int,
    "text": str,
}
_FROM_JSON: dict[str, Callable[[Any], Any]] = {
    "time": lambda v: dt.datetime.fromisoformat(_text(v)),
    "uuid": lambda v: uuid.UUID(_text(v)),
    "int": _int,
    "text": _text,
}


@dataclass(frozen=True)
class Keyset:
    """Newest first on `columns` (unique together); a page starts after the last row shown."""

    columns: tuple[str, ...]
    kinds: tuple[str, ...]

    def order_by(self) -> str:
        return "ORDER BY " + ", ".join(f"{c} DESC" for c in self.columns)

    def position(self, row: Mapping[str, Any]) -> list[str | int]:
        """The row's place in the list, as JSON values."""
        return [_TO_JSON[k](row[c]) for c, k in zip(self.columns, self.kinds, strict=True)]

    def parse(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """A position back from JSON; ValueError or TypeError when it is not one of ours."""
        if len(values) != len(self.columns):
            raise ValueError("a position has one value per column")
        return tuple(_FROM_JSON[k](v) for k, v in zip(self.kinds, values, strict=True))


BY_TIME = ("time", "uuid")


async def fetch_page(
    conn: asyncpg.Connection,
    select: str,
    where: Where,
    keyset: Keyset,
    *,
    after: Sequence[Any] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """`select` (… FROM table) filtered by `where`, in keyset order, after a position, limited."""
    if after is not None:
        placeholders = ", ".join("{}" for _ in keyset.columns)
        where.add(f"({', '.join(keyset.columns)}) < ({placeholders})", *after)
    sql = f"{select} WHERE {where.sql()} {keyset.order_by()} LIMIT {where.param(limit)}"
    return list(await conn.fetch(sql, *where.args))


async def jsonb_keys(conn: asyncpg.Connection, table: str, column: str, where: Where) -> list[str]:
    """Every key of a jsonb object column among the rows `where` selects, sorted."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT k FROM {table}, jsonb_object_keys({column}) AS k
            WHERE {where.sql()} ORDER BY k""",
        *where.args,
    )
    return [r["k"] for r in rows]


async def open_cursor(
    conn: asyncpg.Connection, select: str, where: Where, keyset: Keyset
) -> asyncpg.cursor.Cursor:
    """A server-side cursor over every row `where` selects, in keyset order; needs a transaction."""
    return await conn.cursor(f"{select} WHERE {where.sql()} {keyset.order_by()}", *where.args)
