"""Shared parts of the ministry adapter tests: the ministry simulators as one real server on loopback
(each request it takes noted at its edge: the generic ministry records only its inbox), adapter files
written into a test's folder beside copies of the shipped wire schemas and samples, one adapter run the
way the connector runs it (render, send, classify), and a hub whose adapters folder is the test's."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import httpx
import orjson
import pytest
from fastapi import Request, Response
from sqlalchemy import Engine, select

from connectors.ministry_apps.answers import Answer, Verdict, classify
from connectors.ministry_apps.outbound import Fetch, Wire, render
from connectors.ministry_apps.registry import Loaded
from connectors.ministry_apps.simulators import create_app
from hub.config import Settings
from hub.seam import MESSAGE_ADAPTER
from hub.store.engine import reading
from hub.store.tables import deliveries, messages
from tests.conftest import make_settings
from tests.support import ROOT, ThreadedServer

SHIPPED = ROOT / "connectors" / "ministry_apps" / "adapters"
PREFIXES = ("/hotich", "/dat", "/soap", "/generic")
#: One client for the module: a new one per call builds a TLS context each time (tens of ms).
http = httpx.Client(timeout=10)


@dataclass
class Sims:
    """The ministry simulators (``/hotich``, ``/dat``, ``/soap``, ``/generic``) at ``url``; ``app`` is the
    in-process ASGI app (``app.state.sims``: each simulator's state object)."""

    url: str
    app: Any
    seen: list[tuple[str, str, str]]  #: every request the server took: (method, path, query), in order

    def post(self, path: str, body: Any = None) -> Any:
        answer = http.post(f"{self.url}{path}", json=body)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    def get(self, path: str) -> Any:
        answer = http.get(f"{self.url}{path}")
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    def reset(self) -> None:
        for prefix in PREFIXES:
            self.post(f"{prefix}/_sim/reset")
        self.seen.clear()

    def asked(self, path: str) -> list[str]:
        """The query strings of the requests to ``path`` (the generic ministry records only its inbox)."""
        return [query for _, seen, query in list(self.seen) if seen == path]

    # the generic REST ministry
    @property
    def generic(self) -> str:
        return f"{self.url}/generic"

    def configure(self, **config: Any) -> None:
        self.post("/generic/_sim/config", config)

    def script(self, *answers: dict[str, Any]) -> None:
        self.post("/generic/_sim/script", list(answers))

    def requests(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("/generic/_sim/requests")
        return found

    def counters(self, prefix: str = "/generic") -> dict[str, Any]:
        found: dict[str, Any] = self.get(f"{prefix}/_sim/state")["counters"]
        return found


def start_sims(hub_url: str = "http://127.0.0.1:9") -> tuple[ThreadedServer, Sims]:
    """The four simulators as one server (pace 0: a dossier's state moves only by the controls)."""
    app = create_app(hub_url=hub_url, pace=0)
    seen: list[tuple[str, str, str]] = []

    @app.middleware("http")
    async def note(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if "/_sim/" not in request.url.path:
            seen.append((request.method, request.url.path, request.url.query))
        return await call_next(request)

    server = ThreadedServer(app).start()
    return server, Sims(server.url, app, seen)


@pytest.fixture(scope="session")
def sims_server() -> Iterator[Sims]:
    server, sims = start_sims()
    yield sims
    server.stop()


@pytest.fixture
def sims(sims_server: Sims) -> Sims:
    """The simulators, every one reset (state, configuration, faults, counters) for this test."""
    sims_server.reset()
    return sims_server


def make_folder(target: Path) -> Path:
    """``target`` as an adapters folder: copies of the shipped ``wire/`` and ``samples/``, no adapter yet."""
    target.mkdir(parents=True)
    for sub in ("wire", "samples"):
        shutil.copytree(SHIPPED / sub, target / sub)
    return target


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """This test's adapters folder (:func:`make_folder`)."""
    return make_folder(tmp_path / "adapters")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def canonical(message: dict[str, Any]) -> dict[str, Any]:
    """A canonical message in its JSON form, as the connector renders it."""
    out: dict[str, Any] = MESSAGE_ADAPTER.validate_python(message).model_dump(mode="json")
    return out


def run(loaded: Loaded, wire: Wire, message: dict[str, Any], fetch: Fetch | None = None) -> tuple[Answer, Verdict]:
    """One message through ``loaded`` as the connector does it: rendered, sent by ``wire``, classified."""
    msg = canonical(message)
    answer = wire.send(render(loaded, msg, fetch))
    send = loaded.adapter.send[msg["type"]]
    return answer, classify([*send.answer, *loaded.adapter.answer], answer, f"send.{msg['type']}.answer")


def ministry_settings(tmp_path: Path, redis_url: str, folder: Path, **overrides: Any) -> Settings:
    """The hub's settings with ``folder`` as its adapters folder (pulls looked at every 0.2 s; spawned
    workers get it through the environment), SQLite, and a short retry schedule."""
    values: dict[str, Any] = {"retry_schedule": [0.2, 0.4], **overrides}
    return make_settings(f"sqlite:///{tmp_path / 'hub.db'}", redis_url, tmp_path,
                         partner_settings={"ministry_apps": {"folder": str(folder), "pull_seconds": 0.2}}, **values)


@dataclass(frozen=True)
class Stored:
    """A message the hub stored, and where it is routed."""

    message_id: str
    type: str
    dossier_code: str
    body: dict[str, Any]
    destinations: tuple[str, ...]


def stored(engine: Engine, source: str) -> list[Stored]:
    """The messages from ``source``, in the order they were stored."""
    with reading(engine) as conn:
        rows = conn.execute(select(messages).where(messages.c.source == source).order_by(messages.c.id)).mappings().all()
        routed = conn.execute(select(deliveries.c.message_pk, deliveries.c.destination)
                              .where(deliveries.c.message_pk.in_([r["id"] for r in rows]))).all()
    return [Stored(r["message_id"], r["type"], r["dossier_code"], orjson.loads(r["body"]),
                   tuple(sorted(d for pk, d in routed if pk == r["id"]))) for r in rows]
