"""VNPost's tracking feed into the hub (issue #14): events per second through ``read_feed`` (pages of
1000 read over real HTTP from the simulator, mapped to canonical ``postal.*`` messages and
``postal_events`` rows, stored with their deliveries and the cursor in one transaction per page,
SQLite), beside parsing the same page bodies alone (``TrackingPage.model_validate_json``).

The simulator (its own process, ``--speed 0``) is loaded once with BENCH_POSTAL_EVENTS events
(default 20 000: 5 000 orders of 4 events); the hub holds every order (booked first), so each event
finds its leg and moves its order forward as in production. Each round reads the whole feed into a
fresh database; medians of BENCH_ROUNDS rounds. ``python -m bench.postal_feed`` runs it alone;
``make bench`` runs it with the rest. Target: at least 5 000 events/s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import ROUNDS
from connectors.postal_vnpost import records
from connectors.postal_vnpost.feed import CURSOR, read_feed
from connectors.postal_vnpost.interface import TrackingPage
from connectors.postal_vnpost.settings import SANDBOX_SECRET
from hub.config import Settings
from hub.context import context
from hub.partners import add_partner
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from tests.support import Process, free_port, settings_env, wait_port

EVENTS = int(os.environ.get("BENCH_POSTAL_EVENTS", "20000"))
PER_ORDER = 4
PAGE = 1000
PARTNER = "postal_vnpost"
TARGET = 5000


def _hub(tmp: Path, sim: str, orders: list[str]) -> Settings:
    """A migrated SQLite hub pointed at the simulator, holding every order of the feed."""
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", var_dir=tmp / "var",
                        keys_dir=tmp / "keys", key_pepper="bench-pepper",
                        partner_settings={PARTNER: {"token_url": f"{sim}/oauth/token", "tracking_url": f"{sim}/api/tracking",
                                                    "feed_page_size": PAGE}})
    upgrade(settings.effective_database_url)
    engine = engine_for(settings)
    add_partner(engine, PARTNER, "VNPost", "postal")
    job = records.Job("Nguyễn Văn A", "0912345678", "Số 1", None, "193", "22", ["Tờ khai"])
    with engine.begin() as conn:
        for number in orders:
            records.book(conn, PARTNER, number, dossier_code=number, agency_id=number.split("-", 1)[0], leg="pickup", job=job)
    return settings


def _pages(sim: str) -> list[bytes]:
    """The simulator's whole feed as raw page bodies, read the way the hub reads it."""
    bodies: list[bytes] = []
    last = "0" * 24
    with httpx.Client(base_url=sim, timeout=30) as http:
        token = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("lienthong", SANDBOX_SECRET)).json()["access_token"]
        while True:
            body = http.get("/api/tracking", params={"pagesize": PAGE, "lastId": last},
                            headers={"Authorization": f"Bearer {token}"}).content
            docs = orjson.loads(body)["_embedded"]["rh:doc"]
            if not docs:
                return bodies
            bodies.append(body)
            last = docs[-1]["_id"]["$oid"]


def bench_postal_feed(tmp: Path) -> dict[str, Any]:
    """Ingestion and parse-only rates, medians of ROUNDS rounds (no Redis: the job runs in this process)."""
    port = free_port()
    sim = f"http://127.0.0.1:{port}"
    proc = Process(["-m", "hub.cli", "simulator", "postal-vnpost", "--port", str(port), "--speed", "0"],
                   settings_env(Settings()), tmp / "vnpost-sim.log").start()
    try:
        wait_port(port)
        loaded = httpx.post(f"{sim}/_sim/load", json={"orders": EVENTS // PER_ORDER, "events_per_order": PER_ORDER},
                            timeout=60).json()
        total, last_id = loaded["events"], loaded["last_id"]
        bodies = _pages(sim)
        orders = list(dict.fromkeys(d["OrderNumber"] for b in bodies for d in orjson.loads(b)["_embedded"]["rh:doc"]))
        ingest, parse = [], []
        for round_ in range(ROUNDS):
            settings = _hub(tmp / f"round-{round_}", sim, orders)
            ctx = context(PARTNER, settings)
            started = time.perf_counter()
            while ctx.cursor(CURSOR).get() != last_id:
                read_feed(ctx)
            ingest.append(total / (time.perf_counter() - started))
            started = time.perf_counter()
            parsed = sum(len(TrackingPage.model_validate_json(b).events) for b in bodies)
            parse.append(parsed / (time.perf_counter() - started))
            engine_for(settings).dispose()
        return {"events": total, "page": PAGE, "rounds": ROUNDS, "ingest_per_s": statistics.median(ingest),
                "parse_per_s": statistics.median(parse), "ingest_runs": ingest,
                "ratio": statistics.median(ingest) / statistics.median(parse)}
    finally:
        proc.stop()


def report(result: dict[str, Any]) -> None:
    print(f"\npostal feed ingestion: {result['events']} events in pages of {result['page']}, median of "
          f"{result['rounds']} rounds")
    print(f"  read_feed (HTTP, map, store, SQLite): {result['ingest_per_s']:9.0f} events/s  (target >= {TARGET})")
    print(f"  parse only (TrackingPage):            {result['parse_per_s']:9.0f} events/s")
    print(f"  ingestion / parse: {result['ratio']:.2f}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-postal-"))
    try:
        report(bench_postal_feed(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
