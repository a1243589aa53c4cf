"""Accepted messages are never lost: workers killed mid-delivery, Redis stopped during intake."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from hub.edge.app import create_app
from tests.conftest import make_settings, seed_hub
from tests.factories import status_changed, submitted
from tests.support import Portal, RedisServer, ThreadedServer, client, wait_until


def delivery_states(ops: httpx.Client) -> dict[str, int]:
    return {state: n for dest in ops.get("/v1/flows").json()["destinations"].values() for state, n in dest.items()}


def test_worker_killed_mid_delivery_loses_nothing_and_each_effect_happens_once(
    db_url: str, redis_server: RedisServer, portal: Portal, tmp_path: Path
) -> None:
    redis_server.flush()
    settings = make_settings(db_url, redis_server.url, tmp_path, partner_settings={"national_dvc": {"adapter_url": portal.url}},
                             lease_seconds=2.0,
                             retry_schedule=[0.3] * 20)
    hub = seed_hub(settings, tmp_path)
    server = ThreadedServer(create_app(settings)).start()
    try:
        with client(server.url, hub.keys["motcua"]) as motcua, client(server.url, hub.keys["ops"]) as ops:
            msgs = [submitted(seq=s) for s in range(1, 6)]
            msgs += [status_changed(seq=s, step=i) for i in range(1, 5) for s in range(1, 6)]
            for m in msgs:
                assert motcua.post("/v1/messages", json=m).status_code == 202
            portal.faults(latency_ms=250)  # slow partner: the kill lands mid-call
            first = hub.worker("worker-1")
            wait_until(lambda: delivery_states(ops).get("sending", 0) > 0, 20, what="a delivery in flight")
            first.kill()
            assert delivery_states(ops).get("delivered", 0) < len(msgs)
            portal.faults(latency_ms=0)
            hub.worker("worker-2")
            wait_until(lambda: delivery_states(ops).get("delivered", 0) == len(msgs), 60, what="every delivery")
            state = portal.state()
            for s in range(1, 6):
                code = msgs[s - 1]["dossier_code"]
                contents = [p["NoiDungXuLy"] for p in portal.dossier(code)["progress"]]
                assert contents == [f"Bước xử lý số {i}" for i in range(1, 5)], (code, contents)
            assert sum(len(p) for p in state["progress"].values()) == 20
    finally:
        server.stop()
        for p in hub.processes:
            p.end()
        hub.engine.dispose()


def test_redis_stopped_during_intake_still_accepts_and_delivers_after_it_returns(
    db_url: str, portal: Portal, tmp_path: Path
) -> None:
    redis = RedisServer()
    redis.start()
    settings = make_settings(db_url, redis.url, tmp_path, partner_settings={"national_dvc": {"adapter_url": portal.url}},
                             retry_schedule=[0.3] * 20)
    hub = seed_hub(settings, tmp_path)
    server = ThreadedServer(create_app(settings)).start()
    try:
        with client(server.url, hub.keys["motcua"]) as motcua, client(server.url, hub.keys["ops"]) as ops:
            hub.worker()
            warm = submitted(seq=1)
            assert motcua.post("/v1/messages", json=warm).status_code == 202
            wait_until(lambda: delivery_states(ops).get("delivered", 0) == 1, 20, what="delivery before the outage")
            redis.stop()
            during = [submitted(seq=s) for s in range(2, 6)] + [status_changed(seq=s) for s in range(2, 6)]
            for m in during:
                started = time.monotonic()
                r = motcua.post("/v1/messages", json=m)
                assert r.status_code == 202, r.text
                assert time.monotonic() - started < 2.0, "intake must not hang on a dead Redis"
            assert delivery_states(ops).get("pending", 0) == len(during)
            redis.start()
            wait_until(lambda: delivery_states(ops).get("delivered", 0) == 1 + len(during), 40,
                       what="delivery after Redis returns")
            assert all(len(portal.dossier(m["dossier_code"])["progress"]) == 1 for m in during[4:])
    finally:
        server.stop()
        for p in hub.processes:
            p.end()
        redis.remove()
        hub.engine.dispose()
