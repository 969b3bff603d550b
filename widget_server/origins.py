"""Web origins: normalise `scheme://host[:port]` and refuse anything else."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str:
    """`HTTPS://Shop.Example:443/` -> `https://shop.example`; ValueError for non-origins."""
    raw = value.strip()
    if raw.endswith("/"):
        raw = raw[:-1]
    parts = urlsplit(raw)
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise ValueError("an origin starts with http:// or https://")
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("an origin has no path, query, fragment or user name")
    host = (parts.hostname or "").lower()
    if not host or "*" in host:
        raise ValueError("an origin needs a host name and no wildcards")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number between 0 and 65535") from None
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
