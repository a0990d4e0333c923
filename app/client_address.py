"""The client's address, which rate limits and cost budgets key on.

The TCP peer is the client unless the peer is one of TRUSTED_PROXIES: only then is
`X-Forwarded-For` read, from the right, skipping every trusted hop, and the first
untrusted address is the client (a proxy appends the address it saw, so the entries
to the left of it are whatever the client wrote and are never believed).
`X-Forwarded-Proto` is taken from a trusted peer too. Headers from anyone else are
ignored, so a client cannot choose the address its limits are counted under.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_FORWARDED_HOPS = 32


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks (`10.0.0.0/8`, `::1`); ValueError names a bad entry."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Any, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_from_forwarded(
    peer: str, forwarded_for: str | None, networks: tuple[Network, ...]
) -> str:
    """The client address for a request from `peer` carrying `X-Forwarded-For`."""
    if not forwarded_for or not _trusted(_address(peer), networks):
        return peer
    hops = forwarded_for.split(",")[-MAX_FORWARDED_HOPS:]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # garbage where an address should be: stop believing
            break
        client = str(address)
        if not _trusted(address, networks):
            break
    return client


class ClientAddressMiddleware:
    """Rewrite `scope["client"]` (and `scheme`) from trusted proxies' headers only."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.networks and scope.get("client"):
            peer, port = scope["client"]
            headers = dict(scope["headers"])
            forwarded = headers.get(b"x-forwarded-for")
            if forwarded is not None and _trusted(_address(peer), self.networks):
                client = client_from_forwarded(peer, forwarded.decode("latin-1"), self.networks)
                scope = dict(scope, client=(client, 0 if client != peer else port))
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = proto
        await self.app(scope, receive, send)
