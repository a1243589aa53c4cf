"""End to end over real parts: edge -> store -> Redis/RQ -> worker process -> national portal simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest

from hub.edge.app import create_app
from tests.conftest import Hub, make_settings, seed_hub
from tests.factories import status_changed, submitted
from tests.support import Portal, RedisServer, ThreadedServer, client, wait_until


@pytest.fixture
def e2e(db_url: str, redis_server: RedisServer, portal: Portal, tmp_path: Path) -> Iterator[tuple[Hub, httpx.Client, httpx.Client]]:
    """A hub wired to the portal simulator, its API on loopback, a motcua and an ops client."""
    redis_server.flush()
    settings = make_settings(db_url, redis_server.url, tmp_path, partner_settings={"national_dvc": {"adapter_url": portal.url}},
                             retry_schedule=[0.3] * 40, breaker_open_seconds=0.5)
    hub = seed_hub(settings, tmp_path)
    server = ThreadedServer(create_app(settings)).start()
    with client(server.url, hub.keys["motcua"]) as motcua, client(server.url, hub.keys["ops"]) as ops:
        yield hub, motcua, ops
    server.stop()
    for p in hub.processes:
        p.end()
    hub.engine.dispose()


def delivered(ops: httpx.Client, code: str, n: int) -> bool:
    r = ops.get(f"/v1/dossiers/{code}/trace")
    states = [d["state"] for m in r.json()["messages"] for d in m["deliveries"]] if r.status_code == 200 else []
    return len(states) == n and all(s == "delivered" for s in states)


def progress_contents(portal: Portal, code: str) -> list[str]:
    dossier = portal.dossier(code) or {}
    return [p["NoiDungXuLy"] for p in dossier.get("progress", [])]


def test_status_change_reaches_the_portal_and_the_trace(e2e, portal: Portal) -> None:
    hub, motcua, ops = e2e
    hub.worker()
    msgs = [submitted()] + [status_changed(step=i, status=s) for i, s in ((1, 2), (2, 4), (3, 9))]
    for m in msgs:
        assert motcua.post("/v1/messages", json=m).status_code == 202
    code = msgs[0]["dossier_code"]
    # four to the portal, and the acceptance (status 2) to the post too (hub/routes.yaml), which has nothing to do
    wait_until(lambda: delivered(ops, code, 5), 30, what="all five deliveries")
    assert progress_contents(portal, code) == ["Bước xử lý số 1", "Bước xử lý số 2", "Bước xử lý số 3"]
    assert portal.dossier(code)["dossier"]["MaHoSo"] == code


def test_portal_down_for_a_while_is_caught_up_in_order(e2e, portal: Portal) -> None:
    hub, motcua, ops = e2e
    portal.faults(down=True)
    hub.worker()
    msgs = [submitted()] + [status_changed(step=i) for i in range(1, 8)]
    for m in msgs:
        assert motcua.post("/v1/messages", json=m).status_code == 202
    code = msgs[0]["dossier_code"]
    wait_until(lambda: any(d["attempts"] >= 2 for m in ops.get(f"/v1/dossiers/{code}/trace").json()["messages"]
                           for d in m["deliveries"]), 20, what="retries while the portal is down")
    assert progress_contents(portal, code) == []
    portal.faults(down=False)
    wait_until(lambda: delivered(ops, code, 8), 40, what="catch-up after the portal returns")
    assert progress_contents(portal, code) == [f"Bước xử lý số {i}" for i in range(1, 8)]


def test_permanent_rejection_lands_in_dead_letters_and_replay_delivers_after_the_fix(e2e, portal: Portal) -> None:
    hub, motcua, ops = e2e
    bad = submitted(seq=7)
    code = bad["dossier_code"]
    portal.faults(reject_dossiers=[code])
    hub.worker()
    receipt = motcua.post("/v1/messages", json=bad).json()
    delivery_id = receipt["deliveries"][0]["id"]
    dead = wait_until(lambda: [d for d in ops.get("/v1/dead-letters").json()["items"] if d["id"] == delivery_id], 20,
                      what="the dead letter")
    assert dead[0]["last_error"].startswith("permanent:") and dead[0]["attempts"] == 1
    detail = ops.get(f"/v1/deliveries/{delivery_id}").json()
    assert detail["history"][0]["outcome"] == "permanent"
    assert portal.dossier(code) is None
    portal.faults(reject_dossiers=[])
    assert ops.post(f"/v1/deliveries/{delivery_id}:replay").status_code == 202
    wait_until(lambda: delivered(ops, code, 1), 20, what="delivery after replay")
    assert portal.dossier(code)["dossier"]["MaHoSo"] == code


def test_replay_is_for_operators_only(e2e) -> None:
    hub, motcua, ops = e2e
    r = motcua.post("/v1/dead-letters:replay", json={"destination": "national_dvc"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
