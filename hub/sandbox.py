"""``make run``: the sandbox province on embedded defaults, every part as a child process.

Starts a private ``redis-server`` (AOF under ``var/redis/``), migrates the SQLite database, seeds
what every partner's manifest asks for (its partner rows and keys, officers, secrets; credentials in
``var/sandbox.json``) plus the operators and people, then runs every partner's simulator, the API,
one worker and the partners' demo traffic. Ctrl-C stops everything it started. Nothing here names a
partner: each brings its part through its manifest (``connectors/<partner>/manifest.py``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from hub.access.accounts import add_account, list_accounts
from hub.access.keys import issue_key
from hub.config import Settings
from hub.context import context
from hub.partners import add_partner, list_partners
from hub.plugins import manifests
from hub.private_files import private_dir, write_private
from hub.runtime import engine_for
from hub.seam import SandboxInfo, SeedPartner
from hub.store.migrate import upgrade
from hub.vault.store import seed_defaults

#: The hub's own partner row: its operations team's systems (monitoring, scripts).
HUB_PARTNERS = [SeedPartner("ops", "Tổ vận hành cổng liên thông", "operator")]


def sandbox_partners() -> list[SeedPartner]:
    """The rows every partner's manifest seeds, then the hub's own."""
    return [p for m in manifests() for p in m.seed.partners] + HUB_PARTNERS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]  # (host, port) for AF_INET
        return port


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Block until ``url`` answers (any status), or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


SANDBOX_PEOPLE = [
    ("quantri", "Quản trị viên cổng liên thông", "admin"),
    ("vanhanh", "Cán bộ vận hành", "operator"),
    ("kiemtra", "Cán bộ kiểm tra an ninh", "auditor"),
]


def seed_people(settings: Settings) -> dict[str, dict[str, str]]:
    """One account per role with a generated password, created once; later runs reuse ``var/sandbox.json``."""
    path = settings.var_dir / "sandbox.json"
    engine = engine_for(settings)
    existing = {a["username"] for a in list_accounts(engine)}
    people: dict[str, dict[str, str]] = json.loads(path.read_text()).get("people", {}) if path.exists() else {}
    for username, name, role in SANDBOX_PEOPLE:
        if username not in existing:
            password = secrets.token_urlsafe(12)
            add_account(engine, username, name, role, password, actor="sandbox")
            people[username] = {"name": name, "role": role, "password": password}
    engine.dispose()
    return people


def seed_officers(settings: Settings) -> None:
    """Register once the demo officers each manifest's seed names (for its first partner)."""
    from hub.citizens.officers import list_officers, register

    engine = engine_for(settings)
    try:
        for m in manifests():
            if not m.seed.officers or not m.seed.partners:
                continue
            partner = m.seed.partners[0].code
            known = {o["officer_code"] for o in list_officers(engine, partner)}
            for code, name, agency, unit, tier in m.seed.officers:
                if code not in known:
                    register(engine, partner, code, name, agency, unit=unit, tier=tier, actor="sandbox")
    finally:
        engine.dispose()


def seed(settings: Settings) -> dict[str, dict[str, str]]:
    """Create the sandbox partners and keys once; later runs reuse ``var/sandbox.json``."""
    path = settings.var_dir / "sandbox.json"
    engine = engine_for(settings)
    existing = {p["code"] for p in list_partners(engine)}
    creds: dict[str, dict[str, str]] = json.loads(path.read_text())["partners"] if path.exists() else {}
    for p in sandbox_partners():
        if p.code not in existing:
            add_partner(engine, p.code, p.name, p.kind, p.agency_id)
        if p.code not in creds and not p.keyless:
            creds[p.code] = {"name": p.name, "kind": p.kind,
                             "api_key": issue_key(engine, p.code, settings.effective_key_pepper, "sandbox",
                                                  scopes=dict(p.scopes) if p.scopes is not None else None)}
    engine.dispose()
    return creds


def seed_setups(settings: Settings) -> None:
    """Each manifest's one-time set-up (a random shared secret into the vault, ...)."""
    for m in manifests():
        if m.seed.setup is not None:
            m.seed.setup(context(m.code, settings))


def save_info(var: Path, info: dict[str, object]) -> Path:
    """Write ``var/sandbox.json`` (partner keys and people's passwords): mode 0600 from the start, folder 0700."""
    path = private_dir(var) / "sandbox.json"
    write_private(path, json.dumps(info, indent=2, ensure_ascii=False))
    return path


class Children:
    """The processes the sandbox started; stops them all, newest first."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, env=env, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def dead(self) -> str | None:
        return next((name for name, p in self.procs if p.poll() is not None), None)

    def stop(self) -> None:
        """Newest first, each given 10 s to finish: the worker ends its batch while Redis still runs."""
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _port(url: str, default: int) -> int:
    """The port of ``url`` (``default`` without one), or a free one when that is busy."""
    port = urlparse(url).port or default
    return free_port() if port_in_use(port) else port


def run(settings: Settings, demo: bool = True, api_port: int = 8000) -> None:
    """Run the sandbox until Ctrl-C or until a part dies."""
    var = private_dir(settings.var_dir)  # the database, Redis' data and sandbox.json: 0700
    private_dir(var / "redis")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        sys.exit("redis-server is not installed: run 'make run' (it installs it) or 'apt-get install redis-server'")
    redis_port = _port(settings.redis_url, 6379)
    if port_in_use(api_port):
        sys.exit(f"port {api_port} is busy: is another hub running?")
    simulated = [m for m in manifests() if m.simulator is not None]
    sim_urls = {m.code: f"http://127.0.0.1:{_port(f'http://127.0.0.1:{m.simulator.port}', m.simulator.port)}"
                for m in simulated if m.simulator is not None}
    env = dict(os.environ)
    env.update({"LIENTHONG_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "LIENTHONG_VAR_DIR": str(var)})
    for m in simulated:
        assert m.simulator is not None
        env.update(m.simulator.hub_env(sim_urls[m.code]))  # the hub calls the simulator
    for m in manifests():
        for name, value in m.seed.env.items():  # e.g. the hub signs what it sends, and the simulator checks it
            env.setdefault(name, value)
    env.setdefault("LIENTHONG_METRICS_SCRAPE_NETWORKS", '["127.0.0.1/32", "::1/128"]')  # a local Prometheus
    base = f"http://127.0.0.1:{api_port}"
    os.environ.update({k: v for k, v in env.items() if k.startswith("LIENTHONG_")})  # the partners' settings here too
    children = Children()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` or a stopped `make` stops the sandbox like Ctrl-C
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        children.start("redis", [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(var / "redis"),
                                 "--appendonly", "yes", "--save", "", "--loglevel", "warning"], env)
        upgrade(settings.effective_database_url)
        creds = seed(settings)
        people = seed_people(settings)
        seed_officers(settings)
        seed_defaults(settings)  # the simulators' passwords and secrets, into the vault once
        seed_setups(settings)
        lt = [sys.executable, "-m", "hub.cli"]
        for m in simulated:
            sim = m.simulator
            assert sim is not None
            info = SandboxInfo(base, env, context(m.code, settings))
            port = urlparse(sim_urls[m.code]).port
            children.start(f"{m.code} simulator", lt + ["simulator", sim.name, "--port", str(port)] + sim.args(info),
                           {**env, **sim.env(info)})
        children.start("api", lt + ["api", "--port", str(api_port)], env)
        children.start("worker", lt + ["worker"], env)
        wait_http(f"{base}/healthz")
        running: dict[str, Any] = {"api_url": base, "docs_url": f"{base}/docs", "redis_url": env["LIENTHONG_REDIS_URL"],
                                   "simulators": sim_urls, "partners": creds, "people": people}
        banner(running, save_info(var, running))
        if demo:
            keys = {code: c["api_key"] for code, c in creds.items()}
            for m in manifests():
                if m.seed.demo is not None:
                    threading.Thread(target=m.seed.demo, args=(SandboxInfo(base, env, context(m.code, settings)), keys),
                                     name=f"demo-{m.code}", daemon=True).start()
        while (gone := children.dead()) is None:
            time.sleep(0.5)
        print(f"\n{gone} stopped unexpectedly; stopping the sandbox", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping the sandbox…", file=sys.stderr)
    finally:
        children.stop()


def banner(info: dict[str, Any], creds_path: Path) -> None:
    base = info["api_url"]
    examples = "\n".join(m.seed.banner.format(api=base, keys_file=creds_path) for m in manifests() if m.seed.banner)
    sims = "\n".join(f"  {(m.simulator.title or m.code)[:14]:.<15} {info['simulators'][m.code]}{m.simulator.state}   ({m.code})"
                     for m in manifests() if m.simulator is not None and m.code in info["simulators"])
    print(f"""
lienthong sandbox is running (Ctrl-C stops everything)
  Console ....... {base}/console   (sign in: vanhanh = operator, kiemtra = security officer, quantri = admin;
                  their passwords: python3 -c "import json; print(json.load(open('{creds_path}'))['people'])")
  API ........... {base}
  OpenAPI docs .. {base}/docs
  Schemas ....... {base}/schemas/
  Health ........ {base}/healthz
  Credentials ... {creds_path}   (one key per partner; people: quantri=admin, vanhanh=operator, kiemtra=auditor)
{sims}
  Hub's keys .... {base}/.well-known/jwks.json   (simulators that check the hub's signatures read them)

{examples}""", flush=True)
