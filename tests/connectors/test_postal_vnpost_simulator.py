"""The VNPost simulator: its command line, its account checks, its clock, and its schemas as generated."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from connectors.postal_vnpost.manifest import MANIFEST
from connectors.postal_vnpost.simulator import create_app
from connectors.postal_vnpost.wire import SCHEMA_DIR, SCHEMA_MODELS, export, schema_files
from tests.support import Process, ThreadedServer, free_port, wait_port

ORDER = {
    "CustomerCode": "LIENTHONG-SBX", "OrderNumber": "000.00.00.H49-261123-0001", "SenderName": "A", "SenderAddress": "B",
    "SenderTel": "0912345678", "SenderProvince": "22", "SenderDistrict": "193", "ReceiverName": "C",
    "ReceiverAddress": "D", "ReceiverTel": "02033835555", "ReceiverProvince": "22", "ReceiverDistrict": "193",
}


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def token(url: str, secret: str) -> httpx.Response:
    return httpx.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("lienthong", secret))


@pytest.fixture
def fast(request: pytest.FixtureRequest) -> Iterator[str]:
    kwargs: dict[str, Any] = getattr(request, "param", {})
    with ThreadedServer(create_app(**kwargs)).start() as server:
        yield server.url


def bearer(url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(url, 'sandbox-vnpost-secret').json()['access_token']}"}


def test_command_line_simulator_takes_its_secret_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "VNPOST_SIM_CLIENT_SECRET": "from-the-environment"}
    process = Process(["-m", "hub.cli", "simulator", "postal-vnpost", "--port", str(port), "--speed", "0"], env,
                      tmp_path / "sim.log").start()
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}"
        assert token(url, "sandbox-vnpost-secret").status_code == 401
        answer = token(url, "from-the-environment")
        assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
        assert httpx.get(f"{url}/_sim/state").json()["speed"] == 0
    finally:
        process.stop()


def test_manifest_points_the_hub_at_every_simulator_endpoint() -> None:
    assert MANIFEST.simulator is not None and MANIFEST.simulator.port == 8105
    env = MANIFEST.simulator.hub_env("http://127.0.0.1:9999")
    fields = {name.removeprefix("LIENTHONG_POSTAL_VNPOST_").lower() for name in env}
    assert fields == {"token_url", "order_url", "cancel_url", "tracking_url", "price_url"}
    defaults = MANIFEST.settings()
    assert {getattr(defaults, f) for f in fields} == {v.replace("9999", "8105") for v in env.values()}
    assert "client_secret" in MANIFEST.secret_settings


def test_calls_without_a_valid_bearer_token_are_401(fast: str) -> None:
    assert httpx.post(f"{fast}/api/orders", json=ORDER).status_code == 401
    assert httpx.get(f"{fast}/api/tracking", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert httpx.post(f"{fast}/api/orders", json=ORDER, headers=bearer(fast)).json()["Status"] == "100"


def test_token_request_needs_the_client_credentials_grant(fast: str) -> None:
    answer = httpx.post(f"{fast}/oauth/token", data={"grant_type": "password"}, headers=basic("lienthong", "sandbox-vnpost-secret"))
    assert answer.status_code == 400


@pytest.mark.parametrize("fast", [{"token_ttl": 0.3}], indirect=True)
def test_tokens_expire_after_their_ttl(fast: str) -> None:
    headers = bearer(fast)
    assert httpx.get(f"{fast}/api/tracking", headers=headers).status_code == 200
    time.sleep(0.4)
    assert httpx.get(f"{fast}/api/tracking", headers=headers).status_code == 401


@pytest.mark.parametrize("fast", [{"speed": 20000.0}], indirect=True)
def test_speed_factor_moves_orders_through_their_stages_without_advance(fast: str) -> None:
    httpx.post(f"{fast}/api/orders", json=ORDER, headers=bearer(fast)).raise_for_status()
    time.sleep(1.0)  # 20 000 simulated seconds: past delivery (14 400 s)
    statuses = httpx.get(f"{fast}/_sim/state").json()["orders"][ORDER["OrderNumber"]]["statuses"]
    assert statuses == ["1", "6", "7", "10", "14"]


def test_feed_refuses_a_page_size_above_1000(fast: str) -> None:
    assert httpx.get(f"{fast}/api/tracking", params={"pagesize": 1001}, headers=bearer(fast)).status_code == 400


def test_checked_in_schemas_are_what_the_models_generate(tmp_path: Path) -> None:
    fresh = {p.name: p.read_text("utf-8") for p in export(tmp_path)}
    checked_in = {p.name: p.read_text("utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert checked_in == fresh, "run: python -m connectors.postal_vnpost.wire"
    assert MANIFEST.schemas is not None and sorted(MANIFEST.schemas()) == sorted(schema_files())
    assert sorted(schema_files()) == sorted(f"postal_vnpost/{name}.json" for name in SCHEMA_MODELS)
