"""Client addresses and IP allowlists (IPv4 and IPv6 CIDR).

The client address is the socket peer. ``X-Forwarded-For`` is believed only when the peer is a
configured trusted proxy, and then only up to the first address that is not itself a trusted
proxy (read from the right), so a client cannot spoof its way past an allowlist by sending the
header itself.
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
def _address(text: str) -> Address | None:
    """The parsed address (IPv4-mapped IPv6 as IPv4), None if unparseable; cached, as the same
    few client addresses recur on every request."""
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return addr.ipv4_mapped
    return addr


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> tuple[str, list[str]]:
    """``(client address, proxy chain)`` for a request from ``peer`` carrying ``forwarded_for``.

    The chain lists the addresses the request passed through, nearest last, as far as they were
    believed. An unparseable peer gives ``("unknown", [])``: it matches no allowlist.
    """
    addr = _address(peer or "")
    if addr is None:
        return "unknown", []
    chain: list[str] = []
    if forwarded_for and trusted and in_any(addr, trusted):
        hops = [h for h in (part.strip() for part in forwarded_for.split(",")) if h]
        while hops:
            chain.append(str(addr))
            nxt = _address(hops.pop())
            if nxt is None:
                break  # garbage in the header: stop at the last proxy we trust
            addr = nxt
            if not in_any(addr, trusted):
                break
        chain.reverse()
    return str(addr), chain


def in_any(addr: Address | str, networks: Sequence[Network]) -> bool:
    """True when ``addr`` lies in one of ``networks``."""
    if isinstance(addr, str):
        parsed = _address(addr)
        if parsed is None:
            return False
        addr = parsed
    return any(addr.version == net.version and addr in net for net in networks)


def allowed(addr: str, *lists: Sequence[Network]) -> bool:
    """True when ``addr`` passes every non-empty list (an empty list allows any address)."""
    if not any(lists):
        return True
    return all(not networks or in_any(addr, networks) for networks in lists)
