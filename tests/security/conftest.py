"""A province under attack: the real app over loopback with one caller of every kind."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Iterator

import httpx
import pytest
from fastapi import FastAPI

from hub.access.accounts import add_account
from hub.access.keys import issue_key
from hub.edge.app import create_app
from hub.vault.store import Vault
from tests.conftest import Hub, make_settings, seed_hub
from tests.support import RedisServer, ThreadedServer

PASSWORD = "correct horse battery"
PEOPLE = {"operator": "olga", "auditor": "audrey", "admin": "alice"}


@dataclass
class Edge:
    """The running hub and a credential for each kind of caller (``anonymous`` sends none)."""

    url: str
    hub: Hub
    app: FastAPI
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def client(self, kind: str, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers[kind], timeout=30, **kwargs)  # type: ignore[arg-type]


def sign_in(url: str, username: str) -> str:
    answer = httpx.post(f"{url}/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def start_edge(hub: Hub, **overrides: object) -> tuple[ThreadedServer, Edge]:
    """Serve ``hub`` with ``overrides`` and sign every kind of caller in."""
    for kind, name in PEOPLE.items():
        add_account(hub.engine, name, name.title(), kind, PASSWORD, actor="test")
    Vault(hub.engine, hub.settings).put("national_payment.secret", "test-payment-secret", actor="test")  # callbacks answerable
    # the strongest partner key there is: every endpoint class and every look-up
    strongest = issue_key(hub.engine, "motcua", hub.settings.effective_key_pepper, "all scopes",
                          scopes={"endpoints": ["*"], "lookups": ["*"], "types": ["*"]})
    app = create_app(hub.settings.model_copy(update=overrides))
    server = ThreadedServer(app).start()
    edge = Edge(server.url, hub, app, {"anonymous": {}, "key": {"Authorization": f"ApiKey {strongest}"}})
    for kind, name in PEOPLE.items():
        edge.headers[kind] = {"Authorization": f"Bearer {sign_in(server.url, name)}"}
    return server, edge


@pytest.fixture(scope="module")
def edge(request: pytest.FixtureRequest, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """The hub, shared by a module's tests, with limits high enough that a walk over every route is
    never rate limited. Tests must leave it as they found it (their paths name nothing that exists).
    SQLite, as access does not depend on the store; ``LIENTHONG_EDGE_DB=postgresql`` runs the
    same tests (the fuzz above all: PostgreSQL refuses over-long values) on PostgreSQL."""
    tmp = tmp_path_factory.mktemp("edge")
    redis_server.flush()
    url = f"sqlite:///{tmp / 'hub.db'}"
    if os.environ.get("LIENTHONG_EDGE_DB") == "postgresql":
        url = request.getfixturevalue("pg_server").create_database(f"edge_{uuid.uuid4().hex[:12]}")
    settings = make_settings(url, redis_server.url, tmp,
                             rate_limits_default="per-second=100000/1", unauthenticated_quota=100000,
                             metrics_scrape_networks=[])
    hub = seed_hub(settings, tmp)
    server, edge = start_edge(hub)
    yield edge
    server.stop()
    hub.engine.dispose()
