"""One frozen Settings object, read once from the environment."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from widget_server.domain.origins import normalize_origin

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A configuration value is missing or invalid; names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    secret_key: Secret
    database_url: Secret | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path(".widget-data")
    trusted_proxies: tuple[IPNetwork, ...] = ()
    log_level: str = "INFO"
    merchant_cors_origins: tuple[str, ...] = ()
    db_pool_size: int = 10
    export_pool_size: int = 2
    db_command_timeout: float = 10.0
    db_acquire_timeout: float = 5.0
    rate_limit_per_minute: int = 120
    requests_per_site_per_hour: int = 300
    config_cache_seconds: float = 5.0
    group_commit: bool = True
    run_jobs: bool = True
    shutdown_timeout: float = 10.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, secret_file: Path | None = None, require_secret: bool = True
    ) -> Settings:
        """Read and validate; `secret_file` (demo mode) keeps a generated secret across runs.

        Admin verbs that never sign or verify anything pass `require_secret=False`.
        """
        host = env.get("WIDGET_HOST", "127.0.0.1").strip() or "127.0.0.1"
        port = _int(env, "WIDGET_PORT", 8000, 0, 65535)
        public_url = env.get("WIDGET_PUBLIC_URL", "").strip()
        if public_url:
            parts = urlsplit(public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SettingsError(
                    "WIDGET_PUBLIC_URL",
                    f"must be an http(s) URL such as https://widgets.example.com (got {public_url!r})",
                )
            public_url = public_url.rstrip("/")
        else:
            shown = "localhost" if host in ("0.0.0.0", "::") else host  # noqa: S104
            public_url = f"http://{shown}:{port}"
        data_dir = Path(env.get("WIDGET_DATA_DIR", "").strip() or ".widget-data")
        level = env.get("WIDGET_LOG_LEVEL", "INFO").strip().upper()
        if level not in LOG_LEVELS:
            raise SettingsError(
                "WIDGET_LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)} (got {level!r})"
            )
        db_url = env.get("DATABASE_URL", "").strip()
        if db_url and urlsplit(db_url).scheme not in ("postgres", "postgresql"):
            raise SettingsError("DATABASE_URL", "must be a postgresql:// URL")
        return cls(
            secret_key=_secret(env, secret_file)
            if require_secret or env.get("WIDGET_SECRET_KEY")
            else Secret(""),
            database_url=Secret(db_url) if db_url else None,
            host=host,
            port=port,
            public_url=public_url,
            data_dir=data_dir,
            trusted_proxies=_networks(env.get("WIDGET_TRUSTED_PROXIES", "")),
            log_level=level,
            merchant_cors_origins=_origins(env.get("WIDGET_MERCHANT_CORS_ORIGINS", "")),
            db_pool_size=_int(env, "WIDGET_DB_POOL_SIZE", 10, 1, 1000),
            export_pool_size=_int(env, "WIDGET_EXPORT_POOL_SIZE", 2, 1, 100),
            db_command_timeout=_float(env, "WIDGET_DB_TIMEOUT", 10.0),
            db_acquire_timeout=_float(env, "WIDGET_DB_ACQUIRE_TIMEOUT", 5.0),
            rate_limit_per_minute=_int(env, "WIDGET_RATE_LIMIT_PER_MINUTE", 120, 1, 10**6),
            requests_per_site_per_hour=_int(
                env, "WIDGET_REQUESTS_PER_SITE_PER_HOUR", 300, 1, 10**7
            ),
            config_cache_seconds=_float(env, "WIDGET_CONFIG_CACHE_SECONDS", 5.0),
            group_commit=_bool(env, "WIDGET_GROUP_COMMIT", True),
            run_jobs=_bool(env, "WIDGET_JOBS", True),
            shutdown_timeout=_float(env, "WIDGET_SHUTDOWN_TIMEOUT", 10.0),
        )


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be an integer (got {raw!r})") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be between {low} and {high} (got {value})")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(name, f"must be on or off (got {raw!r})")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"must be a number of seconds (got {raw!r})") from None
    if not 0 < value <= 3600:
        raise SettingsError(name, f"must be between 0 and 3600 seconds (got {value})")
    return value


def _secret(env: Mapping[str, str], secret_file: Path | None) -> Secret:
    raw = env.get("WIDGET_SECRET_KEY", "")
    if raw:
        if len(raw) < MIN_SECRET_LENGTH:
            raise SettingsError(
                "WIDGET_SECRET_KEY",
                f"must be at least {MIN_SECRET_LENGTH} characters (got {len(raw)})",
            )
        return Secret(raw)
    if secret_file is None:
        raise SettingsError(
            "WIDGET_SECRET_KEY",
            "is required; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    if secret_file.exists():
        return Secret(secret_file.read_text().strip())
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    secret_file.touch(mode=0o600)
    secret_file.write_text(value + "\n")
    return Secret(value)


def _networks(raw: str) -> tuple[IPNetwork, ...]:
    nets = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                "WIDGET_TRUSTED_PROXIES", f"{item!r} is not an IP address or CIDR"
            ) from None
    return tuple(nets)


def _origins(raw: str) -> tuple[str, ...]:
    out = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            out.append(normalize_origin(item))
        except ValueError as exc:
            raise SettingsError(
                "WIDGET_MERCHANT_CORS_ORIGINS",
                f"{item!r} is not an origin like https://admin.example.com ({exc})",
            ) from None
    return tuple(dict.fromkeys(out))
