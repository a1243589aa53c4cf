"""The hub's ASGI application: FastAPI, with ``POST /v1/messages`` served ahead of its stack.

Why hand-written: ``POST /v1/messages`` is the hub's hot path, and FastAPI's own layers
(error middleware, exception middleware, exit stack, body limit, router scan, request handler)
cost about as much CPU as the whole bare endpoint the intake is measured against (``make bench``,
``docs/PERFORMANCE.md``). :class:`HubApp` hands that one route straight to the same handler the
router would call, with the same problem+json answers; everything else (docs, the other routes,
error pages) goes through FastAPI unchanged. The route stays declared in the router, so OpenAPI
documents it and a mounted ``root_path`` or added middleware falls back to the ordinary path.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class HubApp(FastAPI):
    """A FastAPI application whose ``fast_routes`` (method, path) skip the middleware stack."""

    fast_routes: dict[tuple[str, str], Handler]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = _with_state_headers(scope, send)
        if scope["type"] == "http" and not self.root_path and not self.user_middleware:
            handler = self.fast_routes.get((scope["method"], scope["path"]))
            if handler is not None:
                scope["app"] = self
                request = Request(scope, receive, send)
                try:
                    response = await handler(request)
                except Exception as exc:  # the same answers the exception handlers give
                    response = await self.answer_error(request, exc)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def answer_error(self, request: Request, exc: Exception) -> Response:
        """The response the registered exception handler for ``exc`` gives."""
        for cls in type(exc).__mro__:
            handler = self.exception_handlers.get(cls)
            if handler is not None:
                return await handler(request, exc)  # type: ignore[no-any-return]
        raise exc


def _with_state_headers(scope: Scope, send: Send) -> Send:
    """``send``, adding the headers the request's handling left in ``scope["state"]["response_headers"]``
    (the rate-limit fields) to whatever response goes out, problems included."""
    async def sending(message: dict) -> None:  # type: ignore[type-arg]
        if message["type"] == "http.response.start":
            extra = scope.get("state", {}).get("response_headers")
            if extra:
                message["headers"] = [*message.get("headers", ()), *((k.lower().encode(), v.encode()) for k, v in extra.items())]
        await send(message)
    return sending
