"""VNPost's events through the whole hub (issue #14): pushed to ``POST /v1/postal/events`` over HTTP,
read from the feed by a real worker process that is killed with SIGKILL mid-feed, and the
status-code table edited by an admin, on SQLite and PostgreSQL. Each defence is written as the attack."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import orjson
import pytest
import redis
from sqlalchemy import func, select

from connectors.postal_vnpost.client import VnpostClient
from connectors.postal_vnpost.feed import CURSOR, read_feed
from connectors.postal_vnpost.simulator import UNKNOWN_CODE, create_app
from hub.access.accounts import add_account
from hub.context import context
from hub.edge.app import create_app as create_hub
from hub.store.engine import reading
from hub.store.tables import admin_actions, messages, postal_events
from tests.conftest import Hub, make_settings, seed_hub
from tests.connectors.test_postal_vnpost_feed import PARTNER, Sim, stored_events, stored_messages
from tests.support import RedisServer, ThreadedServer, client, free_port, wait_port, wait_until

PASSWORD = "correct horse battery"
PUSH = "/v1/postal/events"
CODES = "/v1/postal/status-codes"


@pytest.fixture
def sim() -> Iterator[Sim]:
    with ThreadedServer(create_app(speed=0)).start() as server:
        yield Sim(server.url)


@pytest.fixture
def postal(db_url: str, redis_server: RedisServer, tmp_path: Path, sim: Sim) -> Iterator[tuple[Hub, str]]:
    """A seeded hub pointed at the simulator, its API over loopback, an admin and an operator."""
    redis_server.flush()
    settings = make_settings(db_url, redis_server.url, tmp_path, partner_settings={PARTNER: sim.partner_settings()})
    hub = seed_hub(settings, tmp_path)
    for name, role in (("alice", "admin"), ("olga", "operator")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    with ThreadedServer(create_hub(settings)).start() as api:
        yield hub, api.url
    hub.engine.dispose()


def login(base: str, username: str) -> httpx.Client:
    answer = httpx.post(f"{base}/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {answer.json()['token']}"}, timeout=30)


def feed_documents(hub: Hub, count: int) -> list[dict[str, Any]]:
    """The first ``count`` documents of the simulator's feed, as VNPost would push them."""
    reader = VnpostClient.from_context(context(PARTNER, hub.settings))
    try:
        return [e.model_dump(by_alias=True, exclude_none=True) for e in reader.track(None, count).events]
    finally:
        reader.close()


def is_problem(answer: httpx.Response, status: int) -> bool:
    return answer.status_code == status and answer.headers["content-type"].startswith("application/problem+json")


def test_an_event_pushed_and_read_from_the_feed_is_one_message_and_one_row(postal: tuple[Hub, str], sim: Sim) -> None:
    hub, api = postal
    sim.load(5, 2)
    pushed = feed_documents(hub, 4)
    own = {"_id": "bcci-collect-0001", "OrderNumber": "000.00.00.H49-261123-0042", "ItemCode": "EE9VN",
           "EventTime": "2026-11-23T09:30:00", "POSID": "200000", "StatusCode": "6", "StatusMessage": "Đã nhận hàng"}
    with client(api, hub.keys[PARTNER]) as vnpost:
        first = vnpost.post(PUSH, json=pushed + [own])
        assert first.status_code == 202, first.text
        assert first.json() == {"received": 5, "stored": 5, "duplicates": 0, "unrecognised": 0}
        read_feed(context(PARTNER, hub.settings))
        again = vnpost.post(PUSH, json={"events": pushed})
        assert again.json() == {"received": 4, "stored": 0, "duplicates": 4, "unrecognised": 0}
    rows = stored_events(hub.engine)
    assert len(rows) == 11 and len({r.event_id for r in rows}) == 11
    assert sorted(r.origin for r in rows) == ["feed"] * 6 + ["push"] * 5, "the feed skipped the pushed events"
    ids = sorted(m.message_id for m in stored_messages(hub.engine))
    assert len(ids) == 11 and "vnpost-bcci-collect-0001" in ids
    mine = next(m for m in stored_messages(hub.engine) if m.message_id == "vnpost-bcci-collect-0001")
    assert orjson.loads(mine.body)["occurred_at"] == "2026-11-23T09:30:00+07:00", "a naive time is Vietnam's"


def test_a_partner_that_is_not_the_postal_operator_cannot_push_events(postal: tuple[Hub, str], sim: Sim) -> None:
    hub, api = postal
    sim.load(1, 1)
    with client(api, hub.keys["motcua"]) as motcua:  # an intake key of another partner
        answer = motcua.post(PUSH, json=feed_documents(hub, 1))
    assert is_problem(answer, 403) and answer.json()["type"] == "/problems/postal-operator-only", answer.text
    assert stored_events(hub.engine) == []
    with login(api, "alice") as alice:
        assert alice.post(PUSH, json=[]).status_code == 403, "a person is not the postal operator either"


def test_a_push_that_is_too_large_malformed_or_incomplete_is_refused_with_a_problem_never_a_500(
        postal: tuple[Hub, str], sim: Sim) -> None:
    hub, api = postal
    sim.load(1, 1)
    [doc] = feed_documents(hub, 1)
    with client(api, hub.keys[PARTNER]) as vnpost:
        big = vnpost.post(PUSH, content=b"[" + b" " * (1024 * 1024) + b"]", headers={"Content-Type": "application/json"})
        assert is_problem(big, 413), big.text
        broken = vnpost.post(PUSH, content=b'[{"_id": ', headers={"Content-Type": "application/json"})
        assert is_problem(broken, 400) and broken.json()["type"] == "/problems/malformed-json", broken.text
        assert is_problem(vnpost.post(PUSH, json={"event": doc}), 422)
        assert is_problem(vnpost.post(PUSH, json=[doc] * 1001), 422)
        without_id = vnpost.post(PUSH, json=[{k: v for k, v in doc.items() if k != "_id"}])
        assert is_problem(without_id, 422) and "_id" in without_id.json()["detail"]
        bad_time = vnpost.post(PUSH, json=[{**doc, "EventTime": "soon"}])
        assert is_problem(bad_time, 422) and "EventTime" in bad_time.json()["detail"]
        wrong_type = vnpost.post(PUSH, json=[{**doc, "StatusCode": {"$gt": ""}}])
        assert is_problem(wrong_type, 422), wrong_type.text
        odd_id = vnpost.post(PUSH, json=[{**doc, "_id": "x' OR '1'='1"}])
        assert is_problem(odd_id, 422), odd_id.text
    assert stored_events(hub.engine) == [], "nothing of a refused push is stored"


def test_unknown_codes_are_listed_and_an_admins_edit_is_recorded_and_recognised_later(
        postal: tuple[Hub, str], sim: Sim) -> None:
    hub, api = postal
    sim.faults(unknown_code=True)
    sim.load(2, 1)
    read_feed(context(PARTNER, hub.settings))
    with login(api, "olga") as olga, login(api, "alice") as alice:
        listed = olga.get(CODES)
        assert listed.status_code == 200, listed.text
        assert {"code": "14", "step": "delivered"}.items() <= next(c for c in listed.json()["codes"]
                                                                   if c["code"] == "14").items()
        assert [(u["code"], u["events"]) for u in listed.json()["unrecognised"]] == [(UNKNOWN_CODE[0], 2)]
        put = alice.put(f"{CODES}/{UNKNOWN_CODE[0]}", json={"step": "in_transit", "meaning": "Đang trung chuyển"})
        assert put.status_code == 200 and put.json()["created"] is True, put.text
        assert {c["code"]: c["step"] for c in olga.get(CODES).json()["codes"]}[UNKNOWN_CODE[0]] == "in_transit"
        sim.load(1, 1)
        read_feed(context(PARTNER, hub.settings))
        latest = stored_events(hub.engine)[-1]
        assert (latest.operator_code, latest.step, latest.recognised) == (UNKNOWN_CODE[0], "postal.in_transit", 1)
        assert alice.delete(f"{CODES}/{UNKNOWN_CODE[0]}").status_code == 200
        assert is_problem(alice.delete(f"{CODES}/{UNKNOWN_CODE[0]}"), 404)
    with reading(hub.engine) as conn:
        trail = conn.execute(select(admin_actions).where(admin_actions.c.action.like("postal.status_code.%"))
                             .order_by(admin_actions.c.id)).all()
    assert [(t.action, t.actor, t.target) for t in trail] == [
        ("postal.status_code.put", "person:alice", f"{PARTNER}:99"), ("postal.status_code.delete", "person:alice", f"{PARTNER}:99")]
    assert trail[0].before is None and orjson.loads(trail[0].after)["step"] == "in_transit"


def test_only_an_admin_may_change_the_status_code_table(postal: tuple[Hub, str]) -> None:
    hub, api = postal
    change = {"step": "failed", "meaning": "Thất lạc"}
    with login(api, "olga") as olga:
        assert is_problem(olga.put(f"{CODES}/14", json=change), 403), "an operator reads the table, never edits it"
        assert is_problem(olga.delete(f"{CODES}/14"), 403)
    for partner in ("motcua", PARTNER):
        with client(api, hub.keys[partner]) as key:
            assert is_problem(key.put(f"{CODES}/14", json=change), 403), f"a {partner} key"
            assert is_problem(key.get(CODES), 403)
    assert httpx.put(f"{api}{CODES}/14", json=change).status_code == 401
    with login(api, "alice") as alice:
        assert {c["code"]: c["step"] for c in alice.get(CODES).json()["codes"]}["14"] == "delivered", "unchanged"
        assert is_problem(alice.put(f"{CODES}/14", json={"step": "lost", "meaning": "x"}), 422)
        assert is_problem(alice.put(f"{CODES}/14", json={"step": "failed"}), 422)
        assert is_problem(alice.put(f"{CODES}/14", content=b"{", headers={"Content-Type": "application/json"}), 400)
        assert is_problem(alice.put(f"{CODES}/{'9' * 21}", json=change), 422)
        assert is_problem(alice.put(f"{CODES}/14", json={**change, "meaning": "x" * 5000}), 413)


def count(engine: Any, table: Any) -> int:
    with reading(engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.chaos
def test_the_feed_reader_killed_with_sigkill_and_restarted_misses_and_repeats_nothing(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.flush()
    port = free_port()
    sim = Sim(f"http://127.0.0.1:{port}")
    settings = make_settings(db_url, redis_server.url, tmp_path,
                             partner_settings={PARTNER: sim.partner_settings(feed_page_size=100, feed_interval=0.2)})
    hub = seed_hub(settings, tmp_path)
    try:
        hub.spawn("-m", "hub.cli", "simulator", "postal-vnpost", "--port", str(port), "--speed", "0", name="vnpost-sim")
        wait_port(port)
        # 40 pages; the kill comes after 10 (polled every 20 ms, while a page takes 20-70 ms to store),
        # so it lands with most of the feed still to read, even on a loaded machine
        total = sim.load(1000, 4)["events"]
        assert total == 4000
        worker = hub.worker()
        wait_until(lambda: count(hub.engine, postal_events) >= 1000, 120, 0.02, what="the feed read under way")
        worker.kill()
        killed_at = count(hub.engine, postal_events)
        assert killed_at < total, "killed mid-feed"
        assert killed_at % 100 == 0, "a page is stored whole or not at all"
        # the dead worker's job lock would free itself after LOCK_SECONDS; the restart need not wait
        redis.Redis.from_url(redis_server.url).delete(f"lienthong:pull:{PARTNER}:{CURSOR}")
        hub.worker(name="worker-2")
        wait_until(lambda: count(hub.engine, postal_events) >= total, 180, 0.1, what="the feed read after the restart")
        wait_until(lambda: context(PARTNER, settings).cursor(CURSOR).get() == sim.state()["last_id"], 30,
                   what="the cursor at the end of the feed")
        rows = stored_events(hub.engine)
        assert len(rows) == total and len({r.event_id for r in rows}) == total
        with reading(hub.engine) as conn:
            ids = conn.execute(select(messages.c.message_id).where(messages.c.source == PARTNER)).scalars().all()
        assert len(ids) == total and len(set(ids)) == total and all(i.startswith("vnpost-") for i in ids)
        assert {i.removeprefix("vnpost-") for i in ids} == {r.event_id for r in rows}
    finally:
        for p in hub.processes:
            p.end()
        hub.engine.dispose()
