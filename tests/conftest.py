"""Fixtures with real parts: Redis, SQLite and PostgreSQL, the API over loopback HTTP, simulators."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine, make_url

from hub.access.keys import issue_key
from hub.config import Settings, get_settings
from hub.edge.app import create_app
from hub.partners import add_partner
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from tests.population import PopulationSim
from tests.support import (
    NginxServer,
    Portal,
    PostgresServer,
    Process,
    RedisServer,
    ThreadedServer,
    client,
    settings_env,
    with_fields,
)

PARTNERS = [
    ("motcua", "Một cửa điện tử", "one_stop"),
    ("national_dvc", "Cổng DVC quốc gia", "national_portal"),
    ("postal_vnpost", "VNPost", "postal"),
    ("ops", "Vận hành", "operator"),
    ("national_payment", "Nền tảng thanh toán", "payment_platform"),
]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test's own database, dropped after it (hundreds of PostgreSQL databases would fill the disk)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    pg: PostgresServer = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield pg.create_database(name)
    try:
        pg.drop_database(name)
    except Exception:  # a test that stopped the cluster; the session's remove() deletes everything anyway
        pass


@pytest.fixture
def plug(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``plug(module, ...)``: this process also loads these partner manifests, as ``LIENTHONG_PLUGINS``
    tells every hub process (settings are read again); undone after the test."""

    def load(*modules: str) -> None:
        monkeypatch.setenv("LIENTHONG_PLUGINS", json.dumps(list(modules)))
        get_settings.cache_clear()

    yield load
    monkeypatch.delenv("LIENTHONG_PLUGINS", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hub.db'}"


def make_settings(db_url: str, redis_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        database_url=db_url,
        redis_url=redis_url,
        var_dir=tmp_path / "var",
        keys_dir=tmp_path / "keys",
        key_pepper="test-pepper",
        retry_schedule=[0.2, 0.4, 0.8],
        retry_jitter=0.1,
        lease_seconds=3.0,
        relay_interval=0.2,
        breaker_threshold=3,
        breaker_open_seconds=1.0,
        # no ministry adapter unless a test names its folder: the shipped ones would take every status 10
        # and pull in every worker (tests/ministry/ name theirs)
        partner_settings={"national_dvc": {"adapter_url": "http://127.0.0.1:9", "timeout": 2.0},
                          "ministry_apps": {"folder": str(tmp_path / "no-ministry-adapters")}},
        # a Prometheus scraper on loopback, reading fresh gauges (tests/security/ checks the closed default)
        metrics_scrape_networks=["127.0.0.1/32"],
        metrics_refresh_seconds=0.0,
    )
    for code, fields in dict(overrides.pop("partner_settings", None) or {}).items():  # type: ignore[call-overload]
        values["partner_settings"] = with_fields(values["partner_settings"], code, fields)  # type: ignore[arg-type]
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(db_url: str, redis_server: RedisServer, tmp_path: Path) -> Settings:
    redis_server.flush()
    return make_settings(db_url, redis_server.url, tmp_path)


@dataclass
class Hub:
    """A migrated, seeded hub database and the sandbox partners' keys."""

    settings: Settings
    engine: Engine
    keys: dict[str, str] = field(default_factory=dict)
    tmp: Path = Path(".")
    processes: list[Process] = field(default_factory=list)

    def spawn(self, *argv: str, name: str, **env_overrides: str) -> Process:
        env = settings_env(self.settings)
        env.update(env_overrides)
        proc = Process(list(argv), env, self.tmp / f"{name}.log").start()
        self.processes.append(proc)
        return proc

    def worker(self, name: str = "worker") -> Process:
        return self.spawn("-m", "hub.cli", "worker", name=name)


_TEMPLATES: dict[str, str] = {}  # a database this process migrated once: SQLite, and per PostgreSQL cluster


def _sqlite_template() -> str:
    if "sqlite" not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="lt-template-"))
        atexit.register(shutil.rmtree, folder, True)
        upgrade(f"sqlite:///{folder / 'hub.db'}")
        if (folder / "hub.db-wal").exists():  # not checkpointed: a copy of the file alone would miss pages
            raise RuntimeError("the migrated SQLite template still has a write-ahead log")
        _TEMPLATES["sqlite"] = str(folder / "hub.db")
    return _TEMPLATES["sqlite"]


def migrate(url: str) -> None:
    """Bring a new, empty database to head, as ``upgrade(url)`` does, by copying one this process
    migrated once: a SQLite file copied, a PostgreSQL database made again from it as its TEMPLATE.
    Alembic takes 0.15-0.3 s a database (more on a loaded machine) and hundreds of tests seed one.
    A database that is not new and empty (tables, or someone connected) is upgraded as before."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not parsed.query:
        target = Path(parsed.database)
        if not target.exists():
            shutil.copyfile(_sqlite_template(), target)
            return
    elif parsed.get_backend_name() == "postgresql" and parsed.database:
        import psycopg

        server = f"postgresql://{parsed.username}@{parsed.host}:{parsed.port}"
        with psycopg.connect(f"{server}/{parsed.database}", autocommit=True) as conn:
            busy = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE n.nspname = 'public') OR EXISTS (SELECT 1 FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid())").fetchone()[0]  # type: ignore[index]
        if not busy:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                cluster = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0]  # type: ignore[index]
                template = _TEMPLATES.get(f"{server}/{cluster}")  # per cluster: a port may be another's later
                if template is None:
                    template = f"lt_template_{os.getpid()}"
                    conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
                    conn.execute(f'CREATE DATABASE "{template}"')
                    upgrade(parsed.set(database=template).render_as_string(hide_password=False))
                    _TEMPLATES[f"{server}/{cluster}"] = template
                try:
                    conn.execute(f'DROP DATABASE "{parsed.database}"')
                except psycopg.errors.ObjectInUse:  # someone connected after all: migrate it in place
                    pass
                else:
                    conn.execute(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{template}"')
                    return
    upgrade(url)


def seed_hub(settings: Settings, tmp: Path) -> Hub:
    migrate(settings.effective_database_url)
    engine = engine_for(settings)
    hub = Hub(settings, engine, tmp=tmp)
    for code, name, kind in PARTNERS:
        add_partner(engine, code, name, kind)
        hub.keys[code] = issue_key(engine, code, settings.effective_key_pepper, "test")
    return hub


@pytest.fixture
def hub(settings: Settings, tmp_path: Path) -> Iterator[Hub]:
    h = seed_hub(settings, tmp_path)
    yield h
    for p in h.processes:
        p.end()
    h.engine.dispose()


@pytest.fixture
def api(hub: Hub) -> Iterator[str]:
    server = ThreadedServer(create_app(hub.settings)).start()
    yield server.url
    server.stop()


@pytest.fixture
def motcua(api: str, hub: Hub) -> Iterator[httpx.Client]:
    with client(api, hub.keys["motcua"]) as c:
        yield c


@pytest.fixture
def ops(api: str, hub: Hub) -> Iterator[httpx.Client]:
    with client(api, hub.keys["ops"]) as c:
        yield c


@pytest.fixture(scope="session")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The national portal simulator, started once for the session (a process: seconds to start)."""
    p = Portal(tmp_path_factory.mktemp("portal")).start()
    yield p
    p.process.end()


@pytest.fixture
def portal(portal_server: Portal) -> Portal:
    """The national portal simulator, reset (dossiers, sessions, faults, counters) for this test."""
    httpx.post(f"{portal_server.url}/_sim/reset", timeout=5).raise_for_status()
    return portal_server


@pytest.fixture
def nginx() -> Iterator[Callable[..., NginxServer]]:
    """Starts a private nginx in front of an upstream URL: ``nginx(upstream, style)``; all stopped after the test."""
    started: list[NginxServer] = []

    def start(upstream: str, style: str, bind: str = "127.0.0.1") -> NginxServer:
        server = NginxServer(upstream, style, bind)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def vnpost_server(request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    """VNPost's simulator for one test module, with that module's ``SECRET`` and ``CUSTOMER``; time
    moves only with ``POST /_sim/advance``. :func:`tests.support.reset` it per test."""
    from connectors.postal_vnpost.simulator import create_app as vnpost_app

    module = request.module
    with ThreadedServer(vnpost_app("lienthong", module.SECRET, module.CUSTOMER, token_ttl=3600, speed=0)).start() as server:
        yield server


@pytest.fixture(scope="session")
def population_sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PopulationSim]:
    """The population database simulator, started once for the session."""
    sim = PopulationSim(tmp_path_factory.mktemp("population-sim")).start()
    yield sim
    sim.stop()


@pytest.fixture
def population_sim(population_sim_server: PopulationSim) -> PopulationSim:
    """The population database simulator, reset (tokens, faults, counters) for this test."""
    population_sim_server.reset()
    return population_sim_server
