"""``make run``: the sandbox province on embedded defaults, every part as a child process.

Starts a private ``redis-server`` (AOF under ``var/redis/``), migrates the SQLite database, seeds
one partner per connector plus the one-stop system and an operator (credentials in
``var/sandbox.json``), then runs the partner simulators, the API and one worker. Ctrl-C stops
everything it started.
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
from urllib.parse import urlparse

import httpx
from pydantic import TypeAdapter

from connectors.population_db.cli import sandbox_args as population_sandbox_args
from hub.access.accounts import add_account, list_accounts
from hub.access.keys import issue_key
from hub.config import Settings
from hub.partners import add_partner, list_partners
from hub.private_files import private_dir, write_private
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from hub.vault.store import seed_defaults

SANDBOX_PARTNERS = [
    ("motcua", "Hệ thống thông tin một cửa điện tử tỉnh", "one_stop", "000.00.00.H49"),
    ("national_dvc", "Cổng Dịch vụ công quốc gia", "national_portal", None),
    ("postal_vnpost", "Bưu điện tỉnh (VNPost)", "postal", None),
    ("population_db", "Cơ sở dữ liệu quốc gia về dân cư", "population_db", None),
    ("ministry_apps", "Phần mềm chuyên ngành của bộ", "ministry_app", None),
    ("ops", "Tổ vận hành cổng liên thông", "operator", None),
    ("national_payment", "Nền tảng thanh toán trên Cổng DVC quốc gia", "payment_platform", None),
]
#: Kinds that call the hub without an API key (the payment platform is checked by MaXacThuc).
KEYLESS_KINDS = frozenset({"payment_platform"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


#: The one-stop system's sandbox key may also look citizens up (docs/CITIZENS.md).
SANDBOX_SCOPES = {"motcua": {"endpoints": ["intake", "read", "lookup"], "lookups": ["*"]}}
#: Demo officers of the one-stop system, one per rights tier: (MaCanBo, name, unit, tier).
SANDBOX_OFFICERS = [
    ("CB-TP-001", "Nguyễn Thị Lan", "Phòng Tư pháp", "own_dossiers"),
    ("CB-TP-002", "Trần Văn Minh", "Phòng Tư pháp", "own_unit"),
    ("CB-VP-001", "Lê Quang Huy", "Văn phòng HĐND và UBND", "whole_agency"),
]


def seed_officers(settings: Settings) -> None:
    """Register the demo officers of ``motcua`` once (agency 000.00.00.H49)."""
    from hub.citizens.officers import list_officers, register

    engine = engine_for(settings)
    known = {o["officer_code"] for o in list_officers(engine, "motcua")}
    for code, name, unit, tier in SANDBOX_OFFICERS:
        if code not in known:
            register(engine, "motcua", code, name, "000.00.00.H49", unit=unit, tier=tier, actor="sandbox")
    engine.dispose()


def seed(settings: Settings) -> dict[str, dict[str, str]]:
    """Create the sandbox partners and keys once; later runs reuse ``var/sandbox.json``."""
    path = settings.var_dir / "sandbox.json"
    engine = engine_for(settings)
    existing = {p["code"] for p in list_partners(engine)}
    creds: dict[str, dict[str, str]] = json.loads(path.read_text())["partners"] if path.exists() else {}
    for code, name, kind, agency in SANDBOX_PARTNERS:
        if code not in existing:
            add_partner(engine, code, name, kind, agency)
        if code not in creds and kind not in KEYLESS_KINDS:
            creds[code] = {"name": name, "kind": kind,
                           "api_key": issue_key(engine, code, settings.effective_key_pepper, "sandbox",
                                                scopes=SANDBOX_SCOPES.get(code))}
    engine.dispose()
    return creds


def seed_payment_secret(settings: Settings) -> bool:
    """Put a random ``payment.secret`` into the vault when neither the vault nor the settings hold
    one (the hub has no built-in secret); True when it did. Later runs keep it."""
    from connectors.national_dvc.payment.secret import CREDENTIAL, payment_secret
    from hub.vault.store import Vault

    if payment_secret(settings):
        return False
    engine = engine_for(settings)
    try:
        Vault(engine, settings).put(CREDENTIAL, secrets.token_urlsafe(32), actor="sandbox")
    finally:
        engine.dispose()
    return True


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


def run(settings: Settings, demo: bool = True, api_port: int = 8000) -> None:
    """Run the sandbox until Ctrl-C or until a part dies."""
    var = private_dir(settings.var_dir)  # the database, Redis' data and sandbox.json: 0700
    private_dir(var / "redis")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        sys.exit("redis-server is not installed: run 'make run' (it installs it) or 'apt-get install redis-server'")
    redis_port = urlparse(settings.redis_url).port or 6379
    if port_in_use(redis_port):
        redis_port = free_port()
    dvc_port = urlparse(settings.dvc_adapter_url).port or 8101
    if port_in_use(dvc_port):
        dvc_port = free_port()
    payment_port = urlparse(settings.payment_url).port or 8102
    motcua_port = urlparse(settings.motcua_callback_url).port or 8103
    payment_port, motcua_port = (p if not port_in_use(p) else free_port() for p in (payment_port, motcua_port))
    population_port = urlparse(settings.population_db_url).port or 8104
    population_port = free_port() if port_in_use(population_port) else population_port
    if port_in_use(api_port):
        sys.exit(f"port {api_port} is busy: is another hub running?")
    env = dict(os.environ)
    env.update({
        "LIENTHONG_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "LIENTHONG_DVC_ADAPTER_URL": f"http://127.0.0.1:{dvc_port}",
        "LIENTHONG_PAYMENT_URL": f"http://127.0.0.1:{payment_port}",
        "LIENTHONG_MOTCUA_CALLBACK_URL": f"http://127.0.0.1:{motcua_port}/lienthong/messages",
        "LIENTHONG_POPULATION_DB_URL": f"http://127.0.0.1:{population_port}/dancuquocgia",
        "LIENTHONG_POPULATION_DB_TOKEN_URL": f"http://127.0.0.1:{population_port}/oauth/token",
        "LIENTHONG_VAR_DIR": str(var),
    })
    # The hub signs what it sends to the portal and the one-stop system, and their simulators check it
    # against the hub's published keys, as partners that require signatures would.
    env.setdefault("LIENTHONG_DVC_SIGN_REQUESTS", "true")
    env.setdefault("LIENTHONG_MOTCUA_SIGN_REQUESTS", "true")
    env.setdefault("LIENTHONG_METRICS_SCRAPE_NETWORKS", '["127.0.0.1/32", "::1/128"]')  # a local Prometheus
    jwks = f"http://127.0.0.1:{api_port}/.well-known/jwks.json"

    def verify_args(setting: str) -> list[str]:  # the setting read as Settings reads a bool
        return ["--jwks-url", jwks] if TypeAdapter(bool).validate_python(env[setting]) else []
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
        seed_payment_secret(settings)  # the hub and the payment simulator read the same one there
        lt = [sys.executable, "-m", "hub.cli"]
        children.start("national_dvc simulator", lt + ["simulator", "national-dvc", "--port", str(dvc_port)]
                       + verify_args("LIENTHONG_DVC_SIGN_REQUESTS"), env)
        children.start("payment simulator", lt + ["simulator", "payment", "--port", str(payment_port), "--callback-url",
                                                  f"http://127.0.0.1:{api_port}/v1/payments/callback"], env)
        children.start("motcua simulator", lt + ["simulator", "motcua", "--port", str(motcua_port)]
                       + verify_args("LIENTHONG_MOTCUA_SIGN_REQUESTS"), env)
        children.start("population_db simulator", lt + ["simulator", "population-db", "--port", str(population_port)]
                       + population_sandbox_args(settings), env)
        children.start("api", lt + ["api", "--port", str(api_port)], env)
        children.start("worker", lt + ["worker"], env)
        base = f"http://127.0.0.1:{api_port}"
        wait_http(f"{base}/healthz")
        info = {"api_url": base, "docs_url": f"{base}/docs", "redis_url": env["LIENTHONG_REDIS_URL"],
                "simulators": {"national_dvc": env["LIENTHONG_DVC_ADAPTER_URL"], "payment": env["LIENTHONG_PAYMENT_URL"],
                               "motcua": f"http://127.0.0.1:{motcua_port}",
                               "population_db": f"http://127.0.0.1:{population_port}"}, "partners": creds,
                "people": people}
        banner(info, save_info(var, info))
        if demo:
            from hub.demo import Payer, feed

            pay = Payer(settings, env["LIENTHONG_PAYMENT_URL"])
            threading.Thread(target=feed, args=(base, creds["motcua"]["api_key"]), kwargs={"pay": pay},
                             daemon=True).start()
        while (gone := children.dead()) is None:
            time.sleep(0.5)
        print(f"\n{gone} stopped unexpectedly; stopping the sandbox", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping the sandbox…", file=sys.stderr)
    finally:
        children.stop()


def banner(info: dict[str, object], creds_path: Path) -> None:
    base = info["api_url"]
    print(f"""
lienthong sandbox is running (Ctrl-C stops everything)
  API ........... {base}
  OpenAPI docs .. {base}/docs
  Schemas ....... {base}/schemas/
  Health ........ {base}/healthz
  Credentials ... {creds_path}   (one key per partner; people: quantri=admin, vanhanh=operator, kiemtra=auditor)
  Portal sim .... {info['simulators']['national_dvc']}/_sim/state   (national_dvc)
  Payment sim ... {info['simulators']['payment']}/_sim/state   (pay: POST /_sim/pay, connectors/national_dvc/payment)
  Một cửa sim ... {info['simulators']['motcua']}/_sim/state   (payment.confirmed arrives here)
  Dân cư sim .... {info['simulators']['population_db']}/_sim/state   (population_db, SOAP: /dancuquocgia?wsdl)
  Hub's keys .... {base}/.well-known/jwks.json   (the portal and một cửa sims check the hub's signatures with them)

Send a dossier, then a status change, as the one-stop system:
  KEY=$(python3 -c "import json;print(json.load(open('{creds_path}'))['partners']['motcua']['api_key'])")
  curl -s -X POST {base}/v1/messages -H "Authorization: ApiKey $KEY" \\
       -H 'Content-Type: application/json' -d @docs/examples/dossier-submitted.json
  curl -s -X POST {base}/v1/messages -H "Authorization: ApiKey $KEY" \\
       -H 'Content-Type: application/json' -d @docs/examples/status-changed.json
Then follow it:  curl -s -H "Authorization: ApiKey $KEY" {base}/v1/dossiers/000.00.00.H49-261123-0001/trace
""", flush=True)
