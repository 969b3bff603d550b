"""The widget-server command line, run as a real subprocess against a real Postgres."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

SECRET = "cli-test-secret-" + "y" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WIDGET_", "DATABASE_URL", "TEST_DATABASE_URL"))
    }
    env.update({"WIDGET_DATA_DIR": str(tmp_path / "data"), "WIDGET_LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


def run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "widget_server", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Postgres processes whose data directory is under data_dir."""
    found = []
    needle = str(data_dir.resolve())
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "postgres" in (proc.info["name"] or "") and needle in cmd:
            found.append(proc)
    return found


VERBS = {
    "serve": [],
    "worker": [],
    "migrate": [],
    "demo": [],
    "merchant": ["create"],
    "key": ["create"],
    "site": ["create"],
    "policy": ["publish"],
    "consent": ["verify"],
    "purge": [],
}


def _listed(help_text: str) -> set[str]:
    """The sub-commands argparse lists under `positional arguments`, one per line."""
    return set(re.findall(r"^    ([a-z]+)\s{2,}\S", help_text, re.M))


def test_help_documents_every_verb(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    proc = run(["--help"], env)
    assert proc.returncode == 0
    # The verbs argparse knows, exactly: a verb removed (or added unlisted) fails here.
    assert _listed(proc.stdout) == set(VERBS), proc.stdout
    for verb, actions in VERBS.items():
        if not actions:
            assert run([verb, "--help"], env).returncode == 0
            continue
        group = run([verb, "--help"], env)
        assert _listed(group.stdout) == set(actions), group.stdout
        for action in actions:
            sub = run([verb, action, "--help"], env)
            assert sub.returncode == 0
            assert f"usage: widget-server {verb} {action}" in sub.stdout


def test_admin_verbs_against_a_configured_database(tmp_path: Path, database_url: str) -> None:
    env = cli_env(tmp_path, DATABASE_URL=database_url, WIDGET_PUBLIC_URL="https://w.example")
    assert run(["migrate"], env).returncode == 0

    made = run(["merchant", "create", "--name", "CLI shop"], env)
    assert made.returncode == 0, made.stderr
    merchant_id = re.search(r"merchant_id: (\S+)", made.stdout).group(1)
    assert re.search(r"api_key: wsk_[A-Za-z0-9_-]{40,}", made.stdout)

    key = run(["key", "create", "--merchant", merchant_id, "--scope", "read"], env)
    assert key.returncode == 0, key.stderr
    assert "scopes: read" in key.stdout

    site = run(
        [
            "site",
            "create",
            "--merchant",
            merchant_id,
            "--name",
            "Shop",
            "--origin",
            "HTTPS://Shop.Example/",
        ],
        env,
    )
    assert site.returncode == 0, site.stderr
    site_key = re.search(r"site_key: (st_\w+)", site.stdout).group(1)
    assert (
        f'<script async src="https://w.example/widget.js" data-site="{site_key}"></script>'
        in site.stdout
    )

    bad = run(
        [
            "site",
            "create",
            "--merchant",
            merchant_id,
            "--name",
            "x",
            "--origin",
            "https://a.example/path",
        ],
        env,
    )
    assert bad.returncode == 2
    assert "--origin" in bad.stderr

    unknown = run(["key", "create", "--merchant", "00000000-0000-0000-0000-000000000000"], env)
    assert unknown.returncode == 1
    assert "no merchant 00000000-0000-0000-0000-000000000000" in unknown.stderr.lower()

    purged = run(["purge"], env)
    assert purged.returncode == 0, purged.stderr
    assert "consent_records: 0 deleted" in purged.stdout


def test_embedded_postgres_is_gone_after_the_command(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    proc = run(["migrate"], env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "applied" in proc.stdout
    assert postgres_processes(tmp_path) == []
    again = run(["migrate"], env, timeout=180)
    assert "applied 0 migration(s)" in again.stdout
    assert postgres_processes(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_serves_then_stops_postgres_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    port, host_port = free_port(), free_port()
    env = cli_env(tmp_path, WIDGET_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "widget_server", "demo", "--host-page-port", str(host_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        ready = False
        while time.monotonic() - started < 60 and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready = r.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        assert ready, proc.stderr.read() if proc.stderr else ""
        assert postgres_processes(tmp_path), "the demo should run an embedded postgres"
        with urllib.request.urlopen(f"http://localhost:{host_port}/", timeout=5) as r:
            page = r.read().decode()
            csp = r.headers["Content-Security-Policy"]
        assert f"http://127.0.0.1:{port}/widget.js" in page
        assert f"script-src http://127.0.0.1:{port}" in csp
        with urllib.request.urlopen(f"http://localhost:{host_port}/favicon.ico", timeout=5) as r:
            assert r.status == 204
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/widget.js", timeout=5) as r:
            assert r.status == 200
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Snippet:" in out
    assert re.search(r"API key:\s+wsk_", out)
    assert postgres_processes(tmp_path) == []
