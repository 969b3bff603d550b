"""Settings: read once from the environment, clear errors naming the variable, no secret leaks."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from pathlib import Path

import pytest

from widget_server.settings import Secret, Settings, SettingsError

GOOD_SECRET = "s" * 40


def test_defaults_and_parsing(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "WIDGET_SECRET_KEY": GOOD_SECRET,
            "WIDGET_PORT": "9000",
            "WIDGET_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1",
            "WIDGET_PUBLIC_URL": "https://widgets.example.com/",
            "WIDGET_LOG_LEVEL": "debug",
            "DATABASE_URL": "postgresql://u@/db?host=/run/pg",
            "WIDGET_DATA_DIR": str(tmp_path),
        }
    )
    assert s.port == 9000
    assert s.public_url == "https://widgets.example.com"
    assert s.log_level == "DEBUG"
    assert s.data_dir == tmp_path
    assert ipaddress.ip_address("10.2.3.4") in s.trusted_proxies[0]
    assert len(s.trusted_proxies) == 3
    assert s.database_url is not None
    assert s.database_url.reveal() == "postgresql://u@/db?host=/run/pg"


def test_public_url_defaults_to_host_and_port() -> None:
    s = Settings.from_env({"WIDGET_SECRET_KEY": GOOD_SECRET, "WIDGET_PORT": "8123"})
    assert s.public_url == "http://127.0.0.1:8123"
    assert s.database_url is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"WIDGET_PORT": "eighty"}, "WIDGET_PORT"),
        ({"WIDGET_PORT": "70000"}, "WIDGET_PORT"),
        ({"WIDGET_PUBLIC_URL": "ftp://x"}, "WIDGET_PUBLIC_URL"),
        ({"WIDGET_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"}, "WIDGET_TRUSTED_PROXIES"),
        ({"WIDGET_LOG_LEVEL": "loud"}, "WIDGET_LOG_LEVEL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"WIDGET_SECRET_KEY": "short"}, "WIDGET_SECRET_KEY"),
        (
            {"WIDGET_MERCHANT_CORS_ORIGINS": "https://a.example/path"},
            "WIDGET_MERCHANT_CORS_ORIGINS",
        ),
        ({"WIDGET_DB_TIMEOUT": "-1"}, "WIDGET_DB_TIMEOUT"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"WIDGET_SECRET_KEY": GOOD_SECRET, **env})
    assert info.value.variable == variable
    assert str(info.value).startswith(variable + ":")


def test_missing_secret_is_an_error_outside_demo() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({})
    assert info.value.variable == "WIDGET_SECRET_KEY"


def test_demo_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    secret_file = tmp_path / "data" / "secret_key"
    first = Settings.from_env({}, secret_file=secret_file)
    second = Settings.from_env({}, secret_file=secret_file)
    assert first.secret_key.reveal() == second.secret_key.reveal()
    assert len(first.secret_key.reveal()) >= 32
    assert secret_file.stat().st_mode & 0o077 == 0


def test_secrets_never_in_repr() -> None:
    s = Settings.from_env(
        {"WIDGET_SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgresql://u:hunter2pass@db/x"}
    )
    text = repr(s) + str(s)
    assert GOOD_SECRET not in text
    assert "hunter2pass" not in text
    assert repr(Secret("abc")) == "Secret('**********')"


def test_the_readme_documents_every_variable_read_and_nothing_else() -> None:
    """Both ways: a variable the code reads is in the README's table, and one the table lists is read."""
    root = Path(__file__).resolve().parent.parent
    code = (root / "widget_server" / "settings.py").read_text()
    readme = (root / "README.md").read_text()
    read = set(re.findall(r'"(WIDGET_[A-Z0-9_]+|DATABASE_URL)"', code))
    table = set(re.findall(r"^\| `(WIDGET_[A-Z0-9_]+|DATABASE_URL)` \|", readme, re.M))
    assert read, "no variables found in settings.py: the pattern is wrong"
    assert read - table == set(), "read but not documented"
    assert table - read == set(), "documented but never read"


@pytest.mark.parametrize(
    ("env", "needle"),
    [({"WIDGET_PORT": "abc"}, "WIDGET_PORT"), ({}, "WIDGET_SECRET_KEY")],
)
def test_cli_stops_with_one_clear_line_and_status_2(
    env: dict[str, str], needle: str, tmp_path: Path
) -> None:
    base = {"PATH": "/usr/bin:/bin", "WIDGET_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    if needle != "WIDGET_SECRET_KEY":
        base["WIDGET_SECRET_KEY"] = GOOD_SECRET
    proc = subprocess.run(
        [sys.executable, "-m", "widget_server", "serve"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr
