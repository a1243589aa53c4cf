"""The hub's added latency per citizen look-up: ``POST /v1/citizens/lookup`` through the hub against
the same look-up made directly with the zeep client, both to the population-database simulator.

Sequential calls (latency, not throughput), alternating hub and direct, BENCH_LOOKUPS of each after a
short warm-up. The hub is called with the standard library's ``http.client`` on one kept-alive
connection, so the figure is the hub's cost (and its HTTP hop), not the bench's client library's.
p50 and p99 of each, and their differences: the hub's key check, rate limit, officer and tier
check (an ``own_dossiers`` officer looking up the dossier's applicant, so the dossier's messages are
read), the hand-off to a look-up
thread, the canonical answer and the access record. ``python -m bench.lookups`` runs it alone; ``make bench``
runs it with the rest.
"""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import serve
from connectors.population_db.client import SoapPopulationClient
from connectors.population_db.interface import CitizenQuery
from connectors.population_db.population import sample
from hub.access.keys import issue_key
from hub.access.policies import set_policy
from hub.citizens.officers import register
from hub.config import Settings
from hub.context import context
from hub.partners import add_partner
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from tests.factories import status_changed, submitted
from tests.support import Process, RedisServer, free_port, settings_env, wait_until

LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "500"))
WARMUP = 30
PURPOSE = "Xác minh nhân thân để giải quyết hồ sơ (bench)"


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _setup(tmp: Path, redis: RedisServer, sim_port: int) -> tuple[Settings, str, str]:
    """A migrated hub wired to the simulator; a motcua key allowed to look up; an own-dossiers officer
    named on the dossier. Returns the settings, the key and the dossier code."""
    base = f"http://127.0.0.1:{sim_port}"
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", redis_url=redis.url, var_dir=tmp / "var",
                        keys_dir=tmp / "keys", key_pepper="bench-pepper",
                        partner_settings={"population_db": {"url": f"{base}/dancuquocgia", "token_url": f"{base}/oauth/token"}})
    upgrade(settings.effective_database_url)
    engine = engine_for(settings)
    add_partner(engine, "motcua", "motcua", "one_stop")
    key = issue_key(engine, "motcua", settings.effective_key_pepper, "bench",
                    scopes={"endpoints": ["intake", "read", "lookup"], "lookups": ["*"]})
    for name, quota, window in (("per-second", 1_000_000, 1), ("daily", 1_000_000_000, 86_400)):
        set_policy(engine, counter="key", partner_code="motcua", name=name, quota=quota, window_seconds=window, actor="bench")
    register(engine, "motcua", "CB-BENCH", "Cán bộ đo", "000.00.00.H49", tier="own_dossiers", actor="bench")
    engine.dispose()
    return settings, key, status_changed(seq=1)["dossier_code"]


def bench_lookups(tmp: Path, redis: RedisServer) -> dict[str, Any]:
    """Run the comparison; figures in milliseconds."""
    tmp = tmp / "lookups"
    tmp.mkdir(parents=True, exist_ok=True)
    sim_port = free_port()
    settings, key, dossier = _setup(tmp, redis, sim_port)
    env = settings_env(settings)
    sim = Process(["-m", "hub.cli", "simulator", "population-db", "--port", str(sim_port)], env, tmp / "sim.log").start()
    procs = [sim]
    try:
        wait_until(lambda: _up(f"http://127.0.0.1:{sim_port}/_sim/state"), 30, what="population simulator")
        api_port = free_port()
        procs.append(serve("hub.edge.app:create_app", api_port, env, tmp / "api.log", factory=True))
        person = sample(index=0)
        direct = SoapPopulationClient.from_context(context("population_db", settings))
        hub = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"ApiKey {key}"}, timeout=30)
        filed = submitted(seq=1)
        filed["payload"]["applicant"]["ids"] = [{"id_type": 1, "number": person.SoDinhDanh}]
        message = status_changed(seq=1)
        message["payload"]["officer_code"] = "CB-BENCH"
        for sent in (filed, message):
            assert hub.post("/v1/messages", json=sent).status_code == 202
        body = orjson.dumps({"officer_code": "CB-BENCH", "purpose": PURPOSE, "dossier_code": dossier,
                             "id_number": person.SoDinhDanh})
        headers = {"Authorization": f"ApiKey {key}", "Content-Type": "application/json"}
        lean = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)
        via_hub: list[float] = []
        straight: list[float] = []
        try:
            for i in range(WARMUP + LOOKUPS):
                started = time.perf_counter()
                lean.request("POST", "/v1/citizens/lookup", body, headers)
                answer = lean.getresponse()
                text = answer.read()
                hub_ms = (time.perf_counter() - started) * 1000
                assert answer.status == 200 and orjson.loads(text)["citizens"], text
                query = CitizenQuery(request_id=uuid.uuid4().hex, officer_id="CB-BENCH", id_number=person.SoDinhDanh)
                started = time.perf_counter()
                assert direct.lookup(query).CongDan
                direct_ms = (time.perf_counter() - started) * 1000
                if i >= WARMUP:
                    via_hub.append(hub_ms)
                    straight.append(direct_ms)
        finally:
            lean.close()
            hub.close()
            direct.close()
    finally:
        for p in reversed(procs):
            p.stop()
    figures = {"calls": LOOKUPS,
               "hub": {"p50_ms": statistics.median(via_hub), "p99_ms": _percentile(via_hub, 99)},
               "direct": {"p50_ms": statistics.median(straight), "p99_ms": _percentile(straight, 99)}}
    figures["added"] = {q: figures["hub"][q] - figures["direct"][q] for q in ("p50_ms", "p99_ms")}
    return figures


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def report(figures: dict[str, Any]) -> None:
    print(f"\ncitizen look-ups, {figures['calls']} sequential calls each, alternating (ms):")
    print(f"{'path':40} {'p50':>8} {'p99':>8}")
    for name, label in (("direct", "zeep client -> simulator (direct)"), ("hub", "POST /v1/citizens/lookup (hub)"),
                        ("added", "added by the hub")):
        print(f"{label:40} {figures[name]['p50_ms']:8.2f} {figures[name]['p99_ms']:8.2f}")
    print("target: added p50 < 5 ms")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-lookups-"))
    redis = RedisServer(fsync="everysec")
    redis.start()
    try:
        report(bench_lookups(tmp, redis))
    finally:
        redis.remove()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
