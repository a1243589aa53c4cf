"""The audit trail under pressure (hub/audit/log.py, hub/audit/spill.py).

Attack: act while the database is down (or take it down first), so that what was done leaves no
access record; or flood the hub with anonymous requests so that the records of real callers are
pushed out of the buffer. Defence: records of admitted callers and people's requests spill to an
fsynced local file and are replayed, in order and once, when the database returns (by the same
process, or by another when the writer died); only anonymous noise is shed, and that is counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from hub.audit.log import AccessLog
from hub.audit.records import cli_record
from hub.audit.seal import seal
from hub.audit.spill import Spill
from hub.audit.verify import verify
from hub.edge.app import create_app
from hub.runtime import engine_for
from hub.store.engine import make_engine, reading
from hub.store.tables import access_records
from tests.conftest import Hub, make_settings, seed_hub
from tests.factories import submitted
from tests.support import ROOT, PostgresServer, RedisServer, ThreadedServer, client, free_port, wait_until


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def stored(engine: Any, caller_ids: set[str]) -> list[Any]:
    with reading(engine) as conn:
        return list(conn.execute(select(access_records).where(access_records.c.caller_request_id.in_(caller_ids))
                                 .order_by(access_records.c.id)))


def spilled_lines(folder: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in folder.glob("*.jsonl")) if folder.is_dir() else 0


@pytest.fixture
def own_pg() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of this test's own, so that stopping it stops nobody else's."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def outage_hub(own_pg: PostgresServer, redis_server: RedisServer, tmp_path: Path) -> Iterator[Hub]:
    settings = make_settings(own_pg.create_database("spill"), redis_server.url, tmp_path,
                             credential_cache_seconds=600.0)  # keys stay known while the database is away
    hub = seed_hub(settings, tmp_path)
    yield hub
    hub.engine.dispose()


def test_records_of_known_callers_made_while_the_database_is_down_all_arrive_once_in_order(
        outage_hub: Hub, own_pg: PostgresServer) -> None:
    hub, settings = outage_hub, outage_hub.settings
    folder = settings.effective_audit_spill_dir
    spilled_before, replayed_before = (sample("lienthong_audit_records_spilled_total"),
                                       sample("lienthong_audit_records_replayed_total"))
    with ThreadedServer(create_app(settings)).start() as server, client(server.url, hub.keys["motcua"]) as motcua:
        assert motcua.get("/v1/messages/warm-up").status_code == 404  # the key is now cached
        own_pg.stop()
        sent: list[str] = []
        for i in range(30):  # reads, intake, a person's sign-in: each leaves a record to keep
            rid = f"outage-{i:03d}-{uuid.uuid4().hex[:8]}"
            if i % 3 == 0:
                r = motcua.post("/v1/messages", json=submitted(seq=100 + i), headers={"X-Request-Id": rid})
            elif i % 3 == 1:
                r = motcua.get(f"/v1/messages/m-{i}", headers={"X-Request-Id": rid})
            else:
                r = httpx.post(f"{server.url}/v1/auth/login", json={"username": f"nobody{i}", "password": "x" * 12},
                               headers={"X-Request-Id": rid})
            assert r.status_code >= 500, (i, r.status_code, r.text)  # the store is down: 503/500 problem+json
            assert r.headers["content-type"] == "application/problem+json"
            sent.append(rid)
        wait_until(lambda: spilled_lines(folder) >= len(sent), 20, what="the records spilled to disk")
        [spill_file] = folder.glob("*.jsonl")
        assert spill_file.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
        assert stored_nothing_yet(own_pg) and sample("lienthong_audit_records_spilled_total") >= spilled_before + len(sent)

        own_pg.restart()
        rows = wait_until(lambda: (found := stored(hub.engine, set(sent))) and len(found) >= len(sent) and found,
                          30, what="every spilled record in the database")
        wait_until(lambda: not list(folder.glob("*.jsonl")), 10, what="the spill file removed after its replay")
    assert sorted(r.caller_request_id for r in rows) == sorted(sent), "every record arrived, none twice"
    assert [r.caller_request_id for r in rows] == sent, "replayed in the order the requests were made"
    assert all(r.partner_code == "motcua" for r in rows if not r.path.startswith("/v1/auth"))
    assert sample("lienthong_audit_records_replayed_total") >= replayed_before + len(sent)
    # The chain takes the replayed records in id order, like any others, and verifies.
    sealed = seal(hub.engine, settings, force_checkpoint=True, now=datetime.now(timezone.utc) + timedelta(seconds=5))
    assert sealed.sealed >= len(sent)
    report = verify(hub.engine, settings)
    assert report.ok and report.unsealed == 0, report.lines()


def stored_nothing_yet(pg: PostgresServer) -> bool:
    """The database is really down (nothing could have been written)."""
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/spill", pool_pre_ping=False)
    try:
        with engine.connect():
            return False
    except Exception:  # noqa: BLE001 - refused: down, as it should be
        return True
    finally:
        engine.dispose()


# --- files left by processes that died -----------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from datetime import datetime, timezone
    from pathlib import Path
    from hub.audit.records import cli_record
    from hub.audit.spill import Spill
    folder, tag, count, then = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    records = []
    for i in range(count):
        r = cli_record("test", "spill", f"{tag}-{i}")
        r["caller_request_id"] = f"{tag}-{i:04d}"
        records.append(r)
    Spill(folder).append(records)
    print("spilled", flush=True)
    if then == "die":
        os.kill(os.getpid(), signal.SIGKILL)  # no clean-up at all: the lock goes with the process
    time.sleep(600)
""")


def spill_in_child(folder: Path, tag: str, count: int, then: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), tag, str(count), then], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "spilled"
    return proc


def test_a_dead_writers_spill_is_replayed_once_by_the_survivors_and_a_live_ones_never(hub: Hub, tmp_path: Path) -> None:
    folder = tmp_path / "spill"
    dead = spill_in_child(folder, "dead", 2500, "die")  # more than one replay chunk
    dead.wait(10)
    alive = spill_in_child(folder, "alive", 5, "sleep")
    try:
        engine = engine_for(hub.settings)
        logs = [AccessLog(engine, 3600, spill_dir=folder) for _ in range(2)]  # two survivors, at once
        threads = [threading.Thread(target=log.flush) for log in logs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        dead_ids = {f"dead-{i:04d}" for i in range(2500)}
        rows = stored(engine, dead_ids)
        assert len(rows) == 2500 and {r.caller_request_id for r in rows} == dead_ids, "all of it, none twice"
        assert [r.caller_request_id for r in rows] == sorted(dead_ids), "in the order it was spilled"
        assert not stored(engine, {f"alive-{i:04d}" for i in range(5)}), "a live process's spill is its own"
        assert len(list(folder.glob("*.jsonl"))) == 1
    finally:
        alive.kill()
        alive.wait(10)
    for log in logs:
        log.spill._next_scan = 0  # the next periodic scan, now
        log.flush()
    assert len(stored(engine, {f"alive-{i:04d}" for i in range(5)})) == 5 and not list(folder.glob("*.jsonl"))
    for log in logs:
        log._stop.set()
    engine.dispose()


def test_a_replay_that_died_before_removing_its_file_writes_nothing_twice(hub: Hub, tmp_path: Path) -> None:
    folder = tmp_path / "spill"
    records = [{**cli_record("test", "spill", str(i)), "caller_request_id": f"again-{i}"} for i in range(10)]
    log = AccessLog(hub.engine, 3600, spill_dir=folder)
    log.spill.append(records[:4])
    log.flush()  # replayed and removed
    other = Spill(folder)
    other.append(records)  # the same four again (as if the file had survived its replay), and six more
    os.close(other._fd)  # its process is gone
    log.spill._next_scan = 0
    log.flush()
    assert sorted(r.caller_request_id for r in stored(hub.engine, {r["caller_request_id"] for r in records})) == \
        sorted(r["caller_request_id"] for r in records)
    log._stop.set()


# --- shedding ------------------------------------------------------------------------------------


def test_only_anonymous_noise_is_shed_and_it_is_counted(tmp_path: Path) -> None:
    down = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none", pool_pre_ping=False)
    folder = tmp_path / "spill"
    log = AccessLog(down, 3600, spill_dir=folder, max_held=10)
    shed_before = sample("lienthong_audit_records_shed_total")
    for i in range(30):
        log.add({**cli_record("", "unknown_key", str(i)), "caller_request_id": f"noise-{i}"}, keep=False)
    for i in range(5):
        log.add({**cli_record("alice", "partner.update", str(i)), "caller_request_id": f"kept-{i}"})
    log.flush()
    assert spilled_lines(folder) == 5, "every record to keep is on disk"
    assert log.held == 10 and log.shed == 20
    assert sample("lienthong_audit_records_shed_total") == shed_before + 20
    assert [r["caller_request_id"] for _, r in log._records] == [f"noise-{i}" for i in range(20, 30)], "oldest go first"

    unspillable = AccessLog(down, 3600, max_held=3)  # no spill folder: kept records stay in memory, never shed
    for i in range(6):
        unspillable.add({**cli_record("alice", "x", str(i)), "caller_request_id": f"k-{i}"})
    unspillable.flush()
    assert unspillable.held == 6 and unspillable.shed == 0
    for each in (log, unspillable):
        each._stop.set()
    down.dispose()
