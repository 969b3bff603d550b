"""Where the data folders (static/, sql/) are: inside the installed package, else in the checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`PACKAGE/name` in an installed wheel, `REPOSITORY/name` in a source checkout."""
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else PACKAGE.parent / name
