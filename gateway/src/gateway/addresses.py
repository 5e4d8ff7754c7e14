"""The client's address as the gateway believes it: the peer, unless the peer is a trusted proxy (the console,
a load balancer), in which case the nearest address in X-Forwarded-For that is not itself trusted. Trusting the
header from anyone would let a caller pick a fresh address for every guess and escape per-address throttling."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

MAX_FORWARDED_HOPS = 16


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def networks(entries: list[str]) -> Networks:
    """Addresses or CIDR blocks (a pod network, the console's address) of the trusted proxies."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)


# Every request asks this of its peer (and of forwarded addresses): parsing the address each time costs more than
# the rest of the check. Bounded; the answer for a (host, networks) pair never changes.
@lru_cache(maxsize=4096)
def _is_trusted(host: str, trusted: Networks) -> bool:
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return False
    return any(address in n for n in trusted)


def is_trusted(host: str, trusted: Networks) -> bool:
    return _is_trusted(host, trusted)


def client_address(request: Request, trusted: Networks) -> str:
    peer = request.client.host if request.client else ""
    if not _is_trusted(peer, trusted):
        return peer
    forwarded = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for host in reversed(forwarded[-MAX_FORWARDED_HOPS:]):
        if not _is_trusted(host, trusted):
            try:
                return str(ipaddress.ip_address(host))
            except ValueError:
                return peer  # a forged or garbled entry: count it against the proxy that sent it
    return peer


def is_https(request: Request, trusted: Networks) -> bool:
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and _is_trusted(peer, trusted)
