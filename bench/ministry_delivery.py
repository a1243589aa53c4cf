"""Delivery through a templated ministry adapter against the hand-written national portal connector.

The same messages (a dossier and four status changes each) are stored, then two workers deliver
them all: in one run to the portal simulator through ``connectors/national_dvc`` (hand-written,
10 messages per call), in the other to the generic ministry simulator through a YAML adapter (a
Jinja2 mapping per message, its output checked against a JSON Schema, one message per call).
The two alternate ROUNDS times; medians of messages per second from the first delivery to the last.

Run alone: ``python -m bench.ministry_delivery`` (``make bench`` runs it with the others).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import ROUNDS, median, serve, setup_hub
from hub.runtime import engine_for
from hub.store.tables import deliveries
from tests.factories import status_changed, submitted
from tests.support import Process, RedisServer, free_port, settings_env, wait_until

MESSAGES = int(os.environ.get("BENCH_MINISTRY_MESSAGES", "3000"))

ADAPTER = """\
code: bench_ministry
name: Bench ministry (generic simulator)
base_url: {base}
secrets:
  key: {{sandbox: generic-key}}
auth: {{kind: key_header, header: X-API-Key, secret: key}}
receives:
  - type: [dossier.submitted, status.changed]
send:
  dossier.submitted:
    request:
      path: /inbox/hoso
      json:
        maHoSo: "{{{{ m.dossier_code }}}}"
        maThuTuc: "{{{{ m.payload.procedure_code }}}}"
        tenThuTuc: "{{{{ m.payload.procedure_name }}}}"
        nguoiNop: "{{{{ m.payload.applicant.name }}}}"
        ngayNhan: "{{{{ m.payload.received_at | local('%d/%m/%Y %H:%M:%S') }}}}"
        hanXuLy: "{{{{ m.payload.due_at | local('%d/%m/%Y %H:%M:%S') if m.payload.due_at else none }}}}"
    schema: wire/hoso.schema.json
  status.changed:
    request:
      path: /inbox/trangthai
      json:
        maHoSo: "{{{{ m.dossier_code }}}}"
        trangThai: "{{{{ m.payload.status }}}}"
        canBo: "{{{{ m.payload.handler_name }}}}"
        noiDung: "{{{{ m.payload.content }}}}"
        thoiGian: "{{{{ m.payload.handled_at | local('%d/%m/%Y %H:%M:%S') }}}}"
    schema: wire/trangthai.schema.json
answer:
  - {{field: ok, in: [true], then: ok}}
"""

TEXT = {"type": "string", "minLength": 1}
WHEN = {"type": "string", "pattern": r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$"}
SCHEMAS = {
    "hoso.schema.json": {"type": "object", "additionalProperties": False,
                         "required": ["maHoSo", "maThuTuc", "tenThuTuc", "nguoiNop", "ngayNhan"],
                         "properties": {"maHoSo": TEXT, "maThuTuc": TEXT, "tenThuTuc": TEXT, "nguoiNop": TEXT,
                                        "ngayNhan": WHEN, "hanXuLy": WHEN}},
    "trangthai.schema.json": {"type": "object", "additionalProperties": False,
                              "required": ["maHoSo", "trangThai", "canBo", "noiDung", "thoiGian"],
                              "properties": {"maHoSo": TEXT, "trangThai": {"type": "integer"}, "canBo": TEXT,
                                             "noiDung": TEXT, "thoiGian": WHEN}},
}


def _store(api_port: int, key: str) -> int:
    """Post MESSAGES messages (a dossier and four steps each) through the hub's batch intake."""
    dossiers = MESSAGES // 5
    with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"ApiKey {key}"},
                      timeout=60) as c:
        batch: list[dict[str, Any]] = []
        for d in range(1, dossiers + 1):
            batch.append(submitted(seq=d))
            batch.extend(status_changed(seq=d, step=s) for s in range(1, 5))
            while len(batch) >= 50 or (d == dossiers and batch):
                r = c.post("/v1/messages:batch", json={"messages": batch[:50]})
                assert r.json().get("accepted") == len(batch[:50]), r.text[:500]
                batch = batch[50:]
    return dossiers * 5


def _run(tmp: Path, redis: RedisServer, which: str, workers: int = 2) -> dict[str, float]:
    """One run: store the messages, start the workers, time the deliveries to ``which``."""
    redis.flush()
    sim_port, api_port = free_port(), free_port()
    folder = tmp / "adapters"
    routes = tmp / "routes.yaml"
    if which == "adapter":
        folder.mkdir(parents=True)
        (folder / "wire").mkdir()
        for name, schema in SCHEMAS.items():
            (folder / "wire" / name).write_text(json.dumps(schema))
        (folder / "bench_ministry.yaml").write_text(ADAPTER.format(base=f"http://127.0.0.1:{sim_port}/generic"))
        routes.write_text("routes: []\n")  # only the adapter's own rules: nothing goes to the portal
        extra: dict[str, Any] = {"routes_file": routes, "partner_settings": {"ministry_apps": {"folder": str(folder)}}}
        sim_argv = ["-m", "hub.cli", "simulator", "ministry-apps", "--port", str(sim_port)]
    else:
        folder.mkdir(parents=True)  # an empty folder: no adapter
        extra = {"partner_settings": {"national_dvc": {"adapter_url": f"http://127.0.0.1:{sim_port}"},
                                      "ministry_apps": {"folder": str(folder)}}}
        sim_argv = ["-m", "hub.cli", "simulator", "national-dvc", "--port", str(sim_port)]
    settings, keys = setup_hub(tmp, redis, **extra)
    env = settings_env(settings)
    procs = [Process(sim_argv, env, tmp / "sim.log").start(), serve("hub.edge.app:create_app", api_port, env,
                                                                   tmp / "api.log", factory=True)]
    try:
        total = _store(api_port, keys["motcua"])
        engine = engine_for(settings)

        def delivered() -> int:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(deliveries)
                                        .where(deliveries.c.state == "delivered")).scalar_one())

        for i in range(workers):
            procs.append(Process(["-m", "hub.cli", "worker"], env, tmp / f"worker{i}.log").start())
        wait_until(lambda: delivered() >= total, 600, 0.05, what=f"delivery through the {which}")
        with engine.connect() as conn:
            first, last = conn.execute(select(func.min(deliveries.c.delivered_at),
                                              func.max(deliveries.c.delivered_at))).one()
        engine.dispose()
        seconds = (last - first).total_seconds()
        return {"messages": total, "seconds": seconds, "msgs_per_s": total / seconds}
    finally:
        for p in reversed(procs):
            p.stop()


def bench_ministry_delivery(tmp: Path, redis: RedisServer) -> dict[str, Any]:
    """Portal connector and templated adapter, alternating ROUNDS times; each one's median msg/s."""
    runs: dict[str, list[float]] = {"portal": [], "adapter": []}
    for n in range(ROUNDS):
        for which in ("portal", "adapter") if n % 2 == 0 else ("adapter", "portal"):
            runs[which].append(_run(tmp / f"ministry-{which}-{n}", redis, which)["msgs_per_s"])
    out: dict[str, Any] = {which: {"msgs_per_s": median(values), "runs": values} for which, values in runs.items()}
    out["ratio"] = out["adapter"]["msgs_per_s"] / out["portal"]["msgs_per_s"]
    out["messages"] = MESSAGES
    return out


def report(figures: dict[str, Any]) -> None:
    print(f"\nministry adapter (YAML, Jinja2 mapping, JSON Schema check, 1 message per call) against the portal "
          f"connector (hand-written, 10 per call): {figures['messages']} messages, 2 workers, median of {ROUNDS}")
    for which, label in (("portal", "national portal connector"), ("adapter", "templated ministry adapter")):
        print(f"  {label:28} {figures[which]['msgs_per_s']:8.0f} msg/s   runs: "
              + ", ".join(f"{v:.0f}" for v in figures[which]["runs"]))
    print(f"  adapter/portal ratio: {figures['ratio']:.2f}")


if __name__ == "__main__":
    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-ministry-"))
    redis = RedisServer(fsync="everysec")
    redis.start()
    try:
        started = time.perf_counter()
        result = bench_ministry_delivery(tmp, redis)
        report(result)
        print(f"({time.perf_counter() - started:.0f} s)")
    finally:
        redis.remove()
        shutil.rmtree(tmp, ignore_errors=True)
