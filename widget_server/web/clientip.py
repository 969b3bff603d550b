"""The client's IP address: the peer, or the nearest untrusted hop behind trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web

from widget_server.settings import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


def parse_ip(text: str) -> IPAddress | None:
    """An address, with IPv4-mapped IPv6 unwrapped so one client has one identity."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443" as some proxies write it
        text = text[1 : text.index("]")]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_trusted(addr: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(addr.version == net.version and addr in net for net in trusted)


def resolve(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]) -> str:
    """Walk X-Forwarded-For from the right while the hop we got it from is trusted."""
    current = parse_ip(peer or "")
    if current is None:
        return peer or UNKNOWN
    hops = [h for header in forwarded_for for h in header.split(",") if h.strip()]
    while is_trusted(current, trusted) and hops:
        candidate = parse_ip(hops.pop())
        if candidate is None:
            # A garbled entry was written by someone we do not trust: stop at the last good hop.
            break
        current = candidate
    return str(current)


def client_ip(request: web.Request, trusted: Sequence[IPNetwork]) -> str:
    return resolve(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)
