"""``POST /v1/citizens/{lookup,verify,household,residence}``: an officer's look-up in the population
database, through the hub (docs/CITIZENS.md).

In order: the guard (``hub/edge/guard.py``: the key with route class ``lookup``, rate limit, the
body under its size limit, the HTTP message signature per the partner's policy) → the key's
look-up scope for this operation → the body (officer, purpose, dossier, ID, the officer's own
client) → the officer's registration, validity and tier for the dossier, and at the own-dossiers
tier the citizen being one of the dossier's (``hub/citizens/tiers.py``) → the SOAP call (in one of the look-up threads:
the client is synchronous; ``LIENTHONG_POPULATION_DB_CONCURRENCY`` of them) → the canonical
answer. Every call, refused or not, leaves its access record; from the moment the body is valid
it holds the citizen ID as a blind index and the request (and the answer) encrypted, with the
officer as the record's person, and the officer's own client address and device as the
one-stop system reports them (``officer_context``) beside the calling server's. Answers are never cached: nothing is
kept after the request, and ``Cache-Control: no-store`` tells every proxy and client the same.

Nothing here logs an ID number, a name or an address: failures are logged by type only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import Counter
from pydantic import ValidationError
from starlette.responses import Response

from connectors.population_db.errors import PopulationFault, PopulationTimeout, PopulationUnavailable
from connectors.population_db.interface import CitizenQuery, CongdanCollection, PopulationDbClient
from hub.citizens import answers, officers, tiers
from hub.citizens.answers import CitizenQueryIn, CitizensOut, VerifyIn, VerifyOut
from hub.edge.body import decode_json
from hub.edge.guard import GuardedRoute
from hub.edge.problems import Problem, validation_problem
from hub.edge.responses import json_response

log = logging.getLogger(__name__)
router = APIRouter(tags=["citizens"], route_class=GuardedRoute)
LOOKUPS = Counter("lienthong_citizen_lookups_total", "Population-database look-ups at the edge, by operation and outcome",
                  ["operation", "outcome"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_LONG_NUMBER = re.compile(r"\d{9,}")
_SAFE_FAULT_CODE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
_building = threading.Lock()

# operation -> (client method, request model, answer builder, answer model for the docs)
OPERATIONS: dict[str, tuple[str, type[CitizenQueryIn], Callable[[CongdanCollection], dict[str, Any]], type]] = {
    "lookup": ("lookup", CitizenQueryIn, answers.citizens, CitizensOut),
    "verify": ("verify", VerifyIn, answers.verified, VerifyOut),
    "household": ("household_head", CitizenQueryIn, answers.citizens, CitizensOut),
    "residence": ("current_residence", CitizenQueryIn, answers.citizens, CitizensOut),
}


def population_client(app: FastAPI) -> PopulationDbClient:
    """The process's population-database client, built on first use (loading the WSDL takes a while)."""
    client = getattr(app.state, "population", None)
    if client is None:
        with _building:
            client = getattr(app.state, "population", None)
            if client is None:
                from connectors.population_db.client import SoapPopulationClient

                client = app.state.population = SoapPopulationClient.from_settings(app.state.settings)
    return client


def lookup_threads(app: FastAPI) -> ThreadPoolExecutor:
    """The process's look-up threads: they bound the calls in flight to the database, and handing work
    to them directly costs less than the shared thread pool's limiter (about 0.2 ms a call)."""
    pool = getattr(app.state, "lookup_threads", None)
    if pool is None:
        with _building:
            pool = getattr(app.state, "lookup_threads", None)
            if pool is None:
                pool = app.state.lookup_threads = ThreadPoolExecutor(
                    app.state.settings.population_db_concurrency, thread_name_prefix="lienthong-lookup")
    return pool


def close_population_client(app: FastAPI) -> None:
    """Let the look-ups in flight finish, then release the client's connections (app shutdown)."""
    pool = getattr(app.state, "lookup_threads", None)
    if pool is not None:
        app.state.lookup_threads = None
        pool.shutdown(wait=True)
    client = getattr(app.state, "population", None)
    if client is not None:
        app.state.population = None
        client.close()


def _admit_and_ask(request: Request, partner: str, body: CitizenQueryIn, op: str) -> dict[str, Any]:
    """In one worker thread: check the officer for the dossier (raises :class:`tiers.Refused`), note the
    look-up on the officer, call the database and build the answer (raises :class:`Problem`)."""
    engine = request.app.state.engine
    now = datetime.now(timezone.utc)
    officer = tiers.admit(engine, partner, body.officer_code, body.dossier_code, body.id_number, now)
    officers.touch(engine, officer, now)
    query = CitizenQuery(request_id=request.scope["state"]["request_id"], officer_id=body.officer_code,
                         id_number=body.id_number, full_name=body.full_name,
                         birth_date=answers.partner_birth_date(body.birth_date))
    return _ask(request, op, query)


def plain_fault_code(code: str) -> bool:
    """May the partner's fault code be passed to the caller? Only a plain code (letters, digits,
    ``_.:-``) with no run of 9 digits or more: such a run may be an ID number from the request."""
    return bool(code) and set(code) <= _SAFE_FAULT_CODE and not _LONG_NUMBER.search(code)


def _ask(request: Request, op: str, query: CitizenQuery) -> dict[str, Any]:
    """Call the database and build the answer; every failure becomes a problem without the partner's
    internals or personal data (an unexpected error is logged by its type only: its text may hold both)."""
    method, _, build, _ = OPERATIONS[op]
    try:
        return build(getattr(population_client(request.app), method)(query))
    except PopulationTimeout:
        raise Problem("population-db-timeout", "the population database did not answer in time; try again later",
                      headers=NO_STORE) from None
    except PopulationFault as fault:
        code = str(fault.code)[:40]
        extra = {"fault_code": code} if plain_fault_code(code) else {}
        raise Problem("population-db-fault", "the population database refused or failed the look-up",
                      headers=NO_STORE, **extra) from None
    except PopulationUnavailable:
        raise Problem("population-db-unavailable", "the population database cannot be reached now; try again later",
                      headers=NO_STORE) from None
    except Exception as exc:  # noqa: BLE001 - an answer we cannot read; its text may hold personal data
        log.error("population-db %s failed: %s (details withheld: they may hold personal data)", op, type(exc).__name__)
        raise Problem("population-db-fault", "the population database's answer could not be read",
                      headers=NO_STORE) from None


async def serve(request: Request, op: str) -> Response:
    """One look-up of kind ``op`` (a key of :data:`OPERATIONS`), start to finish."""
    model = OPERATIONS[op][1]
    gate = request.app.state.gate
    state = request.scope["state"]
    state["kind"] = "lookup"
    caller = state["principal"]  # admitted by the guard (hub/edge/guard.py), body read, signature checked
    if not ("*" in caller.scopes.lookups or op in caller.scopes.lookups):
        rule = f"scope:lookup.{op}"
        gate.refuse(request, rule, partner=caller.partner_code, key_id=caller.key_id)
        raise Problem("forbidden", f"this key may not make {op} look-ups",
                      [{"field": "(key)", "rule": rule, "message": f"the key's scopes.lookups do not include {op!r}"}])
    try:
        body = model.model_validate(decode_json(await request.body()))
    except ValidationError as exc:
        LOOKUPS.labels(op, "validation").inc()
        raise validation_problem(exc) from None
    content: dict[str, Any] = {"operation": op, "request": body.model_dump(mode="json")}
    state.update(officer=body.officer_code, citizen=(body.id_number, content), officer_context=body.officer_context,
                 summary=f"citizens.{op} for dossier {body.dossier_code}")
    partner = caller.partner_code or ""
    try:
        answer = await asyncio.get_running_loop().run_in_executor(
            lookup_threads(request.app), _admit_and_ask, request, partner, body, op)
    except tiers.Refused as refused:
        LOOKUPS.labels(op, refused.rule).inc()
        gate.refuse(request, refused.rule, partner=partner, key_id=caller.key_id)
        raise Problem("forbidden", refused.message,
                      [{"field": refused.field, "rule": refused.rule, "message": refused.message}]) from None
    except Problem as problem:
        LOOKUPS.labels(op, problem.slug).inc()
        raise
    LOOKUPS.labels(op, "ok").inc()
    content["answer"] = answer
    response = json_response(answer)
    response.headers.update(NO_STORE)
    return response


def _endpoint(op: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await serve(request, op)
    endpoint.__name__ = f"citizens_{op}"
    return endpoint


DOCS = {
    "lookup": "The citizen with this ID (``TraCuuThongTinCongDan``).",
    "verify": "Whether ID, name and birth date match one citizen (``XacThucThongTinCongDan``); answers only ``match``.",
    "household": "The citizen with their household head (``XacMinhThongTinChuHo``).",
    "residence": "The citizen with their current residence (``XacMinhThongTinNoiOHienTai``).",
}

#: The look-ups skip FastAPI's middleware stack like the intake does (hub/edge/fast_path.py); the
#: routes below still document them and serve them when the fast path is off.
FAST_ROUTES = {("POST", f"/v1/citizens/{op}"): _endpoint(op) for op in OPERATIONS}

for _op, (_, _model, _, _answer) in OPERATIONS.items():
    router.add_api_route(
        f"/v1/citizens/{_op}", _endpoint(_op), methods=["POST"], summary=DOCS[_op].split(" (")[0],
        description=DOCS[_op] + " Needs a key with the ``lookup`` route class and ``" + _op + "`` in its look-up "
                    "scopes, and a registered officer allowed for the dossier.",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": _model.model_json_schema(ref_template="#/components/schemas/{model}")}}}},
        responses={200: {"model": _answer, "description": "the answer (never cached)"},
                   403: {"description": "key scope, or officer unregistered, disabled, revoked, expired or out of "
                                        "tier, or (own dossiers) a citizen who is not the dossier's"},
                   502: {"description": "the population database failed or cannot be reached"},
                   504: {"description": "the population database did not answer in time"}})
