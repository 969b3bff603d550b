"""What a beacon keeps of its referrer: another site's host, or nothing."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
_IPV6 = re.compile(r"[0-9a-f:.]{2,45}")
MAX_HOST = 253


def _plain(host: str) -> str:
    """`www.` is the same site for people reading a list of sources (as Plausible shows it)."""
    return host[4:] if host.startswith("www.") and host.count(".") > 1 else host


def clean_host(host: str | None) -> str | None:
    """A host name fit to count and show: lower case, IDNA-encoded, `www.` dropped; else None."""
    if not host:
        return None
    text = host.strip().rstrip(".").lower()
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if len(text) > MAX_HOST:
        return None
    if _HOST.fullmatch(text) or (":" in text and _IPV6.fullmatch(text)):
        return _plain(text)
    return None


@functools.lru_cache(maxsize=4096)
def own_hosts(origins: frozenset[str]) -> frozenset[str]:
    """The hosts of a site's own origins, as clean_host writes them."""
    return frozenset(h for h in (clean_host(urlsplit(o).hostname) for o in origins) if h)


def referrer_source(referrer: str | None, own: Iterable[str]) -> str | None:
    """The referrer's host when it is another site (never a path or a query); None otherwise."""
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    cleaned = clean_host(host)
    if cleaned is None or cleaned in own:
        return None
    return cleaned
