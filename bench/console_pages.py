"""The console's pages on a real store (issue 15): the server time of every console page, with a
million messages and five million access records in PostgreSQL.

A private PostgreSQL (``tests.support.PostgresServer``) and Redis are started, the database is
migrated and filled by ``bench/console_data.py`` (BENCH_CONSOLE_MESSAGES, default 1,000,000;
BENCH_CONSOLE_RECORDS, default 5,000,000; a quick run: 50000 and 250000), and the hub is served as
in production (``uvicorn hub.edge.app:create_app``, one process, its own intake writer process).
One account per role signs in through the console's form (the pre-session CSRF cookie and field,
``POST /console/login``, then the session's CSRF meta tag), then every console page is requested
with realistic parameters, round after round (one warm-up round not counted, then
BENCH_CONSOLE_REPEATS rounds, default 15), one request at a time.

Server time is the request's own access record: ``access_records.latency_us``, which the hub
measures from the moment the request reaches the application to the moment its last byte is
handed to the server (``hub/edge/fast_path.py``); each request is tagged with ``X-Request-Id`` and
its record read back once the access log has flushed. The client's time on loopback is printed
beside it. Target: every page under 200 ms (median and p95).

``python -m bench.console_pages`` runs it alone; ``make bench`` (bench/run.py) runs it with the
rest. Everything is on loopback, the temporary folders (PostgreSQL's cluster, Redis, keys) are
removed at the end.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, func, select, text

from bench.common import serve
from bench.console_data import PASSWORD, Seeded, seed
from hub.config import Settings
from hub.console.i18n import ZONE
from hub.runtime import engine_for
from hub.store.migrate import upgrade
from hub.store.tables import access_records
from tests.support import PostgresServer, RedisServer, free_port, settings_env, wait_until

MESSAGES = int(os.environ.get("BENCH_CONSOLE_MESSAGES", "1000000"))
RECORDS = int(os.environ.get("BENCH_CONSOLE_RECORDS", "5000000"))
REPEATS = int(os.environ.get("BENCH_CONSOLE_REPEATS", "15"))
TARGET_MS = 200.0
SIGN_IN = {"operator": "vanhanh", "auditor": "kiemtra", "admin": "quantri"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next"')
TAG = "bench-console"


@dataclass(frozen=True)
class Page:
    """One console request: a name for the report, the role that opens it, and what to send."""

    name: str
    role: str  # operator | auditor | admin | anonymous
    path: str
    form: dict[str, str] | None = None  # a POST of the console's form (the session's CSRF token added)


@dataclass
class Store:
    """The running parts: PostgreSQL and Redis, the hub's settings, the seeded data."""

    pg: PostgresServer
    redis: RedisServer
    settings: Settings
    engine: Engine
    seeded: Seeded
    tmp: Path
    seconds: float = 0.0


def local(at: datetime) -> str:
    """A moment as a ``datetime-local`` field holds it (Vietnam time)."""
    return at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def prepare(tmp: Path, messages: int = MESSAGES, records: int = RECORDS,
            say: Callable[[str], None] = print) -> Store:
    """Start PostgreSQL and Redis, migrate, seed; the caller removes them (:func:`remove`)."""
    pg, redis = PostgresServer(), RedisServer(fsync="everysec")
    pg.start()
    redis.start()
    try:
        url = pg.create_database("hub")
        settings = Settings(database_url=url, redis_url=redis.url, var_dir=tmp / "var", keys_dir=tmp / "keys",
                            key_pepper="bench-pepper",
                            # the limiter runs on every page as deployed, with quotas that never refuse the bench
                            rate_limits_default="per-second=100000/1,daily=100000000/86400")
        upgrade(url)
        engine = engine_for(settings)
        say(f"seeding {messages:,} messages and {records:,} access records into PostgreSQL")
        started = time.perf_counter()
        seeded = seed(engine, settings, messages, records, say=say)
        return Store(pg, redis, settings, engine, seeded, tmp, time.perf_counter() - started)
    except BaseException:
        pg.remove()
        redis.remove()
        raise


def remove(store: Store) -> None:
    store.engine.dispose()
    store.pg.remove()
    store.redis.remove()


def _one(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def pages(store: Store) -> list[Page]:
    """Every console GET page (and the citizen-ID search) with the parameters people give them,
    taken from the seeded data (one cheap query each, before the server starts)."""
    e, s = store.engine, store.seeded
    now = s.now
    dead = [int(i) for i in _column(e, "SELECT id FROM deliveries WHERE state = 'dead' ORDER BY id DESC LIMIT 20")]
    exhausted = _one(e, "SELECT max(id) FROM deliveries WHERE state = 'dead' AND attempts = 8")
    top = _one(e, "SELECT max(id) FROM messages")
    dossier = _one(e, "SELECT dossier_code FROM messages WHERE id = :id", id=max(1, top - top // 50))
    lookup = _one(e, "SELECT max(id) FROM access_records WHERE id > :low AND kind = 'lookup'", low=s.records - 1000)
    index = _one(e, "SELECT citizen_index FROM access_records WHERE id = :id", id=lookup)
    citizen = {store_index: c for c, store_index in zip(s.citizens, _indexes(store))}[index]
    old = max(1, s.records // 3)
    request_id = _one(e, "SELECT request_id FROM access_records WHERE id = :id", id=old)
    caller = _one(e, "SELECT caller_request_id FROM access_records WHERE id > :id AND caller_request_id LIKE 'mc-%' "
                     "ORDER BY id LIMIT 1", id=old)
    so_tp_key = s.key_ids["so_tp"][0]
    day = now - timedelta(days=30)
    day_from, day_to = local(day.replace(hour=1, minute=0)), local(day.replace(hour=10, minute=0))
    month_from, month_to = local(now - timedelta(days=30)), local(now)
    week_from, week_to = local(now - timedelta(days=183)), local(now - timedelta(days=176))  # half a year ago
    ops, aud, adm = "operator", "auditor", "admin"
    replay_since = (now - timedelta(minutes=10)).isoformat()
    return [
        Page("login (form)", "anonymous", "/console/login"),
        Page("overview", ops, "/console/overview"),
        Page("overview, 24 h", ops, "/console/overview?hours=24"),
        Page("overview/live", ops, "/console/overview/live"),
        Page("overview/chart", ops, "/console/overview/chart"),
        Page("overview/chart, 24 h", ops, "/console/overview/chart?hours=24"),
        Page("dead letters", ops, "/console/dead-letters"),
        Page("dead letters, by destination", ops, "/console/dead-letters?destination=motcua"),
        Page("dead letters, by type", ops, "/console/dead-letters?type=status.changed"),
        Page("dead letters, by reason", ops, "/console/dead-letters?reason=MaLoi"),
        Page("dead letters, last 30 days", ops, "/console/dead-letters?" + urlencode({"from": month_from, "to": month_to})),
        Page("dead letters, page 2", ops, "next:/console/dead-letters"),
        Page("dead letter detail", ops, f"/console/dead-letters/{exhausted}"),
        Page("replays, by ids", ops, "/console/replays?ids=" + ",".join(str(i) for i in sorted(dead))),
        Page("replays, by destination", ops, "/console/replays?" + urlencode({"destination": "national_dvc",
                                                                              "since": replay_since})),
        Page("trace (form)", ops, "/console/trace"),
        Page("trace of a dossier", ops, "/console/trace?" + urlencode({"code": dossier})),
        Page("messages", ops, "/console/messages"),
        Page("messages, by type", ops, "/console/messages?type=result.issued"),
        Page("messages, by rare type", ops, "/console/messages?type=postal.returned"),
        Page("messages, by source", ops, "/console/messages?source=national_payment"),
        Page("messages, by dossier", ops, "/console/messages?" + urlencode({"code": dossier})),
        Page("messages, one morning", ops, "/console/messages?" + urlencode({"from": day_from, "to": day_to})),
        Page("messages, a week half a year ago", ops, "/console/messages?" + urlencode({"from": week_from, "to": week_to})),
        Page("messages, page 2", ops, "next:/console/messages"),
        Page("messages, by source, page 2", ops, "next:/console/messages?source=national_payment"),
        Page("records", aud, "/console/audit/records"),
        Page("records, by partner", aud, "/console/audit/records?partner=so_yte"),
        Page("records, by key", aud, f"/console/audit/records?key_id={so_tp_key}"),
        Page("records, by account", aud, f"/console/audit/records?account={s.officers[7]}"),
        Page("records, by ip", aud, "/console/audit/records?ip=10.20.3.25"),
        Page("records, by outcome", aud, "/console/audit/records?outcome=rate_limited"),
        Page("records, by status", aud, "/console/audit/records?status=403"),
        Page("records, by kind", aud, "/console/audit/records?kind=decrypt"),
        Page("records, by request id", aud, f"/console/audit/records?request_id={request_id}"),
        Page("records, by caller's request id", aud, f"/console/audit/records?request_id={caller}"),
        Page("records, by route", aud, "/console/audit/records?" + urlencode({"route": "/v1/audit/records"})),
        Page("records, one morning", aud, "/console/audit/records?" + urlencode({"since": day_from, "until": day_to})),
        Page("records, a week half a year ago", aud,
             "/console/audit/records?" + urlencode({"since": week_from, "until": week_to})),
        Page("records, next page", aud, "next:/console/audit/records"),
        Page("records, by citizen ID (POST)", aud, "/console/audit/records", {"citizen_id": citizen}),
        Page("record detail", aud, f"/console/audit/records/{lookup}"),
        Page("alerts", aud, "/console/audit/alerts"),
        Page("alerts, open", aud, "/console/audit/alerts?state=open"),
        Page("alerts, by rule", aud, "/console/audit/alerts?rule=auth_failures_ip"),
        Page("chain", aud, "/console/audit/chain"),
        Page("admin: partners", adm, "/console/admin/partners"),
        Page("admin: partner", adm, "/console/admin/partners/motcua"),
        Page("admin: limits", adm, "/console/admin/limits"),
        Page("admin: officers", adm, "/console/admin/officers"),
        Page("admin: officers, by partner", adm, "/console/admin/officers?partner=so_tp"),
        Page("admin: officers, disabled", adm, "/console/admin/officers?state=disabled"),
        Page("admin: officers, page 2", adm, "next:/console/admin/officers"),
        Page("admin: accounts", adm, "/console/admin/accounts"),
        Page("admin: review", adm, "/console/admin/review"),
        Page("admin: credentials", adm, "/console/admin/credentials"),
    ]


def _column(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)).scalars())


def _indexes(store: Store) -> list[str]:
    from hub.audit.crypto import CitizenData

    citizen = CitizenData(store.settings)
    return [citizen.blind_index(c) for c in store.seeded.citizens]


class Person(httpx.Client):
    """A signed-in browser-like client (cookies kept, redirects not followed) and its CSRF token."""

    csrf: str = ""


def sign_in(url: str, role: str) -> Person:
    """Sign ``role``'s account in through the console's form, as a browser does."""
    c = Person(base_url=url, timeout=120, follow_redirects=False)
    if role == "anonymous":
        return c
    form = c.get("/console/login")
    token = CSRF_FIELD.search(form.text)
    assert form.status_code == 200 and token, form.text[:500]
    answer = c.post("/console/login", data={"username": SIGN_IN[role], "password": PASSWORD,
                                            "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text[:500]
    home = c.get(answer.headers["location"])
    found = CSRF_META.search(home.text)
    assert home.status_code == 200 and found, home.text[:500]
    c.csrf = found.group(1)
    return c


def send(person: Person, page: Page, tag: str) -> httpx.Response:
    headers = {"X-Request-Id": tag}
    if page.form is not None:
        return person.post(page.path, data={**page.form, "csrf_token": person.csrf}, headers=headers)
    return person.get(page.path, headers=headers)


def resolve(people: dict[str, Person], listed: list[Page], say: Callable[[str], None] = print) -> list[Page]:
    """``next:<url>`` pages become the URL of that page's own "next page" link (left out, said, when
    the data is too small to have a second page)."""
    out = []
    for p in listed:
        if p.path.startswith("next:"):
            first = people[p.role].get(p.path[5:])
            assert first.status_code == 200, f"{p.name}: {p.path[5:]} answered {first.status_code}"
            found = NEXT_LINK.search(first.text)
            if found is None:
                say(f"  {p.name}: {p.path[5:]} has a single page with this data; left out")
                continue
            p = Page(p.name, p.role, html.unescape(found.group(1)), p.form)
        out.append(p)
    return out


@dataclass
class Figures:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    url: str = ""


def p95(values: list[float]) -> float:
    """The 95th percentile, interpolated between the nearest ranks (of 15 values: between the two largest)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(store: Store, repeats: int = REPEATS, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Serve the hub, sign in, request every page ``repeats`` times (after one warm-up round); per page
    the median and p95 of the server time (and of the client's), and the statuses answered."""
    port = free_port()
    env = settings_env(store.settings)
    server = serve("hub.edge.app:create_app", port, env, store.tmp / "console-api.log", factory=True)
    people: dict[str, Person] = {}
    figures: dict[str, Figures] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        people = {role: sign_in(url, role) for role in ("anonymous", *SIGN_IN)}
        listed = resolve(people, pages(store), say)
        with store.engine.connect() as conn:
            start = conn.execute(select(func.max(access_records.c.id))).scalar() or 0
        tags: dict[str, str] = {}
        for round_ in range(repeats + 1):  # round 0 warms up (templates compiled, caches filled); not counted
            for i, page in enumerate(listed):
                tag = f"{TAG}-{round_}-{i}"
                began = time.perf_counter()
                answer = send(people[page.role], page, tag)
                elapsed = (time.perf_counter() - began) * 1000
                f = figures.setdefault(page.name, Figures(url=page.path))
                if round_:
                    tags[tag] = page.name
                    f.client_ms.append(elapsed)
                    f.statuses.add(answer.status_code)
            say(f"  round {round_}/{repeats} done" if round_ else "  warm-up round done")
    finally:
        for p in people.values():
            p.close()
        server.stop()  # its shutdown writes the last access records

    def recorded() -> list[Any]:
        with store.engine.connect() as conn:
            found = conn.execute(select(access_records.c.caller_request_id, access_records.c.latency_us)
                                 .where(access_records.c.id > start,
                                        access_records.c.caller_request_id.like(f"{TAG}-%"))).all()
        return list(found) if len(found) >= len(tags) else []

    for tag, latency_us in wait_until(recorded, 120, 0.5, what="the bench's access records"):
        if tag in tags:
            figures[tags[tag]].server_ms.append(latency_us / 1000)
    return {name: {"median_ms": statistics.median(f.server_ms), "p95_ms": p95(f.server_ms),
                   "client_median_ms": statistics.median(f.client_ms), "client_p95_ms": p95(f.client_ms),
                   "statuses": sorted(f.statuses), "url": f.url}
            for name, f in figures.items()}


def bench_console_pages(tmp: Path, messages: int = MESSAGES, records: int = RECORDS,
                        repeats: int = REPEATS) -> dict[str, Any]:
    """Seed, measure, remove; the figures per page."""
    (tmp / "console").mkdir(parents=True, exist_ok=True)
    store = prepare(tmp / "console", messages, records)
    try:
        found = measure(store, repeats)
        with store.engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    finally:
        remove(store)
    return {"messages": messages, "records": records, "repeats": repeats, "seed_seconds": store.seconds,
            "database_bytes": size, "pages": found}


def report(result: dict[str, Any]) -> None:
    print(f"\nconsole pages on PostgreSQL: {result['messages']:,} messages, {result['records']:,} access records "
          f"({result['database_bytes'] / 2**30:.1f} GiB, seeded in {result['seed_seconds']:.0f} s); "
          f"{result['repeats']} requests per page after a warm-up;")
    print("server time = the request's access record (latency_us); client = httpx on loopback")
    print(f"  {'page':38} {'median ms':>10} {'p95 ms':>8} {'client ms':>10} {'status':>7}")
    slow = []
    for name, f in result["pages"].items():
        statuses = ",".join(str(s) for s in f["statuses"])
        flag = " *" if f["p95_ms"] >= TARGET_MS or f["median_ms"] >= TARGET_MS else ""
        print(f"  {name:38} {f['median_ms']:10.1f} {f['p95_ms']:8.1f} {f['client_median_ms']:10.1f} {statuses:>7}{flag}")
        if flag:
            slow.append(name)
    print(f"  pages at or over {TARGET_MS:.0f} ms (median or p95): {', '.join(slow) if slow else 'none'}")
    bad = [n for n, f in result["pages"].items() if f["statuses"] != [200]]
    if bad:
        print(f"  pages that did not answer 200 every time: {', '.join(bad)}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-console-"))
    try:
        result = bench_console_pages(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(result)
    if "--json" in sys.argv:
        import json

        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
