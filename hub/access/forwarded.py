"""Where a request came from: the client address, the proxies it passed and the scheme and host the
client addressed. The ONLY code that reads ``X-Forwarded-For``/``-Proto``/``-Host`` or ``Forwarded``.

The socket peer is the client unless it lies in ``LIENTHONG_TRUSTED_PROXIES``. When it does, the
forwarding header of the configured style (``LIENTHONG_FORWARDED_HEADER``: ``x-forwarded`` or
``forwarded``; the other style is ignored entirely) is read, every line of it, in order, as one
list (lines joined as if comma-separated, RFC 9110 §5.3). The list is walked from the right, the
end the nearest proxy wrote: while the current hop is a trusted proxy, the entry to its left is
the address that proxy received the request from. The first address that is not a trusted proxy
is the client. Anything left of it was written by the client and is never read, so a client cannot
choose its address by sending the header itself. An entry that is not an address (garbage, RFC
7239 ``unknown`` or an obfuscated ``_name``) stops the walk: the client is then the last trusted hop.

Scheme and host (for the signature base's ``@target-uri``) are believed only from a trusted peer:

* ``forwarded``: from the element the walk read last, i.e. the one the outermost believed proxy
  appended about the hop it received the request from (the hop that saw the client's own scheme
  and host); if that element has no ``proto``/``host``, the nearest element to its right that has one
  (every element the walk read was written by a trusted proxy).
* ``x-forwarded``: ``X-Forwarded-Proto`` and ``-Host`` carry no per-hop pairing with the addresses
  (nginx's ``proxy_set_header`` replaces them; other proxies append), so the rightmost value, all
  lines read, is taken: the one the trusted peer wrote. The proxy in front of the hub must therefore
  set both, never pass a client's value through as the last one.

A value that is not ``http``/``https``, or not a plausible ``host[:port]``, is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Sequence

from starlette.types import Scope

from hub.access.networks import Address, Network, in_any, parse_address, parse_networks
from hub.config import Settings

Style = Literal["x-forwarded", "forwarded"]
STYLES: tuple[Style, ...] = ("x-forwarded", "forwarded")

_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")  # RFC 3986 reg-name / IP-literal
_OWS = " \t"


@dataclass(frozen=True)
class Origin:
    """``client``: the believed client address (``"unknown"`` for an unparseable peer, which matches
    no allowlist); ``chain``: the trusted proxies it passed through, nearest (the peer) last, empty
    when the peer is the client; ``scheme``/``host``: as the client addressed the request, None
    when no trusted proxy said."""

    client: str
    chain: tuple[str, ...] = ()
    scheme: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class _Hop:
    """One entry of the forwarding list: the address (None: garbage or obfuscated) and, for an RFC
    7239 element, the ``proto`` and ``host`` the writing proxy received."""

    address: Address | None
    proto: str | None = None
    host: str | None = None


def _lines(scope: Scope, name: bytes) -> list[str]:
    """Every value of header ``name`` (lower case), in order."""
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def _list(lines: list[str]) -> list[str]:
    """A comma-separated header's lines as one list of non-empty entries (RFC 9110 §5.6.1)."""
    return [entry.strip(_OWS) for line in lines for entry in line.split(",") if entry.strip(_OWS)]


def _address(text: str) -> Address | None:
    """The address in an ``X-Forwarded-For`` entry or an RFC 7239 node (``1.2.3.4``,
    ``1.2.3.4:80``, ``2001:db8::1``, ``[2001:db8::1]:4711``); None for garbage, ``unknown`` or
    an obfuscated ``_identifier``."""
    text = text.strip()
    if text.startswith("["):
        inner, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].strip())):
            return None
        return parse_address(inner) if ":" in inner else None
    if text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    return parse_address(text)


def _scheme(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if value in ("http", "https") else None


def _host(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value and _HOST.match(value) else None


# --- RFC 7239 Forwarded -------------------------------------------------------------------------
# Hand-written: no maintained library parses RFC 7239. The values of for=, by=, host= and proto= can
# never contain "," or ";" (a node, a uri-host[:port], a scheme), so elements are split on every ","
# and pairs on every ";" BEFORE quotes are read: a quoted string may not hide either. That confines a
# client's stray quote to its own element; read quote-aware, 'for="1.2.3.4' would pair with the quote
# of the element the proxy appends after it (host="...") and swallow it, making the proxy the client.

_PAIR = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)=([!#$%&\'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*")\Z')


def _elements(line: str) -> list[dict[str, str] | None]:
    """The ``forwarded-element``s of one header line, in order (empty ones skipped); None for an
    element that is not valid syntax (it stops the walk)."""
    out: list[dict[str, str] | None] = []
    for text in line.split(","):
        text = text.strip(_OWS)
        if not text:
            continue
        pairs: dict[str, str] = {}
        for part in text.split(";"):
            match = _PAIR.match(part.strip(_OWS))
            if not match or match.group(1).lower() in pairs:  # RFC 7239 §4: a parameter at most once
                out.append(None)
                break
            value = match.group(2)
            pairs[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
        else:
            out.append(pairs)
    return out


def forwarded_hops(lines: list[str]) -> list[_Hop]:
    """Every ``Forwarded`` line's elements as hops, in order (each line parsed on its own: a quote
    cannot run from one line into the next)."""
    hops = []
    for line in lines:
        for element in _elements(line):
            if element is None or "for" not in element:
                hops.append(_Hop(None))
            else:
                hops.append(_Hop(_address(element["for"]), _scheme(element.get("proto")), _host(element.get("host"))))
    return hops


# --- the walk -----------------------------------------------------------------------------------


class ForwardedReader:
    """Reads :class:`Origin` from ASGI scopes, for one configuration of trusted proxies and style."""

    def __init__(self, trusted: Sequence[Network], style: Style = "x-forwarded") -> None:
        if style not in STYLES:
            raise ValueError(f"forwarded_header: {style!r} is not one of {', '.join(STYLES)}")
        self.trusted, self.style = tuple(trusted), style

    @classmethod
    def from_settings(cls, settings: Settings) -> "ForwardedReader":
        """The reader ``LIENTHONG_TRUSTED_PROXIES`` and ``LIENTHONG_FORWARDED_HEADER`` configure."""
        return cls(parse_networks(settings.trusted_proxies, "trusted_proxies"), settings.forwarded_header)

    def origin(self, scope: Scope) -> Origin:
        """The request's :class:`Origin`, computed once and kept in ``scope["state"]["origin"]``."""
        state = scope.setdefault("state", {})
        found: Origin | None = state.get("origin")
        if found is None:
            peer = scope.get("client")
            found = state["origin"] = self.read(peer[0] if peer else None, scope)
        return found

    def read(self, peer: str | None, scope: Scope) -> Origin:
        """:meth:`origin` without the cache, for a request from ``peer``."""
        addr = parse_address(peer or "")
        if addr is None:
            return Origin("unknown")
        if not self.trusted or not in_any(addr, self.trusted):
            return Origin(str(addr))
        if self.style == "forwarded":
            hops = forwarded_hops(_lines(scope, b"forwarded"))
        else:
            hops = [_Hop(_address(entry)) for entry in _list(_lines(scope, b"x-forwarded-for"))]
        chain: list[str] = []
        read: list[_Hop] = []  # the hops the walk read, nearest first: all written by trusted proxies
        for hop in reversed(hops):
            if not in_any(addr, self.trusted):
                break
            read.append(hop)
            if hop.address is None:
                break  # garbage or obfuscated: the last trusted hop is the client
            chain.append(str(addr))
            addr = hop.address
        chain.reverse()
        if self.style == "forwarded":
            outward = list(reversed(read))  # outermost believed element first
            scheme = next((h.proto for h in outward if h.proto), None)
            host = next((h.host for h in outward if h.host), None)
        else:
            protos = _list(_lines(scope, b"x-forwarded-proto"))
            hosts = _list(_lines(scope, b"x-forwarded-host"))
            scheme = _scheme(protos[-1]) if protos else None
            host = _host(hosts[-1]) if hosts else None
        return Origin(str(addr), tuple(chain), scheme, host)
