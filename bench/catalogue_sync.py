"""The nightly catalogue sync (issue 17): 2,000 procedures read from the portal simulator over
loopback (``LayDanhSachTTHC``, ``LayThuTuc`` each, ``LayDanhMucCoQuan``, ``LayDanhMucLinhVuc``),
normalised, compared with the stored versions and stored with their ``catalogue.changed`` notices,
beside its network time: the same HTTP calls alone, with the same client and concurrency, answers
decoded as JSON and nothing else (no model, no diff, no store).

Three measures, medians of BENCH_ROUNDS rounds, alternating: the first sync into a fresh SQLite hub
(every procedure new: 2,000 versions, history rows and notices), a night with nothing changed (read
and compare only) and the network alone. The simulator runs in its own process (``--catalogue-size``
BENCH_CATALOGUE_SIZE, default 2000). ``python -m bench.catalogue_sync`` runs it alone; ``make bench``
runs it after the rest.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import ROUNDS
from connectors.national_dvc.catalogue.sync import client_of, sync
from hub.config import Settings
from hub.context import context
from hub.partners import add_partner
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from tests.support import Process, free_port, settings_env, wait_port

SIZE = int(os.environ.get("BENCH_CATALOGUE_SIZE", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CATALOGUE_CONCURRENCY", "4"))


def _hub(tmp: Path, sim: str) -> Settings:
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", var_dir=tmp / "var", keys_dir=tmp / "keys",
                        key_pepper="bench-pepper",
                        partner_settings={"national_dvc": {"adapter_url": sim, "catalogue_concurrency": CONCURRENCY,
                                                           "timeout": 30}})
    upgrade(settings.effective_database_url)
    engine = engine_for(settings)
    add_partner(engine, "national_dvc", "Cổng Dịch vụ công quốc gia", "national_portal")
    add_partner(engine, "motcua", "Một cửa điện tử", "one_stop")
    return settings


def network_only(ctx: Any) -> float:
    """The sync's HTTP calls alone (same client, same concurrency); seconds."""
    client = client_of(ctx)
    started = time.perf_counter()
    _, listing = client.read("LayDanhSachTTHC", {})
    codes = [item["MATTHC"] for item in listing["result"]]
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        list(pool.map(lambda code: client.read("LayThuTuc", {"maTTHC": code}), codes))
    client.read("LayDanhMucCoQuan", {})
    client.read("LayDanhMucLinhVuc", {})
    return time.perf_counter() - started


def bench_catalogue_sync(tmp: Path) -> dict[str, Any]:
    port = free_port()
    sim = f"http://127.0.0.1:{port}"
    proc = Process(["-m", "hub.cli", "simulator", "national-dvc", "--port", str(port), "--catalogue-size", str(SIZE)],
                   settings_env(Settings()), tmp / "portal-sim.log").start()
    first, night, network = [], [], []
    try:
        wait_port(port)
        for round_ in range(ROUNDS):
            settings = _hub(tmp / f"round-{round_}", sim)
            ctx = context("national_dvc", settings)
            if round_ == 0:
                network_only(ctx)  # warm-up, not counted: the simulator's first answers, the session, the connections
            if round_ % 2:  # alternate which goes first: a shared machine's load drifts
                network.append(network_only(ctx))
            report = sync(ctx)
            assert report.listed == SIZE and len(report.changed) == SIZE, (report.listed, len(report.changed))
            first.append(report.seconds)
            report = sync(ctx)
            assert report.changed == {}, "a night with nothing new changes nothing"
            night.append(report.seconds)
            if not round_ % 2:
                network.append(network_only(ctx))
            client_of(ctx).close()
            engine_for(settings).dispose()
    finally:
        proc.stop()
    med = {name: statistics.median(runs) for name, runs in (("first", first), ("night", night), ("network", network))}
    return {"size": SIZE, "concurrency": CONCURRENCY, "rounds": ROUNDS, **med, "runs": {"first": first, "night": night,
            "network": network}, "first_ratio": med["first"] / med["network"], "night_ratio": med["night"] / med["network"]}


def report(result: dict[str, Any]) -> None:
    print(f"\ncatalogue sync: {result['size']} procedures, {result['concurrency']} LayThuTuc in flight, median of "
          f"{result['rounds']} rounds")
    print(f"  first sync (read, diff, store {result['size']} versions and notices): {result['first']:7.2f} s")
    print(f"  a night with nothing changed (read, diff):                  {result['night']:7.2f} s")
    print(f"  network alone (the same HTTP calls, JSON decoded):          {result['network']:7.2f} s")
    print(f"  ratio first / network: {result['first_ratio']:.2f}; night / network: {result['night_ratio']:.2f}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-catalogue-"))
    try:
        report(bench_catalogue_sync(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
