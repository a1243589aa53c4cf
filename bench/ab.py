"""The intake of this tree against a baseline checkout, in one run: ``python -m bench.ab BASELINE_DIR``.

Each tree sets up its own hub (its own migrations, partner, key and limits, through its own
``setup_hub``: ``bench.common``, or ``bench.run`` in older trees) and serves it with its own code
(uvicorn started in that tree); the two are loaded in turn with the same ``wrk`` script,
``BENCH_ROUNDS`` times, and the medians compared. This is how a change's cost is measured on a
noisy machine: the ratio of two hubs measured side by side, not two absolute figures from
different hours. Loopback only; stops by itself.

Make a baseline checkout with ``git worktree add /tmp/baseline <commit>``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROUNDS, SECONDS, WARMUP_SECONDS, median, wrk
from tests.factories import status_changed
from tests.support import RedisServer, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent

# Run inside each tree: its own setup, printed as {"key": ..., "env": {...}}.
SETUP = """
import json, sys
from pathlib import Path
try:
    from bench.common import setup_hub
except ImportError:  # a baseline from before bench/common.py
    from bench.run import setup_hub
from tests.support import settings_env
class Redis:  # setup_hub reads only .url
    url = sys.argv[2]
settings, keys = setup_hub(Path(sys.argv[1]), Redis())
print(json.dumps({"key": keys["motcua"], "env": settings_env(settings)}))
"""


def prepare(tree: Path, tmp: Path, redis_url: str) -> tuple[str, dict[str, str]]:
    out = subprocess.run([sys.executable, "-c", SETUP, str(tmp), redis_url], cwd=tree, capture_output=True, text=True,
                         check=True, env=dict(os.environ, PYTHONPATH=str(tree))).stdout
    found = json.loads(out.strip().splitlines()[-1])
    return found["key"], found["env"]


def serve(tree: Path, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", "hub.edge.app:create_app", "--factory", "--host", "127.0.0.1", "--port",
            str(port), "--log-level", "warning", "--no-access-log", "--no-proxy-headers"]
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)

    def up() -> bool:
        import httpx
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    wait_until(up, 60, what=f"the hub of {tree}")
    return proc


def main() -> None:
    baseline = Path(sys.argv[1]).resolve()
    body = json.dumps(status_changed())
    redis = RedisServer()
    redis.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="lt-ab-") as tmp:
            hubs = {}
            for name, tree in (("baseline", baseline), ("this tree", ROOT)):
                work = Path(tmp) / name.replace(" ", "-")
                work.mkdir()
                key, env = prepare(tree, work, redis.url)
                port = free_port()
                procs.append(serve(tree, env, port, work / "api.log"))
                hubs[name] = (port, key)
            runs: dict[str, list] = {name: [] for name in hubs}
            for port, key in hubs.values():  # warm both up
                wrk(f"http://127.0.0.1:{port}/v1/messages", body, key, WARMUP_SECONDS)
            for _ in range(ROUNDS):
                for name, (port, key) in hubs.items():
                    runs[name].append(wrk(f"http://127.0.0.1:{port}/v1/messages", body, key, SECONDS))
            print(f"intake A/B: {baseline} vs {ROOT}; {ROUNDS} alternating runs of {SECONDS} s, medians")
            print(f"{'hub':12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
            rps = {}
            for name, results in runs.items():
                rps[name] = median([r.rps for r in results])
                print(f"{name:12} {rps[name]:8.0f} {median([r.p50_ms for r in results]):8.2f} "
                      f"{median([r.p99_ms for r in results]):8.2f} {sum(r.errors for r in results):7d}")
            print(f"this tree / baseline: {rps['this tree'] / rps['baseline']:.3f}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        redis.remove()


if __name__ == "__main__":
    main()
