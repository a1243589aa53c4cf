"""The land-registration system, as a real HTTP server that calls the hub back; mounted at ``/dat``.

Partner endpoints (answers ``{data, status{success, code, message}}``, HTTP 200 even on refusals):

* ``POST /oauth/token``: form ``grant_type=client_credentials``, client by HTTP Basic ->
  ``{access_token, token_type: "Bearer", expires_in: 3600}``; 401 ``{"error": "invalid_client"}``.
* ``POST /api/tiepnhan`` (``wire/tiepnhan.schema.json``) -> ``data.maHoSoDat`` (the same one again for a
  known maHoSo); ``POST /api/capnhattrangthaibosunghoso``, ``POST /api/capnhattrangthaitraketquahoso``
  (code ``"404"`` for an unknown maHoSo). Invalid: code ``"400"``; ``busy_next``: code ``"503"``.
* ``GET /files/<id>``: the result files the KetThucHoSo callback names.

Each received dossier's steps are POSTed to ``{hub_url}/v1/ministry/land/hooks/{Event}/{secret}``, one
every ``pace`` seconds: ChuyenHoSo, [YeuCauBoSungHoSo, (waits for the supplement) NhanBoSungHoSo],
[GuiKetQuaThue], KetThucHoSo. A failed callback (no answer, non-2xx, or success false with a 5xx code)
is retried every ``pace`` seconds, at most 10 times; every attempt is recorded. Controls under
``/_sim/``: ``state``, ``callback`` (send one event now), ``pace``, ``faults``, ``reset``.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, quote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.ministry_apps.simulators.civil_status import (
    bad_date,
    base_url,
    basic_credentials,
    bearer_token,
    fake_pdf,
    first_refusal,
    read_json,
    undecodable,
    validator,
    vn_time,
)
from connectors.sim_controls import add_controls, add_pace, json_response, outage

TIME = "%Y-%m-%dT%H:%M:%S"
TOKEN_TTL = 3600
RETRIES = 10
EVENTS = ("ChuyenHoSo", "YeuCauBoSungHoSo", "NhanBoSungHoSo", "GuiKetQuaThue", "KetThucHoSo")
OFFICER = "Trần Thị Thẩm Định"


@dataclass
class Faults:
    """Injected misbehaviour (``POST /_sim/faults``): the shared ones, then the land system's own."""

    latency_ms: int = 0
    down: bool = False
    fail_next: int = 0  # HTTP 503
    busy_next: int = 0  # HTTP 200, code "503" "Hệ thống đang bảo trì"
    supplement_next: int = 0  # the next received dossiers ask for a supplement and wait for it
    tax_next: int = 0  # the next received dossiers send GuiKetQuaThue before KetThucHoSo


class FaultsPatch(BaseModel):
    """Only the given fields change; ``expire_tokens: true`` forgets every token."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(None, ge=0)
    down: bool | None = None
    fail_next: int | None = Field(None, ge=0)
    busy_next: int | None = Field(None, ge=0)
    supplement_next: int | None = Field(None, ge=0)
    tax_next: int | None = Field(None, ge=0)
    expire_tokens: bool = False


class CallbackOrder(BaseModel):
    """Body of ``POST /_sim/callback``: send ``event`` of dossier ``maHoSo`` now (``secret`` overrides the path's)."""

    model_config = ConfigDict(extra="forbid")

    maHoSo: str
    event: str
    secret: str | None = None



@dataclass
class Dossier:
    maHoSo: str
    maHoSoDat: str
    base: str  # this simulator's URL as the hub reached it: result files are named under it
    script: list[str]
    certificate: str
    file_id: str
    supplied: asyncio.Event = field(default_factory=asyncio.Event)
    step: str = "TiepNhan"  # the last event the hub took
    handed_over: bool = False
    attempts: list[dict[str, Any]] = field(default_factory=list)


def envelope(data: Any, success: bool, code: str, message: str) -> Response:
    return json_response({"data": data, "status": {"success": success, "code": code, "message": message}})


class LandSystem:
    """The simulated land system: its OAuth client, tokens, dossiers, callbacks, faults and counters."""

    def __init__(self, client_id: str, client_secret: str, hub_url: str, secret: str, pace: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.client_id, self.client_secret, self.hub_url, self.secret = client_id, client_secret, hub_url.rstrip("/"), secret
        self.initial_pace, self.clock = pace, clock
        self.checks = {name: validator(name) for name in ("tiepnhan", "capnhattrangthaibosunghoso", "capnhattrangthaitraketquahoso")}
        self.tasks: set[asyncio.Task[None]] = set()
        self.reset()

    def reset(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks = set()
        self.faults = Faults()
        self.pace = self.initial_pace
        self.tokens: dict[str, float] = {}
        self.dossiers: dict[str, Dossier] = {}
        self.files: dict[str, bytes] = {}
        self.counters: dict[str, Any] = {
            "received": 0, "duplicates": 0, "invalid": 0, "unknown": 0, "unauthorized": 0, "faults": 0, "busy": 0,
            "tokens_issued": 0, "supplements": 0, "results_handed": 0, "callbacks_sent": 0, "callbacks_failed": 0,
        }

    def expire_tokens(self) -> None:
        """Forget every token (``POST /_sim/faults {"expire_tokens": true}``)."""
        self.tokens.clear()

    # -- OAuth ------------------------------------------------------------------------------------

    def issue(self, authorization: str, grant_type: str) -> tuple[int, dict[str, Any]]:
        client = basic_credentials(authorization)
        if client is None or not (secrets.compare_digest(client[0].encode(), self.client_id.encode())
                                  and secrets.compare_digest(client[1].encode(), self.client_secret.encode())):
            return 401, {"error": "invalid_client"}
        if grant_type != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.clock() + TOKEN_TTL
        self.counters["tokens_issued"] += 1
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL}

    def authorized(self, authorization: str) -> bool:
        expires = self.tokens.get(bearer_token(authorization))
        return expires is not None and expires > self.clock()

    # -- the partner's calls ------------------------------------------------------------------------

    def check(self, name: str, body: Any, date: str) -> str | None:
        """The reason to refuse ``body`` of call ``name`` (naming the field), or None."""
        reason = first_refusal(self.checks[name], body)
        if reason is None:
            reason = bad_date(body[date], TIME, date) or undecodable(body.get("tepDinhKem", []), "noiDung", "tepDinhKem")
        return reason

    def receive(self, body: dict[str, Any], base: str) -> Dossier:
        """The dossier of a checked tiepnhan body: known, or new with its steps scheduled."""
        known = self.dossiers.get(body["maHoSo"])
        if known is not None:
            self.counters["duplicates"] += 1
            return known
        number = len(self.dossiers) + 1
        script = ["ChuyenHoSo"]
        if self.faults.supplement_next > 0:
            self.faults.supplement_next -= 1
            script += ["YeuCauBoSungHoSo", "NhanBoSungHoSo"]
        if self.faults.tax_next > 0:
            self.faults.tax_next -= 1
            script.append("GuiKetQuaThue")
        script.append("KetThucHoSo")
        dossier = Dossier(body["maHoSo"], f"DKDD-{vn_time(self.clock(), '%Y')}-{number:06d}", base, script,
                          f"CS{number:06d}", secrets.token_hex(12))
        self.files[dossier.file_id] = fake_pdf(f"giấy chứng nhận {dossier.certificate}")
        self.dossiers[dossier.maHoSo] = dossier
        self.counters["received"] += 1
        task = asyncio.get_running_loop().create_task(self.run(dossier))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return dossier

    # -- callbacks ----------------------------------------------------------------------------------

    def payload(self, dossier: Dossier, event: str) -> dict[str, Any]:
        """The JSON body of ``event`` for ``dossier``."""
        body: dict[str, Any] = {"maHoSo": dossier.maHoSo, "maHoSoDat": dossier.maHoSoDat, "thoiGian": vn_time(self.clock(), TIME)}
        if event == "GuiKetQuaThue":
            return {**body, "soTien": 1250000, "noiDung": "Thông báo nộp lệ phí trước bạ nhà, đất"}
        body["canBoXuLy"] = OFFICER
        body["noiDung"] = {
            "ChuyenHoSo": "Đã chuyển hồ sơ cho cán bộ xử lý",
            "YeuCauBoSungHoSo": "Yêu cầu bổ sung bản sao giấy chứng nhận quyền sử dụng đất đã cấp",
            "NhanBoSungHoSo": "Đã nhận hồ sơ bổ sung",
            "KetThucHoSo": "Đã hoàn thành, cấp giấy chứng nhận quyền sử dụng đất",
        }[event]
        if event == "KetThucHoSo":
            body["soGiayChungNhan"] = dossier.certificate
            body["tepKetQua"] = [{"tenTep": f"{dossier.certificate}.pdf", "duongDan": f"{dossier.base}/files/{dossier.file_id}",
                                  "maBam": hashlib.sha256(self.files[dossier.file_id]).hexdigest()}]
        return body

    async def send(self, dossier: Dossier, event: str, secret: str | None = None) -> tuple[int | None, Any, str]:
        """POST ``event`` once; ``(hub HTTP status or None, its answer, outcome)``, the attempt recorded.

        Outcome: ``ok``; ``failed`` (no answer, non-2xx, or success false with a 5xx code: worth a
        retry); ``refused`` (success false with another code)."""
        url = f"{self.hub_url}/v1/ministry/land/hooks/{event}/{quote(self.secret if secret is None else secret, safe='')}"
        status: int | None = None
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                reply = await http.post(url, json=self.payload(dossier, event))
            status = reply.status_code
            try:
                answer: Any = reply.json()
            except ValueError:
                answer = reply.text
        except httpx.HTTPError as exc:
            answer = f"{type(exc).__name__}: {exc}"
        verdict = answer.get("status") if isinstance(answer, dict) else None
        if status is None or not 200 <= status < 300:
            outcome = "failed"
        elif isinstance(verdict, dict) and verdict.get("success") is False:
            outcome = "failed" if str(verdict.get("code", "")).startswith("5") else "refused"
        else:
            outcome = "ok"
        if outcome == "ok":
            dossier.step = event
        attempt = sum(1 for a in dossier.attempts if a["event"] == event) + 1
        dossier.attempts.append({"event": event, "attempt": attempt, "status": status, "outcome": outcome})
        self.counters["callbacks_sent" if outcome == "ok" else "callbacks_failed"] += 1
        return status, answer, outcome

    async def wait_pace(self) -> None:
        """Sleep one pace; while the pace is 0, wait for it to be set (``POST /_sim/pace``)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while self.pace <= 0 or loop.time() - start < self.pace:
            if self.pace <= 0:
                start = loop.time()
            await asyncio.sleep(0.05 if self.pace <= 0 else min(0.05, max(0.0, start + self.pace - loop.time())))

    async def run(self, dossier: Dossier) -> None:
        """Send the dossier's steps on the pace, each retried at most :data:`RETRIES` times (then it stops)."""
        for event in dossier.script:
            if event == "NhanBoSungHoSo":
                await dossier.supplied.wait()
            await self.wait_pace()
            for retry in range(RETRIES + 1):
                if retry:
                    await self.wait_pace()
                if (await self.send(dossier, event))[2] != "failed":
                    break
            else:
                return

    def state(self) -> dict[str, Any]:
        return {"counters": self.counters, "pace": self.pace, "tokens": len(self.tokens),
                "dossiers": {code: {"maHoSoDat": d.maHoSoDat, "step": d.step, "handed_over": d.handed_over, "events": d.attempts}
                             for code, d in self.dossiers.items()}}


def create_app(client_id: str = "lienthong", client_secret: str = "sandbox-land-client-secret",
               hub_url: str = "http://127.0.0.1:8000", secret: str = "sandbox-land-callback-secret", pace: float = 2.0) -> FastAPI:
    """The land system as an ASGI app (its :class:`LandSystem` is ``app.state.sim``)."""
    land = LandSystem(client_id, client_secret, hub_url, secret, pace)
    app = FastAPI(title="Land-registration system simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = land
    unavailable = {"data": None, "status": {"success": False, "code": "503", "message": "Service Unavailable"}}

    async def gate(request: Request) -> Response | None:
        """Shared faults, then the bearer token, then ``busy_next``: the answer that stops the call, or None."""
        down = await outage(land.faults, land.counters, unavailable)
        if down is not None:
            return down
        if not land.authorized(request.headers.get("authorization", "")):
            land.counters["unauthorized"] += 1
            return json_response({"data": None, "status": {"success": False, "code": "401", "message": "Unauthorized"}}, 401)
        if land.faults.busy_next > 0:
            land.faults.busy_next -= 1
            land.counters["busy"] += 1
            return envelope(None, False, "503", "Hệ thống đang bảo trì")
        return None

    async def checked(request: Request, name: str, date: str) -> tuple[Any, Response | None]:
        """The body of call ``name``, or the answer that refuses it."""
        stop = await gate(request)
        if stop is not None:
            return None, stop
        body = await read_json(request)
        reason = land.check(name, body, date) if body is not None else "Nội dung yêu cầu không phải JSON hợp lệ"
        if reason is not None:
            land.counters["invalid"] += 1
            return None, envelope(None, False, "400", reason)
        return body, None

    def unknown() -> Response:
        land.counters["unknown"] += 1
        return envelope(None, False, "404", "Không tìm thấy hồ sơ")

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        down = await outage(land.faults, land.counters, {"error": "temporarily_unavailable"})
        if down is not None:
            return down
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        status, body = land.issue(request.headers.get("authorization", ""), (form.get("grant_type") or [""])[0])
        answer = json_response(body, status)
        if status == 401:
            answer.headers["WWW-Authenticate"] = 'Basic realm="dat"'
        return answer

    @app.post("/api/tiepnhan")
    async def tiepnhan(request: Request) -> Response:
        body, refused = await checked(request, "tiepnhan", "ngayNhan")
        if refused is not None:
            return refused
        dossier = land.receive(body, base_url(request))
        return envelope({"maHoSoDat": dossier.maHoSoDat}, True, "200", "Tiếp nhận thành công")

    @app.post("/api/capnhattrangthaibosunghoso")
    async def bosung(request: Request) -> Response:
        body, refused = await checked(request, "capnhattrangthaibosunghoso", "ngayBoSung")
        if refused is not None:
            return refused
        dossier = land.dossiers.get(body["maHoSo"])
        if dossier is None:
            return unknown()
        land.counters["supplements"] += 1
        dossier.supplied.set()
        return envelope({"maHoSoDat": dossier.maHoSoDat}, True, "200", "Cập nhật thành công")

    @app.post("/api/capnhattrangthaitraketquahoso")
    async def traketqua(request: Request) -> Response:
        body, refused = await checked(request, "capnhattrangthaitraketquahoso", "ngayTra")
        if refused is not None:
            return refused
        dossier = land.dossiers.get(body["maHoSo"])
        if dossier is None:
            return unknown()
        land.counters["results_handed"] += 1
        dossier.handed_over = True
        return envelope({"maHoSoDat": dossier.maHoSoDat}, True, "200", "Cập nhật thành công")

    @app.get("/files/{file_id}")
    async def result_file(file_id: str) -> Response:
        content = land.files.get(file_id)
        if content is None:
            return envelope(None, False, "404", "Không tìm thấy tệp")
        return Response(content, media_type="application/pdf")

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(land.state())

    @app.post("/_sim/callback")
    async def callback(request: Request) -> Response:
        try:
            order = CallbackOrder.model_validate_json(await request.body())
        except ValidationError as exc:
            return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)
        if order.event not in EVENTS:
            return json_response({"error": f"unknown event; one of {', '.join(EVENTS)}"}, 400)
        dossier = land.dossiers.get(order.maHoSo)
        if dossier is None:
            return json_response({"error": "unknown dossier"}, 404)
        status, answer, _ = await land.send(dossier, order.event, order.secret)
        return json_response({"status": status, "body": answer})

    add_pace(app, land)
    add_controls(app, land, FaultsPatch)
    return app
