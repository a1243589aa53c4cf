"""What every bench measure shares: wrk runs and their figures, uvicorn servers, a migrated hub, alternating runs.

bench/run.py (``make bench``), bench/lookups.py, bench/signatures.py and bench/ab.py import it; it
imports none of them. Settings: BENCH_CONNECTIONS (32), BENCH_SECONDS (8), BENCH_ROUNDS (3),
BENCH_WARMUP_SECONDS (2).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from hub.access.keys import issue_key
from hub.access.policies import set_policy
from hub.config import Settings
from hub.partners import add_partner
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from tests.support import Process, RedisServer, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", "2"))


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    """wrk's latency text ("850.00us", "12.3ms", "1.02s", "1.5m") in milliseconds; NaN if unreadable."""
    found = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if not found:
        return float("nan")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, body: str, key: str, seconds: int = SECONDS, script: str = "post.lua",
        extra_env: dict[str, str] | None = None) -> WrkResult:
    env = dict(os.environ, LT_BODY=body, LT_KEY=key, LT_RUN=uuid.uuid4().hex[:12], **(extra_env or {}))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / script), url],
        capture_output=True, text=True, env=env, check=True,
    ).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk gave no figures:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return WrkResult(rps, p50, p99, errors)


def serve(app: str, port: int, env: dict[str, str], log: Path, factory: bool = False, workers: int = 1) -> Process:
    argv = ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
            "--no-proxy-headers", "--workers", str(workers)]
    if factory:
        argv.append("--factory")
    proc = Process(argv, env, log).start()
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/docs"), 30, what=app)
    except AssertionError:
        proc.stop()  # a server that never answered must not outlive the bench
        raise
    return proc


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.HTTPError:
        return False


def median(values: list[float]) -> float:
    return statistics.median(values)


def setup_hub(tmp: Path, redis: RedisServer, **overrides: object) -> tuple[Settings, dict[str, str]]:
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", redis_url=redis.url, var_dir=tmp / "var",
                        keys_dir=tmp / "keys", key_pepper="bench-pepper", **overrides)  # type: ignore[arg-type]
    upgrade(settings.effective_database_url)
    engine = engine_for(settings)
    keys = {}
    for code, kind in (("motcua", "one_stop"), ("ops", "operator")):
        add_partner(engine, code, code, kind)
        keys[code] = issue_key(engine, code, settings.effective_key_pepper, "bench")
    # Limits high enough never to refuse, so the limiter runs on every call without shaping the load.
    for name, quota, window in (("per-second", 1_000_000, 1), ("daily", 1_000_000_000, 86_400)):
        set_policy(engine, counter="key", partner_code="motcua", name=name, quota=quota, window_seconds=window, actor="bench")
    engine.dispose()
    return settings, keys


def alternate(apps: dict[str, tuple[str, bool]], env: dict[str, str], body: str, key: str, tmp: Path,
              workers: int = 1, script: str = "post.lua",
              per_run: Callable[[int], dict[str, str]] | None = None) -> dict[str, object]:
    """Serve each app (name -> (uvicorn app, is a factory)), load them in turn ROUNDS times with wrk,
    and give each one's medians: req/s, p50, p99, and the errors summed. ``per_run(seconds)``, if
    given, makes each wrk run's extra environment (bench/signatures.py: a file of signed requests)."""
    def load(port: int, seconds: int) -> WrkResult:
        return wrk(f"http://127.0.0.1:{port}/v1/messages", body, key, seconds, script,
                   per_run(seconds) if per_run else None)

    servers, runs = {}, {name: [] for name in apps}  # type: ignore[var-annotated]
    try:
        for name, (app, factory) in apps.items():
            port = free_port()
            servers[name] = (port, serve(app, port, env, tmp / f"{name}.log", factory=factory, workers=workers))
        for port, _ in servers.values():  # warm up: caches filled, first connections made; not counted
            load(port, WARMUP_SECONDS)
        for _ in range(ROUNDS):
            for name, (port, _) in servers.items():
                runs[name].append(load(port, SECONDS))
    finally:
        for _, proc in servers.values():
            proc.stop()
    return {name: {"rps": median([r.rps for r in rs]), "p50_ms": median([r.p50_ms for r in rs]),
                   "p99_ms": median([r.p99_ms for r in rs]), "errors": sum(r.errors for r in rs)}
            for name, rs in runs.items()}
