"""Shared pieces of the catalogue tests: the portal simulator in this process, a synced hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from hub.config import Settings
from hub.context import context
from tests.conftest import Hub, make_settings, seed_hub
from tests.support import ThreadedServer


@dataclass
class Portal:
    server: ThreadedServer

    @property
    def url(self) -> str:
        return self.server.url

    def control(self, what: str, **body: Any) -> dict[str, Any]:
        if isinstance(body.get("decided_on"), date):
            body["decided_on"] = body["decided_on"].isoformat()
        r = httpx.post(f"{self.url}/_sim/catalogue/{what}", json=body, timeout=5)
        r.raise_for_status()
        result: dict[str, Any] = r.json()
        return result

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sim/reset", timeout=5).raise_for_status()

    def call(self, service: str, **fields: Any) -> dict[str, Any]:
        session = httpx.post(f"{self.url}/login", json={"username": "lienthong", "password": "sandbox-password"}).json()["session"]
        answer: dict[str, Any] = httpx.post(f"{self.url}/{service}", json={"session": session, "madonvi": "000.00.00.H49",
                                                                           "service": service, **fields}).json()
        return answer


def hub_settings(tmp: Path, redis_url: str, portal_url: str, onestop_url: str = "http://127.0.0.1:9", **dvc: Any) -> Settings:
    return make_settings(f"sqlite:///{tmp / 'hub.db'}", redis_url, tmp, retry_schedule=[0.2] * 5,
                         partner_settings={"national_dvc": {"adapter_url": portal_url, **dvc},
                                           "motcua": {"callback_url": onestop_url}})


def synced_hub(settings: Settings, tmp: Path) -> tuple[Hub, Any]:
    """A seeded hub and its portal context, its catalogue synced once."""
    from connectors.national_dvc.catalogue.sync import sync

    hub = seed_hub(settings, tmp)
    ctx = context("national_dvc", settings)
    sync(ctx)
    return hub, ctx
