"""The partners' inbound routes (``Manifest.routes``): each becomes a guarded route of the edge.

The guard runs first under the route's rule (``hub/edge/rules.py``, :func:`partner_rules`); the
partner's handler then gets an :class:`EdgeInbound` (``hub.seam.Inbound``): the client address as
the hub sees it, the body under its limit, and :meth:`~EdgeInbound.submit`, the intake path that
``POST /v1/messages`` takes (prepared, routed, group-committed). The handler answers with a
``Reply`` in its partner's own format; what it :meth:`~EdgeInbound.note`\\s goes into the call's
access record.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.access.principal import Principal
from hub.access.scopes import Scopes
from hub.context import context, members
from hub.edge.body import read_body
from hub.edge.guard import GuardedRoute
from hub.edge.prepare import prepare
from hub.edge.problems import Problem
from hub.edge.responses import json_response
from hub.limits.decision import Check, Limit
from hub.partners import get_partner
from hub.plugins import manifests
from hub.seam import Context, InboundRoute, Manifest, Refused, Reply, Unavailable
from hub.store.intake import StoreUnavailable


class EdgeInbound:
    """One inbound call as a partner's handler sees it."""

    def __init__(self, request: Request, ctx: Context, route: InboundRoute) -> None:
        self.request, self.route = request, route
        # typed as in hub.seam.Inbound (its attributes are settable, so the types must be the same)
        self.ctx: Context = ctx
        self.client_ip: str = request.app.state.gate.client(request)[0]
        self.headers: Mapping[str, str] = request.headers
        principal = request.scope["state"].get("principal")
        self.partner_code = principal.partner_code if principal is not None else None
        self.actor: str = principal.who if principal is not None else "anonymous"
        self.query: Mapping[str, str] = dict(request.query_params)
        self.path_params: Mapping[str, str] = dict(request.path_params)
        origin = request.app.state.gate.forwarded.origin(request.scope)  # scheme and host a trusted proxy reports
        self.base_url: str = f"{origin.scheme or request.url.scheme}://{origin.host or request.url.netloc}"

    async def body(self, max_bytes: int | None = None) -> bytes:
        if self.route.body in ("raw", "json"):
            return await self.request.body()  # read by the guard under the route's limit
        limit = max_bytes or self.route.max_bytes or self.request.app.state.settings.max_body_bytes
        try:
            return await read_body(self.request, limit)
        except Problem as problem:
            raise Refused(problem.slug, problem.detail) from None

    async def submit(self, message: dict[str, Any], *, source: str, types: Sequence[str]) -> str:
        state = self.request.scope["state"]
        caller = state.get("principal")
        if caller is None:  # a public route: the partner vouched for by the handler's own proof
            if source != self.ctx.code and not self._member(source):  # it speaks for its partner (or a member) only
                raise Refused("forbidden", f"a route of {self.ctx.code!r} may not submit as {source!r}")
            partner = await run_in_threadpool(get_partner, self.request.app.state.engine, source)
            if partner is None:
                raise Refused("unknown_partner", f"partner {source!r} is not registered")
            if partner["state"] != "active":
                raise Refused("partner_suspended", f"partner {source!r} is suspended")
            caller = Principal(source, partner["kind"], scopes=Scopes(types=tuple(types), endpoints=("intake",)))
            state["principal"] = caller
        elif caller.partner_code != source:
            raise Refused("forbidden", f"this key belongs to {caller.partner_code!r}, not {source!r}")
        state["message_ids"] = (message.get("message_id"),)
        try:
            prepared = prepare(message, caller, self.request.app.state.routes, rules=self.request.app.state.intake_rules)
        except Problem as problem:  # the canonical model refuses it (validation), or no route sends it anywhere
            raise Refused(problem.slug, problem.detail) from None
        try:
            [result] = await self.request.app.state.committer.submit([prepared])
        except StoreUnavailable:
            raise Unavailable("not stored") from None
        return str(result.verdict)

    def _member(self, source: str) -> bool:
        """``source`` is a member of this route's partner (hub.seam.Member: a ministry adapter)."""
        found = members(self.request.app.state.settings).get(source)
        return found is not None and found[0].code == self.ctx.code

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, *args)

    async def throttle(self, name: str, per_minute: int) -> None:
        limiter = self.request.app.state.gate.limiter
        if limiter is None or per_minute < 1:  # LIENTHONG_RATE_LIMITS_ENABLED=false
            return
        check = Check(f"throttle:{self.ctx.code}:{name}:{_address_bucket(self.client_ip)}", _per_minute(name, per_minute))
        decision = await limiter.check([check])
        headers = decision.headers()
        state = self.request.scope["state"]
        if headers:
            state["response_headers"] = headers  # RateLimit fields, and Retry-After on a refusal (hub/audit/recording.py)
        if not decision.allowed:
            state["outcome"] = "rate_limited"
            raise Refused("rate-limited", f"more than {per_minute} calls a minute from this address; "
                                          f"retry in {headers.get('Retry-After', '60')} s")

    def note(self, outcome: str, summary: str = "") -> None:
        state = self.request.scope["state"]
        state["outcome"], state["summary"] = outcome, summary[:300]
        if "principal" not in state and self.route.body == "callback":
            # a partner's callback proved by its own means: the access record names the partner it claims
            # to be (a citizen on a public page claims to be nobody)
            state["attempt"] = {"partner_code": self.ctx.code, "key_id": None, "account": None}

    def conceal(self, secret: str) -> None:
        state = self.request.scope["state"]
        if secret:
            state["path"] = state.get("path", self.request.scope["path"]).replace(secret, "***")


@lru_cache(maxsize=64)
def _per_minute(name: str, per_minute: int) -> Limit:
    return Limit(name, per_minute, 60.0)  # ValueError for a name outside [a-z0-9-]


def _address_bucket(ip: str) -> str:
    """The client address a throttle counts: itself, or its /64 for IPv6 (one subscriber's network)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _problem(refused: Refused) -> Problem:
    """A handler's refusal as a problem; one naming its field or rule lists it in ``errors``."""
    errors = [{"field": refused.field or "(request)", "rule": refused.rule or refused.slug, "message": refused.detail}] \
        if refused.field or refused.rule else None
    return Problem(refused.slug, refused.detail, errors)


def _reply(reply: Reply) -> Response:
    if isinstance(reply.body, bytes):
        return Response(reply.body, reply.status, dict(reply.headers), media_type=reply.media_type)
    response = json_response(reply.body, reply.status)
    response.headers.update(reply.headers)
    return response


def _endpoint(m: Manifest, route: InboundRoute) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        ctx = context(m.code, request.app.state.settings)
        try:
            return _reply(await route.handler(EdgeInbound(request, ctx, route)))
        except Refused as refused:  # a handler that answers in problem+json raises; the edge maps it
            raise _problem(refused) from None
        except Unavailable:
            raise StoreUnavailable("the partner's store cannot take it now") from None

    endpoint.__name__ = f"{m.code}_{getattr(route.handler, '__name__', 'inbound')}"
    return endpoint


def router() -> APIRouter:
    """Every partner's inbound routes, guarded."""
    api = APIRouter(route_class=GuardedRoute)
    for m in manifests():
        for route in m.routes:
            extra: dict[str, Any] = dict(route.openapi)
            if route.route_class is None:
                extra["security"] = []  # no API key: the partner's own proof
            if route.own_errors:
                extra["x-own-errors"] = True  # every answer in the partner's format, not problem+json
            api.add_api_route(route.path, _endpoint(m, route), methods=[route.method], summary=route.summary,
                              tags=[route.tag], openapi_extra=extra)
    return api
