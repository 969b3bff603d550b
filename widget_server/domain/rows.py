"""What rules read a stored row through: anything indexable by column name (a dict, a Record)."""

from __future__ import annotations

from typing import Any, Protocol


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...
