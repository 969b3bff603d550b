"""Web origins and page addresses: normalise `scheme://host[:port]`, keep a page as origin + path."""

from __future__ import annotations

from typing import NamedTuple
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


class PageLocation(NamedTuple):
    """A page as it is kept: origin and path; the query string and fragment are never kept."""

    origin: str
    path: str
    host: str


def parse_page_url(text: str) -> PageLocation | None:
    """An http(s) URL as origin and path, or None."""
    try:
        parts = urlsplit(text)
        origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return None
    return PageLocation(origin, parts.path or "/", (parts.hostname or "").lower())


def referrer_host(referrer: str | None) -> str | None:
    """The host of an http(s) referrer, else None."""
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return host.lower()[:253]
