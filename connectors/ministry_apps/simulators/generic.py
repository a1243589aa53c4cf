"""A configurable generic REST ministry, for tests of every auth and answer style; mounted at ``/generic``.

* Auth (``POST /_sim/config``): ``none``, ``api_key`` (a header), ``basic``, ``bearer`` (a token from
  ``POST /oauth/token``, client credentials by HTTP Basic or form fields, ``scope`` echoed) or
  ``session`` (``POST /login {username, password}`` -> ``{session, ttl: 600}``, then ``X-Session``).
  Wrong credentials: 401 ``{"error": "unauthorized"}``.
* ``POST|PUT /inbox/{anything}``: recorded (credentials only as present or not) and answered with the
  next scripted answer (``POST /_sim/script``), else 200 ``{"ok": true, "id": "<n>"}``.
* ``GET /feed?after=&limit=``: ``{events, next}`` over the events added by ``POST /_sim/events``.
* ``POST /_sim/push {url, body, headers}``: posts to the hub, returns ``{status, body}``.

Other controls under ``/_sim/``: ``state``, ``requests``, ``faults``, ``reset`` (everything back to the
start, configuration included).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal
from urllib.parse import parse_qs

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from connectors.ministry_apps.simulators.civil_status import basic_credentials, bearer_token, read_json
from connectors.sim_controls import add_controls, json_response, outage

TOKEN_TTL = 3600
SESSION_TTL = 600
#: Headers never recorded by value (only whether they were present), besides the configured API key header.
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-session", "x-api-key"}
Auth = Literal["none", "api_key", "basic", "bearer", "session"]


class Config(BaseModel):
    """How the ministry authenticates its callers."""

    auth: Auth = "none"
    api_key_header: str = "X-API-Key"
    api_key: str = "generic-key"
    username: str = "lienthong"
    password: str = "generic-password"
    client_id: str = "lienthong"
    client_secret: str = "generic-secret"


class ConfigPatch(BaseModel):
    """Body of ``POST /_sim/config``: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    auth: Auth | None = None
    api_key_header: str | None = Field(None, min_length=1)
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class Scripted(BaseModel):
    """One queued answer of the inbox."""

    model_config = ConfigDict(extra="forbid")

    status: int = Field(ge=100, le=599)
    body: str = ""
    content_type: str = "application/json"
    headers: dict[str, str] = Field(default_factory=dict)


class PushOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


SCRIPT = TypeAdapter(list[Scripted])
EVENTS = TypeAdapter(list[dict[str, Any]])


@dataclass
class Faults:
    latency_ms: int = 0
    down: bool = False
    fail_next: int = 0  # HTTP 503


class FaultsPatch(BaseModel):
    """Only the given fields change; ``expire_tokens: true`` forgets every token and session."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(None, ge=0)
    down: bool | None = None
    fail_next: int | None = Field(None, ge=0)
    expire_tokens: bool = False


def matches(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


class GenericMinistry:
    """The simulated ministry: configuration, tokens, sessions, recorded requests, script, feed."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.config = Config()
        self.faults = Faults()
        self.tokens: dict[str, float] = {}
        self.sessions: dict[str, float] = {}
        self.requests: list[dict[str, Any]] = []
        self.script: list[Scripted] = []
        self.feed: list[dict[str, Any]] = []
        self.accepted = 0
        self.counters: dict[str, Any] = {"inbox": 0, "unauthorized": 0, "faults": 0, "scripted": 0, "tokens_issued": 0,
                                         "sessions_opened": 0, "feed_calls": 0, "pushes": 0}

    def expire_tokens(self) -> None:
        """Forget every token and session (``POST /_sim/faults {"expire_tokens": true}``)."""
        self.tokens.clear()
        self.sessions.clear()

    def client_ok(self, authorization: str, form: dict[str, list[str]]) -> bool:
        """Client credentials by HTTP Basic, else by the form's ``client_id``/``client_secret``."""
        given = basic_credentials(authorization) or ((form.get("client_id") or [""])[0], (form.get("client_secret") or [""])[0])
        return matches(given[0], self.config.client_id) and matches(given[1], self.config.client_secret)

    def authorized(self, request: Request) -> bool:
        """Whether the request carries the credentials the configured auth style asks for."""
        config, headers, now = self.config, request.headers, self.clock()
        if config.auth == "none":
            return True
        if config.auth == "api_key":
            return matches(headers.get(config.api_key_header, ""), config.api_key)
        if config.auth == "basic":
            given = basic_credentials(headers.get("authorization", ""))
            return given is not None and matches(given[0], config.username) and matches(given[1], config.password)
        if config.auth == "bearer":
            return self.tokens.get(bearer_token(headers.get("authorization", "")), 0) > now
        return self.sessions.get(headers.get("x-session", ""), 0) > now

    def record(self, request: Request, body: bytes, authorized: bool) -> None:
        secret_names = CREDENTIAL_HEADERS | {self.config.api_key_header.lower()}
        self.requests.append({
            "method": request.method, "path": request.url.path, "query": request.url.query,
            "headers": {name: value for name, value in request.headers.items() if name not in secret_names},
            "credentials": {name: True for name in sorted(secret_names) if name in request.headers},
            "body": body.decode("utf-8", "replace"), "authorized": authorized,
        })

    def state(self) -> dict[str, Any]:
        return {"counters": self.counters, "auth": self.config.auth, "api_key_header": self.config.api_key_header,
                "queued_answers": len(self.script), "requests": len(self.requests), "feed": len(self.feed),
                "tokens": len(self.tokens), "sessions": len(self.sessions)}


def unauthorized(ministry: GenericMinistry) -> Response:
    ministry.counters["unauthorized"] += 1
    return json_response({"error": "unauthorized"}, 401)


def invalid(exc: ValidationError) -> Response:
    return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)


def create_app() -> FastAPI:
    """The generic ministry as an ASGI app (its :class:`GenericMinistry` is ``app.state.sim``)."""
    ministry = GenericMinistry()
    app = FastAPI(title="Generic REST ministry simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = ministry
    unavailable = {"error": "unavailable"}

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if not ministry.client_ok(request.headers.get("authorization", ""), form):
            return unauthorized(ministry)
        if (form.get("grant_type") or [""])[0] != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        issued = secrets.token_urlsafe(32)
        ministry.tokens[issued] = ministry.clock() + TOKEN_TTL
        ministry.counters["tokens_issued"] += 1
        answer: dict[str, Any] = {"access_token": issued, "token_type": "Bearer", "expires_in": TOKEN_TTL}
        if form.get("scope"):
            answer["scope"] = form["scope"][0]
        return json_response(answer)

    @app.post("/login")
    async def login(request: Request) -> Response:
        body = await read_json(request)
        if not (isinstance(body, dict) and isinstance(body.get("username"), str) and isinstance(body.get("password"), str)
                and matches(body["username"], ministry.config.username) and matches(body["password"], ministry.config.password)):
            return unauthorized(ministry)
        session = secrets.token_urlsafe(24)
        ministry.sessions[session] = ministry.clock() + SESSION_TTL
        ministry.counters["sessions_opened"] += 1
        return json_response({"session": session, "ttl": SESSION_TTL})

    @app.api_route("/inbox/{anything:path}", methods=["POST", "PUT"])
    async def inbox(request: Request, anything: str) -> Response:
        down = await outage(ministry.faults, ministry.counters, unavailable)
        if down is not None:
            return down
        allowed = ministry.authorized(request)
        ministry.record(request, await request.body(), allowed)
        if not allowed:
            return unauthorized(ministry)
        ministry.counters["inbox"] += 1
        if ministry.script:
            ministry.counters["scripted"] += 1
            scripted = ministry.script.pop(0)
            return Response(scripted.body, scripted.status, headers=scripted.headers, media_type=scripted.content_type)
        ministry.accepted += 1
        return json_response({"ok": True, "id": str(ministry.accepted)})

    @app.get("/feed")
    async def feed(request: Request, after: int = 0, limit: int = Query(100, ge=1, le=1000)) -> Response:
        down = await outage(ministry.faults, ministry.counters, unavailable)
        if down is not None:
            return down
        if not ministry.authorized(request):
            return unauthorized(ministry)
        ministry.counters["feed_calls"] += 1
        page = [event for event in ministry.feed if event["id"] > after][:limit]
        return json_response({"events": page, "next": page[-1]["id"] if page else after})

    @app.post("/_sim/config")
    async def config(request: Request) -> Response:
        try:
            patch = ConfigPatch.model_validate_json(await request.body())
        except ValidationError as exc:
            return invalid(exc)
        ministry.config = ministry.config.model_copy(update=patch.model_dump(exclude_none=True))
        return json_response({"auth": ministry.config.auth, "api_key_header": ministry.config.api_key_header})

    @app.post("/_sim/script")
    async def script(request: Request) -> Response:
        try:
            ministry.script.extend(SCRIPT.validate_json(await request.body()))
        except ValidationError as exc:
            return invalid(exc)
        return json_response({"queued": len(ministry.script)})

    @app.get("/_sim/requests")
    async def requests() -> Response:
        return json_response(ministry.requests)

    @app.post("/_sim/events")
    async def events(request: Request) -> Response:
        try:
            added = EVENTS.validate_json(await request.body())
        except ValidationError as exc:
            return invalid(exc)
        for event in added:
            ministry.feed.append({**event, "id": len(ministry.feed) + 1})
        return json_response({"feed": len(ministry.feed)})

    @app.post("/_sim/push")
    async def push(request: Request) -> Response:
        try:
            order = PushOrder.model_validate_json(await request.body())
        except ValidationError as exc:
            return invalid(exc)
        ministry.counters["pushes"] += 1
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                reply = await http.post(order.url, json=order.body, headers=order.headers)
        except httpx.HTTPError as exc:
            return json_response({"status": None, "body": f"{type(exc).__name__}: {exc}"})
        try:
            answer: Any = reply.json()
        except ValueError:
            answer = reply.text
        return json_response({"status": reply.status_code, "body": answer})

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(ministry.state())

    add_controls(app, ministry, FaultsPatch)
    return app
