"""``@target-uri`` of an incoming request, as the partner addressed it.

The partner signs the URL it called (``https://lienthong.tinh.gov.vn/v1/messages``). Behind a
reverse proxy that terminates TLS, the hub sees ``http`` and an inner host name, so scheme and host
are the ones :mod:`hub.access.forwarded` believes (from ``X-Forwarded-Proto``/``-Host`` or
``Forwarded``'s ``proto=``/``host=``, only when the socket peer is a trusted proxy; see there which
entry is taken); otherwise, from the request itself: the connection's scheme and the ``Host`` header.

The path and query are the ones the hub received, byte for byte (``raw_path``), so a proxy must
pass them through unchanged.
"""

from __future__ import annotations

from starlette.requests import Request

from hub.access.forwarded import ForwardedReader


def target_uri(request: Request, forwarded: ForwardedReader) -> str:
    """``scheme://host[:port]/path[?query]`` for ``request``."""
    scope = request.scope
    origin = forwarded.origin(scope)
    scheme = origin.scheme or scope.get("scheme", "http")
    host = origin.host or request.headers.get("host", "")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0].decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scheme.lower()}://{host}{path}{'?' + query if query else ''}"
