"""IP addresses and allowlists (IPv4 and IPv6 CIDR).

Which address a request comes from (socket peer, forwarding headers from trusted proxies) is
decided in one place only: :mod:`hub.access.forwarded`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str], field: str = "allowed_ips") -> tuple[Network, ...]:
    """CIDR strings (a bare address means that one address) as networks; ValueError names the bad one."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{field}: {value!r} is not an IPv4/IPv6 address or CIDR block") from None
    return tuple(out)


@lru_cache(maxsize=8192)
def parse_address(text: str) -> Address | None:
    """The parsed address (IPv4-mapped IPv6 as IPv4), None if unparseable; cached, as the same
    few client addresses recur on every request."""
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return addr.ipv4_mapped
    return addr


def in_any(addr: Address | str, networks: Sequence[Network]) -> bool:
    """True when ``addr`` lies in one of ``networks``."""
    if isinstance(addr, str):
        parsed = parse_address(addr)
        if parsed is None:
            return False
        addr = parsed
    return any(addr.version == net.version and addr in net for net in networks)


def allowed(addr: str, *lists: Sequence[Network]) -> bool:
    """True when ``addr`` passes every non-empty list (an empty list allows any address)."""
    if not any(lists):
        return True
    return all(not networks or in_any(addr, networks) for networks in lists)
