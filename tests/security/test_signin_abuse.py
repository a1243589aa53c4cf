"""Sign-in abuse, as the attacks: failing on purpose to keep an admin out, guessing from one address
or from many, spraying user names, flooding Argon2. Against the real app over loopback with real
Redis; each attacker and each victim gets its own loopback source address (127.0.0.x) and no proxy is
trusted, so the socket peer is the client address."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.access.accounts import add_account
from hub.access.signin import ArgonSlots, Busy
from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub
from tests.support import ThreadedServer, wait_until

PASSWORD = "correct horse battery"
# Every Argon2 check costs 64 MiB and ~0.15 s of a core (more on a busy machine): the tests below lower
# the thresholds to need few of them, and only the first one runs on both databases (the store's part
# in sign-in is one account look-up).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def people(hub: Hub) -> Hub:
    for name, role in (("admin", "admin"), ("olga", "operator"), ("audrey", "auditor")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    return hub


@contextmanager
def served(hub: Hub, **settings: Any) -> Iterator[tuple[str, Any]]:
    """The app with these settings over loopback: ``(base URL, app)``."""
    app = create_app(hub.settings.model_copy(update={"trusted_proxies": [], **settings}))
    with ThreadedServer(app).start() as server:
        yield server.url, app


def sign_in(base: str, source: str, username: str, password: str = PASSWORD) -> httpx.Response:
    """One sign-in from loopback address ``source``."""
    with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=source), timeout=60) as c:
        return c.post("/v1/auth/login", json={"username": username, "password": password})


def outcomes(hub: Hub, client_ip: str | None = None) -> list[str]:
    query = select(access_records.c.outcome).order_by(access_records.c.id)
    if client_ip is not None:
        query = query.where(access_records.c.client_ip == client_ip)
    with reading(hub.engine) as conn:
        return [o for o in conn.execute(query).scalars() if o.startswith("login")]


def assert_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/sign-in-limited"
    assert int(r.headers["retry-after"]) >= 1


def test_fifty_failures_from_one_address_do_not_keep_the_admin_out_from_another(people: Hub, api: str) -> None:
    attacker, admin = "127.0.0.2", "127.0.0.3"
    answers = [sign_in(api, attacker, "admin", "wrong-password-guess") for _ in range(50)]
    pair_failures = people.settings.signin_pair_failures
    assert [r.status_code for r in answers[:pair_failures]] == [401] * pair_failures
    for r in answers[pair_failures:]:
        assert_limited(r)
    assert_limited(sign_in(api, attacker, "admin"))  # the pair is blocked, even with the right password
    r = sign_in(api, admin, "admin")
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "admin"
    wait_until(lambda: len(outcomes(people)) == 52, 5, what="access records")
    assert outcomes(people, attacker) == (["login_failed:bad_password"] * pair_failures
                                          + ["login_failed:rate_limited_pair"] * (51 - pair_failures))
    assert outcomes(people, admin) == ["login"]


@sqlite_only
def test_an_attack_from_many_addresses_only_slows_the_admin_and_never_shuts_them_out(people: Hub) -> None:
    with served(people, signin_pair_failures=3, signin_account_slow_after=2, signin_account_delay_max_seconds=0.6,
                signin_busy_wait_seconds=60.0) as (base, app):
        def attack(source: str) -> list[int]:
            return [sign_in(base, source, "admin", "wrong-password-guess").status_code for _ in range(4)]

        with ThreadPoolExecutor(4) as pool:  # 4 addresses, each up to its pair's limit: 12 failures on one account
            codes = [c for got in pool.map(attack, [f"127.0.0.{10 + i}" for i in range(4)]) for c in got]
        assert codes == [401, 401, 401, 429] * 4
        started = time.monotonic()
        r = sign_in(base, "127.0.0.30", "admin")
        took = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert took >= 0.55  # slowed: the account's cross-address count delays the check (capped at 0.6 s) ...
    assert took < 5  # ... and nothing more


@sqlite_only
def test_an_address_that_fails_on_several_accounts_is_blocked_for_every_account(people: Hub) -> None:
    attacker, victim = "127.0.0.4", "127.0.0.5"
    with served(people, signin_pair_failures=3, signin_address_failures=5) as (base, app):
        first = [sign_in(base, attacker, "admin", "guess-1234567").status_code for _ in range(3)]
        assert_limited(sign_in(base, attacker, "admin", "guess-1234567"))  # that pair is done
        second = [sign_in(base, attacker, "olga", "guess-1234567").status_code for _ in range(2)]  # 5 failures in all
        blocked = sign_in(base, attacker, "audrey")  # a fresh account, the right password: still this address
        elsewhere = sign_in(base, victim, "audrey")
    assert first == [401] * 3 and second == [401] * 2
    assert_limited(blocked)
    assert "from this address" in blocked.json()["detail"] and "signin-address" in blocked.headers["ratelimit"]
    assert elsewhere.status_code == 200, elsewhere.text
    wait_until(lambda: len(outcomes(people)) == 8, 5, what="access records")
    assert outcomes(people, attacker) == (["login_failed:bad_password"] * 3 + ["login_failed:rate_limited_pair"]
                                          + ["login_failed:bad_password"] * 2 + ["login_failed:rate_limited_address"])


@sqlite_only
def test_spraying_random_user_names_from_one_address_is_refused_at_the_threshold(people: Hub) -> None:
    sprayer = "127.0.0.6"
    with served(people, signin_address_failures=6) as (base, app):
        codes = [sign_in(base, sprayer, f"u{uuid.uuid4().hex[:12]}", "guess-1234567").status_code for _ in range(6)]
        refused = [sign_in(base, sprayer, f"u{uuid.uuid4().hex[:12]}", "guess-1234567") for _ in range(3)]
    assert codes == [401] * 6
    for r in refused:
        assert_limited(r)
        assert int(r.headers["retry-after"]) >= 100  # a full count frees one attempt every 900 / 6 s
    wait_until(lambda: len(outcomes(people)) == 9, 5, what="access records")
    assert outcomes(people, sprayer) == ["login_failed:unknown_account"] * 6 + ["login_failed:rate_limited_address"] * 3


@sqlite_only
def test_a_successful_sign_in_is_not_a_failure_and_clears_its_pairs_failures(people: Hub) -> None:
    source = "127.0.0.7"
    with served(people, signin_pair_failures=2, signin_address_failures=3) as (base, app):
        assert [sign_in(base, source, "olga").status_code for _ in range(4)] == [200] * 4  # successes never count
        assert sign_in(base, source, "olga", "guess-1234567").status_code == 401
        assert sign_in(base, source, "olga").status_code == 200  # clears the pair's failure
        assert [sign_in(base, source, "olga", "guess-1234567").status_code for _ in range(2)] == [401, 401]
        assert_limited(sign_in(base, source, "olga"))  # the pair's 2, from a fresh count
        assert_limited(sign_in(base, source, "audrey"))  # the address's 3: a success did not clear those


@sqlite_only
def test_a_flood_of_sign_ins_runs_no_more_argon2_at_once_than_the_slots_and_the_rest_get_503(people: Hub) -> None:
    with served(people, signin_concurrency=2, signin_busy_wait_seconds=0.2) as (base, app):
        sources = [f"127.0.0.{40 + i}" for i in range(16)]
        with ThreadPoolExecutor(16) as pool:  # random names: the dummy-hash path, bounded too
            answers = list(pool.map(lambda s: sign_in(base, s, f"u{uuid.uuid4().hex[:12]}", "guess-1234567"), sources))
        slots: ArgonSlots = app.state.signin.slots
        peak = slots.peak
    assert peak == 2  # the flood reached the bound and never passed it
    busy = [r for r in answers if r.status_code == 503]
    assert busy and all(r.status_code in (401, 503) for r in answers)
    assert busy[0].json()["type"] == "/problems/sign-in-busy" and int(busy[0].headers["retry-after"]) >= 1
    assert busy[0].headers["content-type"].startswith("application/problem+json")
    wait_until(lambda: len(outcomes(people)) == 16, 5, what="access records")
    assert outcomes(people).count("login_failed:busy") == len(busy)


def test_argon2_slots_never_let_more_than_their_size_compute_at_once() -> None:
    slots, now, seen, lock = ArgonSlots(3, wait=30), [0], [0], threading.Lock()

    def work() -> None:
        with slots.hold():
            with lock:  # counted by the test itself, not by the slots
                now[0] += 1
                seen[0] = max(seen[0], now[0])
            time.sleep(0.05)
            with lock:
                now[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] == 3 and slots.peak == 3 and slots.in_use == 0

    hurried, refused = ArgonSlots(1, wait=0.05), []

    def try_hold() -> None:
        try:
            with hurried.hold():
                refused.append(False)
        except Busy:
            refused.append(True)

    with hurried.hold():
        t = threading.Thread(target=try_hold)
        t.start()
        t.join()
    assert refused == [True] and hurried.in_use == 0
