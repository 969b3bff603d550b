"""A real Postgres in a local folder (pgserver), for a machine with no DATABASE_URL."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("widget_server.db")


class EmbeddedPostgres:
    """A real Postgres in a local folder (pgserver), stopped when this object is closed."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: Any = None

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver

            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        return str(self._server.get_uri())

    @property
    def postmaster_pid(self) -> int | None:
        if self._server is None:
            return None
        pid = self._server.get_pid()
        return int(pid) if pid else None

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def database_url(configured: str | None, data_dir: Path) -> Iterator[str]:
    """The configured URL, or an embedded Postgres for as long as the block runs."""
    if configured:
        yield configured
        return
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    log.info("embedded postgres started in %s (pid %s)", embedded.pgdata, embedded.postmaster_pid)
    try:
        yield url
    finally:
        embedded.stop()
        log.info("embedded postgres stopped")
