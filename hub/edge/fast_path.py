"""The hub's ASGI application: FastAPI, with ``POST /v1/messages`` served ahead of its stack.

Why hand-written: ``POST /v1/messages`` is the hub's hot path, and FastAPI's own layers
(error middleware, exception middleware, exit stack, body limit, router scan, request handler)
cost about as much CPU as the whole bare endpoint the intake is measured against (``make bench``,
``docs/PERFORMANCE.md``). :class:`HubApp` hands that one route straight to the same handler the
router would call, after the same guard (``hub/edge/guard.py``), with the same problem+json
answers; everything else (docs, the other routes, error pages) goes through FastAPI unchanged.
The route stays declared in the router, so OpenAPI documents it and a mounted ``root_path`` or
added middleware falls back to the ordinary path.

Every HTTP request, on either path, is measured (status, sizes, latency) and recorded once its
answer is out (``hub/audit/recording.py``).
"""

from __future__ import annotations

import time
from typing import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hub.audit.recording import Meter, Recorder, caller_request_id, request_id
from hub.edge.guard import enter
from hub.edge.rules import rule_for

Handler = Callable[[Request], Awaitable[Response]]


class HubApp(FastAPI):
    """A FastAPI application whose ``fast_routes`` (method, path) skip the middleware stack, and that
    leaves one access record per HTTP request with its ``recorder`` (see ``hub/audit/recording.py``)."""

    fast_routes: dict[tuple[str, str], Handler]
    recorder: Recorder | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter_ns()
        state = scope.setdefault("state", {})
        state["request_id"], state["caller_request_id"] = request_id(), caller_request_id(scope)
        meter = Meter(scope)
        receive, send = meter.receive(receive), meter.send(send)
        try:
            handler = None if self.root_path or self.user_middleware else self.fast_routes.get((scope["method"], scope["path"]))
            if handler is None:
                await super().__call__(scope, receive, send)
                return
            scope["app"] = self
            state["route"] = scope["path"]
            request = Request(scope, receive, send)
            try:
                await enter(request, rule_for(scope["method"], scope["path"]))  # the route's rule, as GuardedRoute
                response = await handler(request)
            except Exception as exc:  # the same answers the exception handlers give
                response = await self.answer_error(request, exc)
            await response(scope, receive, send)
        finally:
            if self.recorder is not None:
                self.recorder.request(scope, meter, time.perf_counter_ns() - started)

    async def answer_error(self, request: Request, exc: Exception) -> Response:
        """The response the registered exception handler for ``exc`` gives."""
        for cls in type(exc).__mro__:
            handler = self.exception_handlers.get(cls)
            if handler is not None:
                answer = handler(request, exc)  # the hub's handlers are async; Starlette allows plain ones too
                return answer if isinstance(answer, Response) else await answer
        raise exc
