"""Real parts for the tests: Redis and PostgreSQL servers, the hub's processes, loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import httpx
import uvicorn

from hub.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Any, timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_port(port: int, timeout: float = 20.0) -> None:
    def open_() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_until(open_, timeout, what=f"port {port}")


class RedisServer:
    """A private redis-server on a free loopback port, with AOF, that tests may stop and restart.

    ``fsync``: the AOF's ``appendfsync``. Tests use ``always`` (nothing acknowledged is lost when
    they stop Redis); the bench uses ``everysec``, Redis' default and the deployment setting.
    """

    def __init__(self, fsync: str = "always") -> None:
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="lt-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--appendonly", "yes",
             "--appendfsync", self.fsync, "--save", "", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def remove(self) -> None:
        """Stop the server and delete its folder (:meth:`stop` keeps it, to start again)."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushall()


# What each style of reverse proxy adds to the request, as nginx writes it (checked with an echo
# server; nginx 1.22). "merged": the client's X-Forwarded-For lines and the peer in ONE line, the way
# $proxy_add_x_forwarded_for does it. "appended": the client's line(s) passed on first (nginx joins
# several into one), then the proxy's own separate line after them: two proxy_set_header directives
# for one name send two lines, in order, as a proxy that adds a header line (HAProxy's forwardfor)
# does. "forwarded": RFC 7239, the proxy's element appended to the client's in one line. Scheme and
# host are set the same way as the address in each style.
NGINX_STYLES = {
    "merged": """
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;""",
    "appended": """
        proxy_set_header X-Forwarded-For $http_x_forwarded_for;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_x_forwarded_host;
        proxy_set_header X-Forwarded-Host $http_host;""",
    "forwarded": """
        proxy_set_header Forwarded $lt_forwarded;""",
}


class NginxServer:
    """A private nginx (the Debian package) on a free loopback port, everything under a temp dir,
    reverse-proxying to ``upstream`` in one of :data:`NGINX_STYLES`; it connects out from
    ``bind`` (``proxy_bind``) so the hub sees it as that peer."""

    def __init__(self, upstream: str, style: str, bind: str = "127.0.0.1") -> None:
        self.upstream, self.style, self.bind = upstream, style, bind
        self.dir = Path(tempfile.mkdtemp(prefix="lt-nginx-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        d = self.dir
        user = "user root;" if os.geteuid() == 0 else ""  # as root the workers would switch to nobody
        return f"""
{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    proxy_headers_hash_bucket_size 128;
    map $http_forwarded $lt_forwarded {{
        ""      "for=$remote_addr;proto=$scheme;host=\\"$http_host\\"";
        default "$http_forwarded, for=$remote_addr;proto=$scheme;host=\\"$http_host\\"";
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass {self.upstream};
            proxy_bind {self.bind};
            proxy_http_version 1.1;{NGINX_STYLES[self.style]}
        }}
    }}
}}
"""

    def start(self) -> "NginxServer":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        (self.dir / "nginx.conf").write_text(self.config())
        with open(self.dir / "stderr.log", "wb") as err:  # -e: where errors go before the config is read
            self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                                          "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"],
                                         stdout=subprocess.DEVNULL, stderr=err)
        try:
            wait_port(self.port, 10)
        except AssertionError:
            self.stop()
            raise AssertionError(f"nginx did not start: {self.log()}") from None
        return self

    def log(self) -> str:
        """What nginx said on stderr and in its error log."""
        return "".join(p.read_text(errors="replace") for p in (self.dir / "stderr.log", self.dir / "error.log") if p.exists())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "NginxServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb) on a free loopback port; runs as 'postgres' under root."""

    def __init__(self) -> None:
        self.bindir = self._bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="lt-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    @staticmethod
    def _bindir() -> Path:
        found = shutil.which("pg_ctl")
        if found:
            return Path(os.path.realpath(found)).parent
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not versions:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        return versions[-1]

    def _run(self, *argv: str) -> None:
        cmd = list(argv)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self.restart()

    def restart(self) -> None:
        """Start the cluster (again, after :meth:`stop`: same data, same port)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "log"), "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start")

    def stop(self) -> None:
        """Stop the cluster, keeping its data (:meth:`restart` brings it back)."""
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass

    def remove(self) -> None:
        """Stop the cluster and delete its files: a cluster left behind costs its disk to every later run."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.remove()

    def drop_database(self, name: str) -> None:
        """Drop ``name`` even if a test left connections open to it."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def reset(server: "ThreadedServer") -> str:
    """Reset a simulator (its ``POST /_sim/reset``: state, faults, counters); its URL."""
    httpx.post(f"{server.url}/_sim/reset").raise_for_status()
    return server.url


def with_fields(partners: dict[str, dict[str, Any]], code: str, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``partners`` (a ``partner_settings`` value) with partner ``code``'s ``fields`` set over its own."""
    return {**partners, code: {**partners.get(code, {}), **fields}}


def with_partner(settings: Settings, code: str, **fields: Any) -> Settings:
    """A copy of ``settings`` whose partner ``code`` has ``fields`` set (``hub/context.py`` reads them)."""
    return settings.model_copy(update={"partner_settings": with_fields(settings.partner_settings, code, fields)})


def partner_ctx(settings: Settings, code: str) -> Any:
    """Partner ``code``'s context (``hub.seam.Context``) under ``settings``."""
    from hub.context import context

    return context(code, settings)


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that reproduce ``settings`` in a child process."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        env[f"LIENTHONG_{name.upper()}"] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    env["PYTHONPATH"] = str(ROOT)
    return env


class Process:
    """A hub process (``python -m hub.cli ...`` or a simulator module) that tests can kill."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Process":
        self._fh = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable] + self.argv, env=self.env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     cwd=ROOT, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, as a crash or the OOM killer would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if hasattr(self, "_fh"):
            self._fh.close()

    def end(self) -> None:
        """The cleanup after a test: SIGKILL, and the log closed. Nothing the test checks depends on a
        graceful stop any more (tests stop processes with :meth:`stop` when they do), and a hub
        process's graceful exit takes ~0.5 s, most of it collecting its heap."""
        self.kill()
        if hasattr(self, "_fh"):
            self._fh.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _end_writer_promptly(app: Any) -> None:
    """The hub app's shutdown, without waiting for its idle intake writer to notice it is done.

    The app's intake writer is a child process (``hub/edge/writers.py``) that exits on EOF, but it
    reads its socket only once it has imported the hub (about a second; several on a loaded
    machine) and then takes a while to exit: a test's app often stops sooner than that, and every
    teardown waited for it. When the app closes the writer, the access log has already written its
    last records and every group sent has been answered, so the child holds nothing to write: it is
    sent SIGTERM, then awaited as before. With a group still unanswered it is left to finish it."""
    from hub.edge.writers import ProcessWriter

    writer = getattr(getattr(getattr(app, "state", None), "committer", None), "writer", None)
    if not isinstance(writer, ProcessWriter):
        return
    close = writer.aclose

    async def aclose() -> None:
        proc = writer._proc
        if proc is not None and proc.poll() is None and not writer._replies:
            proc.terminate()
        await close()

    writer.aclose = aclose  # type: ignore[method-assign]


class _Server(uvicorn.Server):
    """uvicorn's server (0.54), stopping without its fixed pauses: :meth:`wake` interrupts the main
    loop, which notices ``should_exit`` at once instead of at its next 0.1 s tick (the ticks, the Date
    header and the exit checks, are unchanged), and :meth:`shutdown` goes on as soon as the open
    connections have closed instead of after 0.1 s. A test's app starts and stops hundreds of times."""

    _loop: asyncio.AbstractEventLoop | None = None
    _woken: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(self._woken.wait(), 0.1)
            except asyncio.TimeoutError:
                pass
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's ``Server.shutdown``, but for the pause after asking the connections to close:
        at most its 0.1 s, and over once none is left."""
        if not hasattr(uvicorn.Server, "_wait_tasks_to_complete"):  # another uvicorn than this was written for
            return await super().shutdown(sockets)
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + 0.1
        while self.server_state.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        try:
            await asyncio.wait_for(self._wait_tasks_to_complete(), timeout=self.config.timeout_graceful_shutdown)
        except asyncio.TimeoutError:
            logging.getLogger("uvicorn.error").error("Cancel %s running task(s), timeout graceful shutdown exceeded",
                                                     len(self.server_state.tasks))
            for t in self.server_state.tasks:
                t.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    def wake(self) -> None:
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            try:
                loop.call_soon_threadsafe(woken.set)
            except RuntimeError:  # the loop has closed: the server is gone already
                pass


class ThreadedServer:
    """An ASGI app served by uvicorn on a free loopback port in a background thread: real HTTP."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = _Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                             proxy_headers=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        _end_writer_promptly(app)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ThreadedServer":
        self.thread.start()
        wait_until(lambda: self.server.started, 20, 0.005, what="uvicorn start")
        return self

    def __enter__(self) -> "ThreadedServer":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.should_exit = True
        self.server.wake()
        self.thread.join(10)


def client(base_url: str, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"ApiKey {key}"} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


class Portal:
    """The national portal simulator, a real HTTP server in its own process."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = Process(["-m", "hub.cli", "simulator", "national-dvc", "--port", str(self.port)],
                               settings_env(Settings()), tmp / "portal.log")

    def start(self) -> "Portal":
        self.process.start()
        wait_until(self._up, 20, what="portal simulator")
        return self

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/_sim/state", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def state(self) -> dict:
        return httpx.get(f"{self.url}/_sim/state", timeout=5).json()

    def dossier(self, code: str) -> dict | None:
        r = httpx.get(f"{self.url}/_sim/dossiers/{code}", timeout=5)
        return r.json() if r.status_code == 200 else None

    def faults(self, **faults: object) -> None:
        httpx.post(f"{self.url}/_sim/faults", json=faults, timeout=5).raise_for_status()


def access_record(engine: Any, caller_request_id: str, timeout: float = 10) -> Any:
    """The one access record of the request the caller tagged ``X-Request-Id: caller_request_id``."""
    from sqlalchemy import select

    from hub.store.engine import reading
    from hub.store.tables import access_records

    def found() -> list[Any]:
        with reading(engine) as conn:
            return list(conn.execute(select(access_records)
                                     .where(access_records.c.caller_request_id == caller_request_id)).all())
    [row] = wait_until(found, timeout, what=f"the access record of {caller_request_id}")
    return row


def store_messages(url: str, messages: "Sequence[dict[str, Any]]", destinations: "Sequence[str]" = ("national_dvc",)) -> None:
    """Accept canonical ``messages`` into the migrated database at ``url`` as the intake would (validated,
    one delivery each to ``destinations``), without a running hub: tests of what is derived from them."""
    from sqlalchemy import create_engine

    from hub.messages.models import MESSAGE_ADAPTER
    from hub.store.intake import Prepared, accept

    engine = create_engine(url)
    try:
        items = []
        for raw in messages:
            msg = MESSAGE_ADAPTER.validate_python(raw)
            items.append(Prepared.of(msg, msg.model_dump(mode="json"), list(destinations)))
        accept(engine, items)
    finally:
        engine.dispose()
