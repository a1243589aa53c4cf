"""``make bench``: intake against a bare FastAPI endpoint, end-to-end delivery, and the added latency
of citizen look-ups (bench/lookups.py) and of signature checks (bench/signatures.py), the postal
feed's ingestion (bench/postal_feed.py), delivery through a templated ministry adapter against the
portal's hand-written connector (bench/ministry_delivery.py) and the console's pages on a PostgreSQL store of a million
messages and five million access records (bench/console_pages.py), in one run; what
they share (wrk, servers, a migrated hub, alternating runs) is bench/common.py.

Everything runs on loopback and stops by itself. The load generator is wrk (C, low overhead),
32 connections; each configuration runs ROUNDS times, alternating, and the medians are reported,
because on a shared 2-core machine absolute numbers drift while ratios measured together hold.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.common import CONNECTIONS, ROOT, ROUNDS, SECONDS, alternate, serve, setup_hub
from bench.console_pages import bench_console_pages
from bench.console_pages import report as report_console_pages
from bench.lookups import bench_lookups
from bench.lookups import report as report_lookups
from bench.ministry_delivery import bench_ministry_delivery
from bench.ministry_delivery import report as report_ministry
from bench.postal_feed import bench_postal_feed
from bench.postal_feed import report as report_postal_feed
from bench.signatures import bench_signatures
from bench.signatures import report as report_signatures
from hub.runtime import engine_for
from hub.store.tables import deliveries
from tests.factories import status_changed, submitted
from tests.support import Process, RedisServer, free_port, settings_env, wait_until

E2E_MESSAGES = int(os.environ.get("BENCH_E2E_MESSAGES", "6000"))
API_WORKERS = [int(n) for n in os.environ.get("BENCH_API_WORKERS", "1,2").split(",")]


def bench_intake(tmp: Path, redis: RedisServer, workers: int) -> dict[str, object]:
    """Bare endpoint and hub, both served by uvicorn with ``workers`` processes, alternating."""
    settings, keys = setup_hub(tmp / f"intake-{workers}", redis)
    env = settings_env(settings)
    body = json.dumps(status_changed(message_id="MSGID"), ensure_ascii=False)
    summary = alternate({"bare": ("bench.bare:app", False), "hub": ("hub.edge.app:create_app", True)},
                        env, body, keys["motcua"], tmp, workers)
    summary["ratio"] = summary["hub"]["rps"] / summary["bare"]["rps"]  # type: ignore[index]
    return summary


def bench_access(tmp: Path, redis: RedisServer) -> dict[str, object]:
    """The intake with the access layer (key, allowlist, scope, rate limit) on and off, and with its
    access records on and off, alternating, 1 process."""
    settings, keys = setup_hub(tmp / "access", redis)
    env = settings_env(settings)
    body = json.dumps(status_changed(message_id="MSGID"), ensure_ascii=False)
    summary = alternate({"off": ("bench.open_hub:create_app", True), "on": ("hub.edge.app:create_app", True),
                         "unrecorded": ("bench.quiet_hub:create_app", True)}, env, body, keys["motcua"], tmp)
    summary["lost"] = 1 - summary["on"]["rps"] / summary["off"]["rps"]  # type: ignore[index]
    summary["recording_lost"] = 1 - summary["on"]["rps"] / summary["unrecorded"]["rps"]  # type: ignore[index]
    return summary


def bench_delivery(tmp: Path, redis: RedisServer, workers: int = 2) -> dict[str, object]:
    """Store E2E_MESSAGES messages, then time two workers delivering them all to the portal simulator."""
    redis.flush()
    sim_port = free_port()
    settings, keys = setup_hub(tmp / "e2e", redis,
                               partner_settings={"national_dvc": {"adapter_url": f"http://127.0.0.1:{sim_port}"}})
    env = settings_env(settings)
    sim = Process(["-m", "hub.cli", "simulator", "national-dvc", "--port", str(sim_port)], env, tmp / "sim.log").start()
    api_port = free_port()
    api = serve("hub.edge.app:create_app", api_port, env, tmp / "api.log", factory=True)
    procs = [sim, api]
    try:
        dossiers = E2E_MESSAGES // 5
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"ApiKey {keys['motcua']}"},
                          timeout=60) as c:
            batch: list[dict] = []
            for d in range(1, dossiers + 1):
                batch.append(submitted(seq=d))
                batch.extend(status_changed(seq=d, step=s) for s in range(1, 5))
                if len(batch) >= 50:
                    r = c.post("/v1/messages:batch", json={"messages": batch[:50]})
                    assert r.json()["accepted"] == 50, r.text
                    batch = batch[50:]
            if batch:
                c.post("/v1/messages:batch", json={"messages": batch})
        engine = engine_for(settings)
        total = dossiers * 5

        def delivered() -> int:
            with engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(deliveries).where(deliveries.c.state == "delivered")).scalar_one()

        started = time.perf_counter()
        for i in range(workers):
            procs.append(Process(["-m", "hub.cli", "worker"], env, tmp / f"worker{i}.log").start())
        wait_until(lambda: delivered() >= total, 300, 0.05, what="end-to-end delivery")
        with engine.connect() as conn:
            first, last = conn.execute(select(func.min(deliveries.c.delivered_at), func.max(deliveries.c.delivered_at))).one()
        # The delivery window, first delivery to last, leaves out the workers' start-up.
        elapsed = (last - first).total_seconds()
        with_startup = time.perf_counter() - started
        sim_state = httpx.get(f"http://127.0.0.1:{sim_port}/_sim/state", timeout=10).json()
        engine.dispose()
        return {"messages": total, "workers": workers, "seconds": elapsed, "msgs_per_s": total / elapsed,
                "seconds_with_startup": with_startup, "portal_counters": sim_state.get("counters")}
    finally:
        for p in reversed(procs):
            p.stop()


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: 'make bench' installs it (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-"))
    redis = RedisServer(fsync="everysec")
    redis.start()
    try:
        intake = {str(w): bench_intake(tmp, redis, w) for w in API_WORKERS}
        access = bench_access(tmp, redis)
        e2e = bench_delivery(tmp, redis)
        ministry = bench_ministry_delivery(tmp, redis)
        lookups = bench_lookups(tmp, redis)
        signatures = bench_signatures(tmp, redis)
        postal_feed = bench_postal_feed(tmp)
        console_pages = bench_console_pages(tmp)  # its own PostgreSQL and Redis, removed at its end
    finally:
        redis.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nlienthong bench — {CONNECTIONS} connections, {SECONDS} s per run, median of {ROUNDS} alternating runs\n")
    print(f"{'endpoint':28} {'procs':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for workers, figures in intake.items():
        for name, label in (("bare", "bare FastAPI (baseline)"), ("hub", "POST /v1/messages (hub)")):
            r = figures[name]  # type: ignore[index]
            print(f"{label:28} {workers:>5} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d}")
        print(f"intake ratio hub/bare with {workers} process(es): {figures['ratio']:.2f}  (target >= 0.50; p99 target < 25 ms)")
    for name, label in (("off", "intake, access layer off"), ("on", "intake, access layer on"),
                        ("unrecorded", "intake, no access records")):
        r = access[name]  # type: ignore[index]
        print(f"{label:28} {1:>5} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d}")
    print(f"access layer (key, allowlist, scope, rate limit) costs {100 * access['lost']:.0f}% of intake throughput"
          "  (target <= 15%)")
    print(f"access records (one per request, written in batches) cost {100 * access['recording_lost']:.0f}% of intake "
          "throughput")
    print(f"\nend-to-end delivery to the portal simulator: {e2e['messages']} messages, {e2e['workers']} workers, "
          f"{e2e['seconds']:.2f} s from first to last delivery -> {e2e['msgs_per_s']:.0f} msg/s  (target >= 1000; "
          f"{e2e['seconds_with_startup']:.2f} s counting worker start-up)")
    report_ministry(ministry)
    report_lookups(lookups)
    report_signatures(signatures)
    report_postal_feed(postal_feed)
    report_console_pages(console_pages)
    out = ROOT / "var" / "bench-last.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"intake": intake, "access": access, "e2e": e2e, "ministry": ministry, "lookups": lookups,
                                   "signatures": signatures, "postal_feed": postal_feed, "console_pages": console_pages},
                               indent=2, default=str))
    print(f"\nraw figures: {out}")


if __name__ == "__main__":
    main()
