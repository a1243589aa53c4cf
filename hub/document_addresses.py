"""Which network addresses the hub may fetch a result document from.

A host on the document allowlist is only a name: what it resolves to decides where the hub would
connect. :func:`refusal` classifies one address; an address that is not public (loopback,
link-local with the 169.254.169.254 metadata service, private, shared/CGNAT, unique-local,
unspecified, multicast, reserved) is refused unless one of ``LIENTHONG_DOCUMENT_ALLOWED_NETWORKS``
contains it. IPv4 addresses written inside IPv6 ones (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
6to4 ``2002::/16``, IPv4-compatible ``::a.b.c.d``) are judged as the IPv4 address they carry.

:func:`resolve_checked` looks the name up once and answers the addresses to dial; the caller must
connect to those, never resolve again (a second look-up could answer differently: DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Awaitable, Callable, Iterable

import anyio

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``(host, port) -> addresses``: the name look-up; tests pass their own to prove pinning.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Named ranges, in the order their names are reported; anything else that is not global is refused
# as "not public". Listed by hand (not only ``is_private``) so that the reason names the range.
_RANGES: list[tuple[str, IPNetwork]] = [
    ("unspecified", ipaddress.ip_network("0.0.0.0/8")),
    ("unspecified", ipaddress.ip_network("::/128")),
    ("loopback", ipaddress.ip_network("127.0.0.0/8")),
    ("loopback", ipaddress.ip_network("::1/128")),
    ("link-local", ipaddress.ip_network("169.254.0.0/16")),
    ("link-local", ipaddress.ip_network("fe80::/10")),
    ("private", ipaddress.ip_network("10.0.0.0/8")),
    ("private", ipaddress.ip_network("172.16.0.0/12")),
    ("private", ipaddress.ip_network("192.168.0.0/16")),
    ("shared (CGNAT)", ipaddress.ip_network("100.64.0.0/10")),
    ("unique-local", ipaddress.ip_network("fc00::/7")),
    ("site-local", ipaddress.ip_network("fec0::/10")),
    ("multicast", ipaddress.ip_network("224.0.0.0/4")),
    ("multicast", ipaddress.ip_network("ff00::/8")),
    ("reserved", ipaddress.ip_network("240.0.0.0/4")),
]


class AddressRefused(Exception):
    """A document host resolves to an address the hub does not fetch from."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"{address} is {reason}")
        self.address, self.reason = address, reason


class NotResolved(Exception):
    """The document host's name could not be looked up."""


def networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def category(ip: IPAddress) -> str | None:
    """The name of the non-public range ``ip`` lies in, or None when it is a public address."""
    for name, net in _RANGES:
        if ip.version == net.version and ip in net:
            return name
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved or not ip.is_global:
        return "not public"
    return None


def refusal(address: str | IPAddress, allowed: list[IPNetwork]) -> str | None:
    """Why the hub may not connect to ``address`` (e.g. ``"loopback"``), or None when it may.

    An address inside one of ``allowed`` is accepted whatever its range; an IPv6 address carrying an
    IPv4 one is judged as that IPv4 address (so ``::ffff:127.0.0.1`` is loopback)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    inner = _embedded_ipv4(ip)
    if inner is not None:
        reason = refusal(inner, allowed)
        return None if reason is None else f"{reason} (as {ip})"
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    return category(ip)


def dial_address(address: str) -> str:
    """The address to connect to: an IPv4-mapped IPv6 address as its IPv4 form, others as given."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return address


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's look-up (``getaddrinfo`` in a worker thread, so a cancelled fetch stops waiting)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise NotResolved(type(exc).__name__) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_checked(host: str, port: int, allowed: list[IPNetwork],
                          resolver: Resolver | None = None) -> list[str]:
    """The addresses to dial for ``host``: looked up once, every one of them checked.

    An IP literal is checked as it is. Raises :class:`AddressRefused` when ANY address is refused
    (a name that answers one public and one internal address is refused, whichever would be dialled),
    :class:`NotResolved` when the name has no address."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = await (resolver or system_resolver)(host, port)
    if not addresses:
        raise NotResolved("no address")
    for address in addresses:
        reason = refusal(address, allowed)
        if reason is not None:
            raise AddressRefused(address, reason)
    return [dial_address(a) for a in addresses]


def admitted_ranges(cidrs: Iterable[str], names: Iterable[str] = ("unspecified", "loopback", "link-local")
                    ) -> list[tuple[str, list[str]]]:
    """Each of ``cidrs`` that overlaps one of the named ranges, with the names it overlaps."""
    wanted = set(names)
    out = []
    for net in networks(cidrs):
        hit = [name for name, rng in _RANGES if name in wanted and net.version == rng.version
               and net.overlaps(rng)]
        if hit:
            out.append((str(net), list(dict.fromkeys(hit))))
    return out
