"""Rules: refused credentials are charged to the client address, and past a threshold the address
gets 429 for a while, recorded; /metrics needs an operator credential or a scrape allowlist and does
not read the database on every scrape; /healthz answers from a reading at most a second old."""

from __future__ import annotations

import time
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import event, select

from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub
from tests.support import ThreadedServer, wait_until


@pytest.fixture
def strict(hub: Hub) -> Iterator[tuple[str, Any]]:
    app = create_app(hub.settings.model_copy(update={"unauthenticated_quota": 5, "unauthenticated_block_seconds": 30,
                                                     "metrics_scrape_networks": [], "metrics_refresh_seconds": 60.0}))
    with ThreadedServer(app).start() as server:
        yield server.url, app


def from_address(base: str, address: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers=headers, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def outcomes(hub: Hub, ip: str) -> list[str]:
    with reading(hub.engine) as conn:
        return [r.outcome for r in conn.execute(select(access_records.c.outcome).where(access_records.c.client_ip == ip)
                                                .order_by(access_records.c.id))]


def test_spraying_unknown_keys_gets_the_address_blocked_even_for_a_valid_key(strict: tuple[str, Any], hub: Hub) -> None:
    base, _ = strict
    with from_address(base, "127.0.0.21") as sprayer:
        guesses = [sprayer.get("/v1/messages/m-1", headers={"Authorization": f"ApiKey lt_live_guess{i}"}).status_code
                   for i in range(8)]
        assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}, guesses
        blocked = sprayer.get("/v1/messages/m-1", headers={"Authorization": f"ApiKey {hub.keys['motcua']}"})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert blocked.json()["type"] == "/problems/rate-limited"
    with from_address(base, "127.0.0.22", Authorization=f"ApiKey {hub.keys['motcua']}") as neighbour:
        assert neighbour.get("/v1/messages/m-1").status_code == 404, "another address is not blocked"
    wait_until(lambda: any(o.startswith("blocked:") for o in outcomes(hub, "127.0.0.21")), 5, what="the block recorded")


def test_bad_session_tokens_are_charged_like_bad_keys(strict: tuple[str, Any]) -> None:
    base, _ = strict
    with from_address(base, "127.0.0.23") as guesser:
        statuses = [guesser.get("/v1/admin/partners", headers={"Authorization": f"Bearer lt_sess_{i}"}).status_code
                    for i in range(7)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses


def test_metrics_need_an_operator_credential_without_a_scrape_allowlist(strict: tuple[str, Any], hub: Hub,
                                                                         api: str) -> None:
    base, _ = strict
    assert httpx.get(f"{base}/metrics").status_code == 401
    assert httpx.get(f"{base}/metrics", headers={"Authorization": f"ApiKey {hub.keys['motcua']}"}).status_code == 403
    ops = httpx.get(f"{base}/metrics", headers={"Authorization": f"ApiKey {hub.keys['ops']}"})
    assert ops.status_code == 200 and "lienthong_intake_messages_total" in ops.text


def test_a_scrape_allowlist_admits_only_its_networks(hub: Hub) -> None:
    app = create_app(hub.settings.model_copy(update={"metrics_scrape_networks": ["127.0.0.31/32"]}))
    with ThreadedServer(app).start() as server:
        with from_address(server.url, "127.0.0.31") as scraper:
            assert scraper.get("/metrics").status_code == 200
        with from_address(server.url, "127.0.0.32") as stranger:
            assert stranger.get("/metrics").status_code == 401


def statements(app: Any, needle: str) -> list[str]:
    seen: list[str] = []

    @event.listens_for(app.state.engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if needle in statement:
            seen.append(statement)
    return seen


def test_scraping_metrics_in_a_loop_does_not_read_the_database_each_time(strict: tuple[str, Any], hub: Hub) -> None:
    base, app = strict
    seen = statements(app, "deliveries")
    with httpx.Client(base_url=base, headers={"Authorization": f"ApiKey {hub.keys['ops']}"}) as scraper:
        for _ in range(20):
            assert scraper.get("/metrics").status_code == 200
    refreshes = len([s for s in seen if "count" in s.lower()])
    assert 1 <= refreshes <= 3, f"{refreshes} gauge reads for 20 scrapes (at most one per refresh interval)"


def test_healthz_answers_from_a_reading_at_most_a_second_old(strict: tuple[str, Any]) -> None:
    base, app = strict
    seen = statements(app, "SELECT 1")
    started = time.monotonic()
    with httpx.Client(base_url=base) as prober:
        answers = [prober.get("/healthz") for _ in range(40)]
    elapsed = time.monotonic() - started
    assert all(a.status_code == 200 and a.json()["database"] == "ok" for a in answers)
    assert 1 <= len(seen) <= int(elapsed) + 2, f"{len(seen)} probes of the database in {elapsed:.1f} s for 40 calls"
