"""Who the client is: the connection's peer, or behind trusted load balancers the address
they forwarded.

One address per request, resolved once, serves throttling, sessions and the logs alike.
``X-Forwarded-For`` is believed only from a trusted proxy, and only as far as the chain of
trusted proxies goes: each appends the address it got the request from, so the client is
the last hop that is not one of ours; whatever a client wrote further left is its own
claim and ignored.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, networks: Iterable[str] = ()):
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(text, strict=False) for text in networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str | None) -> bool:
        if not self.networks or not host:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: list[bytes] | None) -> str | None:
        """The client's address for a connection from ``peer`` with these
        ``X-Forwarded-For`` header values."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for
                for hop in value.decode("latin-1").split(",")]
        client = peer
        for hop in reversed(hops):
            if not self.trusts(client):
                break
            try:
                client = str(ipaddress.ip_address(hop))
            except ValueError:
                break  # not an address: the proxy that sent it is as far as we know
        return client


def client_host(request: Any) -> str | None:
    """The request's client address: resolved by :class:`~bgserver.api.site.BillingRequest`,
    else the connection's peer."""
    host = getattr(request, "client_host", None)
    if host is not None:
        return host
    return getattr(request.getClientAddress(), "host", None)
