"""The partners' synchronous look-ups (``Manifest.lookups``): for the population database,
``POST /v1/citizens/{lookup,verify,household,residence}``, an officer's look-up (docs/CITIZENS.md).

In order: the guard (``hub/edge/guard.py``: the key with route class ``lookup``, rate limit, the
body under its size limit, the HTTP message signature per the partner's policy) → the key's
look-up scope for this operation → the body (officer, purpose, dossier, ID, the officer's own
client: ``hub/messages/lookups.py``) → the officer's registration, validity and tier for the
dossier, and at the own-dossiers tier the citizen being one of the dossier's (``hub/citizens/tiers.py``)
→ the partner's call (``LookupOperation.ask``, in one of the partner's look-up threads: its client is
synchronous; ``Lookups.concurrency`` of them) → the canonical answer. Every call, refused or not,
leaves its access record; from the moment the body is valid it holds the citizen ID as a blind index
and the request (and the answer) encrypted, with the officer as the record's person, and the
officer's own client address and device as the one-stop system reports them (``officer_context``)
beside the calling server's. Answers are never cached: nothing is kept after the request, and
``Cache-Control: no-store`` tells every proxy and client the same.

Nothing here logs an ID number, a name or an address: failures are logged by type only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import Counter
from pydantic import ValidationError
from starlette.responses import Response

from hub.citizens import officers, tiers
from hub.context import context
from hub.edge.body import decode_json
from hub.edge.guard import GuardedRoute
from hub.edge.problems import Problem, validation_problem
from hub.edge.responses import json_response
from hub.messages.lookups import lookup_summary
from hub.plugins import manifests
from hub.seam import LookupFault, LookupOperation, Lookups, LookupTimeout, LookupUnavailable, Manifest

log = logging.getLogger(__name__)
LOOKUPS = Counter("lienthong_citizen_lookups_total", "Look-ups at the edge (population database...), by operation "
                  "and outcome", ["operation", "outcome"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_LONG_NUMBER = re.compile(r"\d{9,}")
_SAFE_FAULT_CODE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
_building = threading.Lock()
T = TypeVar("T")


def _per_app(app: FastAPI, name: str, code: str, make: Callable[[], T]) -> T:
    """``app.state.<name>[code]``, made once (under a lock) on first use."""
    made: dict[str, T] = getattr(app.state, name, None) or {}
    if code not in made:
        with _building:
            made = getattr(app.state, name, None) or {}
            if code not in made:
                made = {**made, code: make()}
                setattr(app.state, name, made)
    return made[code]


def lookup_client(app: FastAPI, m: Manifest) -> Any:
    """The process's client of partner ``m``'s look-ups, built on first use (a WSDL takes a while to load)."""
    assert m.lookups is not None
    lookups = m.lookups
    return _per_app(app, "lookup_clients", m.code, lambda: lookups.client(context(m.code, app.state.settings)))


def lookup_threads(app: FastAPI, m: Manifest) -> ThreadPoolExecutor:
    """Partner ``m``'s look-up threads: they bound the calls in flight to it, and handing work to them
    directly costs less than the shared thread pool's limiter (about 0.2 ms a call)."""
    assert m.lookups is not None
    lookups = m.lookups
    return _per_app(app, "lookup_threads", m.code, lambda: ThreadPoolExecutor(
        lookups.concurrency(context(m.code, app.state.settings)), thread_name_prefix=f"lienthong-{m.code}"))


def close_lookups(app: FastAPI) -> None:
    """Let the look-ups in flight finish, then release the clients' connections (app shutdown)."""
    pools, app.state.lookup_threads = getattr(app.state, "lookup_threads", None) or {}, {}
    for pool in pools.values():
        pool.shutdown(wait=True)
    clients, app.state.lookup_clients = getattr(app.state, "lookup_clients", None) or {}, {}
    for client in clients.values():
        client.close()


def _admit_and_ask(request: Request, m: Manifest, op: LookupOperation, partner: str, body: Any) -> dict[str, Any]:
    """In one look-up thread: check the officer for the dossier (raises :class:`tiers.Refused`), note the
    look-up on the officer, call the partner and build the answer (raises :class:`Problem`)."""
    engine = request.app.state.engine
    now = datetime.now(timezone.utc)
    officer = tiers.admit(engine, partner, body.officer_code, body.dossier_code, body.id_number, now)
    officers.touch(engine, officer, now)
    return _ask(request, m, op, body)


def plain_fault_code(code: str) -> bool:
    """May the partner's fault code be passed to the caller? Only a plain code (letters, digits,
    ``_.:-``) with no run of 9 digits or more: such a run may be an ID number from the request."""
    return bool(code) and set(code) <= _SAFE_FAULT_CODE and not _LONG_NUMBER.search(code)


def _ask(request: Request, m: Manifest, op: LookupOperation, body: Any) -> dict[str, Any]:
    """Call the partner and build the answer; every failure becomes a problem without the partner's
    internals or personal data (an unexpected error is logged by its type only: its text may hold both)."""
    assert m.lookups is not None
    problems, called = m.lookups.problems, m.lookups.called
    try:
        return op.ask(lookup_client(request.app, m), body, request.scope["state"]["request_id"])
    except LookupTimeout:
        raise Problem(problems["timeout"], f"{called} did not answer in time; try again later",
                      headers=NO_STORE) from None
    except LookupFault as fault:
        code = str(fault.code)[:40]
        extra: dict[str, Any] = {"fault_code": code} if plain_fault_code(code) else {}
        raise Problem(problems["fault"], f"{called} refused or failed the look-up", headers=NO_STORE, **extra) from None
    except LookupUnavailable:
        raise Problem(problems["unavailable"], f"{called} cannot be reached now; try again later",
                      headers=NO_STORE) from None
    except Exception as exc:  # noqa: BLE001 - an answer we cannot read; its text may hold personal data
        log.error("%s %s failed: %s (details withheld: they may hold personal data)", m.code, op.name, type(exc).__name__)
        raise Problem(problems["fault"], f"the answer of {called} could not be read", headers=NO_STORE) from None


async def serve(request: Request, m: Manifest, op: LookupOperation) -> Response:
    """One look-up ``op`` of partner ``m``, start to finish."""
    gate = request.app.state.gate
    state = request.scope["state"]
    state["kind"] = "lookup"
    caller = state["principal"]  # admitted by the guard (hub/edge/guard.py), body read, signature checked
    if not ("*" in caller.scopes.lookups or op.name in caller.scopes.lookups):
        rule = f"scope:lookup.{op.name}"
        gate.refuse(request, rule, partner=caller.partner_code, key_id=caller.key_id)
        raise Problem("forbidden", f"this key may not make {op.name} look-ups",
                      [{"field": "(key)", "rule": rule, "message": f"the key's scopes.lookups do not include {op.name!r}"}])
    try:
        body = op.request.model_validate(decode_json(await request.body()))
    except ValidationError as exc:
        LOOKUPS.labels(op.name, "validation").inc()
        raise validation_problem(exc) from None
    content: dict[str, Any] = {"operation": op.name, "request": body.model_dump(mode="json")}
    state.update(officer=body.officer_code, citizen=(body.id_number, content), officer_context=body.officer_context,
                 summary=lookup_summary(op.name, body.dossier_code))
    partner = caller.partner_code or ""
    try:
        answer = await asyncio.get_running_loop().run_in_executor(
            lookup_threads(request.app, m), _admit_and_ask, request, m, op, partner, body)
    except tiers.Refused as refused:
        LOOKUPS.labels(op.name, refused.rule).inc()
        gate.refuse(request, refused.rule, partner=partner, key_id=caller.key_id)
        raise Problem("forbidden", refused.message,
                      [{"field": refused.field, "rule": refused.rule, "message": refused.message}]) from None
    except Problem as problem:
        LOOKUPS.labels(op.name, problem.slug).inc()
        raise
    LOOKUPS.labels(op.name, "ok").inc()
    content["answer"] = answer
    response = json_response(answer)
    response.headers.update(NO_STORE)
    return response


def _endpoint(m: Manifest, op: LookupOperation) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await serve(request, m, op)
    endpoint.__name__ = f"{m.lookups.tag if m.lookups else m.code}_{op.name}"  # the OpenAPI operation id
    return endpoint


def _offered() -> list[tuple[Manifest, Lookups, LookupOperation]]:
    return [(m, m.lookups, op) for m in manifests() if m.lookups is not None for op in m.lookups.operations]


def fast_routes() -> dict[tuple[str, str], Callable[[Request], Any]]:
    """The look-ups skip FastAPI's middleware stack like the intake does (hub/edge/fast_path.py); the
    routes of :func:`router` still document them and serve them when the fast path is off."""
    return {("POST", f"{lookups.prefix}/{op.name}"): _endpoint(m, op) for m, lookups, op in _offered()}


def router() -> APIRouter:
    """Every partner's look-ups as documented, guarded routes."""
    api = APIRouter(route_class=GuardedRoute)
    for m, lookups, op in _offered():
        api.add_api_route(
            f"{lookups.prefix}/{op.name}", _endpoint(m, op), methods=["POST"], summary=op.summary, tags=[lookups.tag],
            description=(op.description or op.summary) + " Needs a key with the ``lookup`` route class and ``" + op.name
            + "`` in its look-up scopes, and a registered officer allowed for the dossier.",
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": op.request.model_json_schema(ref_template="#/components/schemas/{model}")}}}},
            responses={200: {"model": op.answer, "description": "the answer (never cached)"},
                       403: {"description": "key scope, or officer unregistered, disabled, revoked, expired or out of "
                                            "tier, or (own dossiers) a citizen who is not the dossier's"},
                       502: {"description": f"{lookups.called} failed or cannot be reached"},
                       504: {"description": f"{lookups.called} did not answer in time"}})
    return api
