"""One hub per test module for the portal's parts: a migrated SQLite database, its API, the portal and
one-stop simulators in this process (real HTTP on loopback), and deliveries drained in this process
(the worker's own ``Deliverer``), so that a test drives each step and time without sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from redis import Redis

from connectors.motcua.simulator import create_app as motcua_app
from connectors.national_dvc.simulator import create_app as portal_app
from hub.context import connector, context
from hub.edge.app import create_app
from hub.queue.deliverer import Deliverer
from tests.conftest import Hub, make_settings, seed_hub
from tests.support import RedisServer, ThreadedServer


@dataclass
class Portal:
    hub: Hub
    api: httpx.Client  #: the hub's API with the one-stop system's key
    portal: httpx.Client  #: the portal simulator
    motcua: httpx.Client  #: the one-stop simulator
    deliverer: Deliverer

    @property
    def ctx(self) -> Any:
        return context("national_dvc", self.hub.settings)

    def drain(self, destination: str) -> int:
        return self.deliverer.drain(destination, budget_seconds=10)

    def state(self, part: str) -> Any:
        return self.portal.get("/_sim/state").json()[part]


@pytest.fixture(scope="module")
def env(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    tmp: Path = tmp_path_factory.mktemp("portal-parts")
    redis_server.flush()
    with ThreadedServer(portal_app()).start() as portal, ThreadedServer(motcua_app()).start() as motcua:
        settings = make_settings(f"sqlite:///{tmp / 'hub.db'}", redis_server.url, tmp, partner_settings={
            "national_dvc": {"adapter_url": portal.url}, "motcua": {"callback_url": f"{motcua.url}/lienthong/messages"}})
        hub = seed_hub(settings, tmp)
        api = ThreadedServer(create_app(settings)).start()
        redis = Redis.from_url(settings.redis_url)
        deliverer = Deliverer(settings, hub.engine, redis, lambda d: connector(d, settings))
        with httpx.Client(base_url=api.url, headers={"Authorization": f"ApiKey {hub.keys['motcua']}"}, timeout=30) as a, \
                httpx.Client(base_url=portal.url, timeout=10) as p, httpx.Client(base_url=motcua.url, timeout=10) as m:
            yield Portal(hub, a, p, m, deliverer)
        deliverer.close()
        api.stop()
        redis.close()
        hub.engine.dispose()
