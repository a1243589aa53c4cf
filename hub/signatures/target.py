"""``@target-uri`` of an incoming request, as the partner addressed it.

The partner signs the URL it called (``https://lienthong.tinh.gov.vn/v1/messages``). Behind a
reverse proxy that terminates TLS, the hub sees ``http`` and an inner host name, so:

* when the socket peer is in ``LIENTHONG_TRUSTED_PROXIES``, scheme and host come from
  ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` (the last value of each, the one the proxy in
  front of the hub wrote; the proxy must set both, replacing what the client sent);
* otherwise, from the request itself: the connection's scheme and the ``Host`` header.

The path and query are the ones the hub received, byte for byte (``raw_path``), so a proxy must
pass them through unchanged.
"""

from __future__ import annotations

from starlette.requests import Request

from hub.access.networks import Network, in_any


def _last(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()


def target_uri(request: Request, trusted: tuple[Network, ...]) -> str:
    """``scheme://host[:port]/path[?query]`` for ``request``."""
    scope = request.scope
    scheme = scope.get("scheme", "http")
    host = request.headers.get("host", "")
    if trusted:
        peer = scope.get("client")
        if peer and in_any(peer[0], trusted):
            scheme = _last(request.headers.get("x-forwarded-proto", "")) or scheme
            host = _last(request.headers.get("x-forwarded-host", "")) or host
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0].decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scheme.lower()}://{host}{path}{'?' + query if query else ''}"
