"""A small WHERE-clause builder with numbered parameters, shared by the merchant lists and exports."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

# A keyset position: the (created_at, id) of the last row of the previous page.
TimeKey = tuple[dt.datetime, uuid.UUID]


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
