"""Which addresses an integrator's webhook may reach: the SSRF guard.

A subscription URL comes from whoever holds `webhooks:write`, and our worker POSTs to it from
inside the cluster: pointed at 169.254.169.254, a database or a sidecar, it would make us the
attacker's proxy. So a target must be a public (globally routable) address, unless an operator
lists its network in `NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS` (the dev stack allows loopback for
local receivers). Subscribing refuses what is visibly private without asking DNS (an IP literal,
`localhost`); each delivery resolves the host again and refuses if any address is private, so a
name that later resolves inside is caught too. (A resolver answering differently to httpx a
moment later is not caught: pin egress with a network policy or proxy for that.)

IPv6 addresses that carry an IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`,
NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`) are judged by the IPv4 address they
carry: `[64:ff9b::a9fe:a9fe]` reaches 169.254.169.254 through a NAT64 gateway. The playbooks'
`call_webhook` calls pass the same guard (docs/security.md#outbound-calls).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpx

from notifications.config import Network, Settings, parse_networks

__all__ = ["TargetGuard", "configured_guard", "parse_networks"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_HINT = " (allow its network in NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS)"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and would reach through a translator)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64:
        return [low32]
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # `::` and `::1` are IPv6's own
        return [low32]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


class TargetGuard:
    def __init__(self, allowed: Iterable[Network] = (), resolve_timeout: float = 5.0) -> None:
        self.allowed = tuple(allowed)
        self.resolve_timeout = resolve_timeout

    def refusal_of_address(self, address: Address) -> str | None:
        if any(address in network for network in self.allowed):
            return None
        if embedded := embedded_ipv4(address):
            refused = [str(v4) for v4 in embedded if self._refuses(v4)]
            if not refused:
                return None
            return f"{address} (carrying {', '.join(refused)}) is not a public address{_HINT}"
        if not self._refuses(address):
            return None
        return f"{address} is not a public address{_HINT}"

    def _refuses(self, address: Address) -> bool:
        if any(address in network for network in self.allowed):
            return False
        return not (address.is_global and not address.is_multicast)

    def refusal_of_url(self, url: str) -> str | None:
        """What needs no DNS: an IP literal or a name that always means this machine."""
        host = httpx.URL(url).host.rstrip(".").lower()
        if (literal := _ip_literal(host)) is not None:
            return self.refusal_of_address(literal)
        if host in _LOCAL_NAMES or host.endswith(".localhost"):
            return self.refusal_of_address(ipaddress.ip_address("127.0.0.1"))
        return None

    async def refusal(self, url: str) -> str | None:
        """Before each delivery: every address the host resolves to must be allowed.

        A name that does not resolve is not refused here: the send fails like any unreachable
        receiver and is retried.
        """
        if (refused := self.refusal_of_url(url)) is not None:
            return refused
        parsed = httpx.URL(url)
        if _ip_literal(parsed.host) is not None:
            return None  # checked above
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM),
                self.resolve_timeout,
            )
        except (OSError, TimeoutError, UnicodeError):
            return None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if (refused := self.refusal_of_address(address)) is not None:
                return f"{parsed.host} resolves to {refused}"
        return None


def configured_guard(settings: Settings) -> TargetGuard:
    """The guard with the operator's allowed networks (`NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS`)."""
    return TargetGuard(settings.webhook_networks, settings.delivery_timeout_seconds)


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
