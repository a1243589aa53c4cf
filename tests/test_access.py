"""Partner access control at the edge: keys' lifecycle and scopes, allowlists behind proxies,
rate limits exact across hub processes, revocation everywhere within a second, people's roles."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

import httpx
import pytest
from sqlalchemy import MetaData, select

from hub.access.accounts import add_account
from hub.access.forwarded import ForwardedReader
from hub.access.networks import parse_networks
from hub.access.policies import set_policy
from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import access_records, admin_actions
from tests.conftest import Hub, client
from tests.factories import status_changed, submitted
from tests.support import ThreadedServer, free_port, wait_until

PASSWORD = "correct horse battery"


def login(base: str, username: str) -> httpx.Client:
    r = httpx.post(f"{base}/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=30)


@pytest.fixture
def people(hub: Hub) -> Hub:
    for name, role in (("alice", "admin"), ("olga", "operator"), ("audrey", "auditor")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    return hub


def events(hub: Hub) -> list:
    with reading(hub.engine) as conn:
        return conn.execute(select(access_records).order_by(access_records.c.id)).all()


# --- client address -------------------------------------------------------------------------


def client_address(peer: str, forwarded_for: str, trusted: tuple) -> tuple[str, list[str]]:
    origin = ForwardedReader(trusted).read(peer, {"headers": [(b"x-forwarded-for", forwarded_for.encode())]})
    return origin.client, list(origin.chain)


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    trusted = parse_networks(["127.0.0.1/32", "::1/128"])
    assert client_address("203.0.113.9", "10.1.2.3", trusted) == ("203.0.113.9", [])  # spoofed by a client
    assert client_address("127.0.0.1", "10.1.2.3", ()) == ("127.0.0.1", [])  # no proxy trusted
    assert client_address("127.0.0.1", "10.1.2.3", trusted) == ("10.1.2.3", ["127.0.0.1"])
    # a client's own fake entry to the left of the real one is not believed
    assert client_address("127.0.0.1", "10.9.9.9, 198.51.100.7", trusted)[0] == "198.51.100.7"
    assert client_address("::ffff:127.0.0.1", "2001:db8::5", trusted)[0] == "2001:db8::5"
    # (the full walk: tests/security/test_client_address.py)


def test_spoofed_forwarded_for_from_an_untrusted_peer_does_not_pass_an_allowlist(people: Hub) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        key = admin.post("/v1/admin/partners/motcua/keys", json={"label": "office", "allowed_ips": ["10.0.0.0/8"]}).json()["key"]
        with client(server.url, key) as c:
            r = c.post("/v1/messages", json=submitted(), headers={"X-Forwarded-For": "10.1.2.3"})
        assert r.status_code == 401
    assert wait_until(lambda: any(e.outcome == "ip_not_allowed" and e.client_ip == "127.0.0.1" for e in events(people)), 5)


def test_forwarded_for_from_a_trusted_proxy_is_the_client_address(people: Hub) -> None:
    settings = people.settings.model_copy(update={"trusted_proxies": ["127.0.0.1/32"]})
    with ThreadedServer(create_app(settings)).start() as server:
        admin = login(server.url, "alice")
        key = admin.post("/v1/admin/partners/motcua/keys", json={"allowed_ips": ["10.0.0.0/8"]}).json()["key"]
        with client(server.url, key) as c:
            assert c.post("/v1/messages", json=submitted(), headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 202
            assert c.post("/v1/messages", json=submitted(), headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 401


# --- key lifecycle and scopes -----------------------------------------------------------------


def test_key_secret_is_shown_once_and_never_stored_or_listed_in_clear(people: Hub, caplog: pytest.LogCaptureFixture) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        issued = admin.post("/v1/admin/partners/motcua/keys", json={"label": "x"})
        assert issued.status_code == 201
        secret = issued.json()["key"]
        assert secret.startswith("lt_live_")
        listed = admin.get("/v1/admin/keys").text + admin.get("/v1/admin/partners/motcua").text
        with client(server.url, secret) as c:
            assert c.post("/v1/messages", json=submitted()).status_code == 202
        with reading(people.engine) as conn:
            actions = conn.execute(select(admin_actions)).all()
    assert secret not in listed and secret[len("lt_live_"):] not in listed
    dump = []
    meta = MetaData()
    meta.reflect(people.engine)
    with reading(people.engine) as conn:
        for table in meta.sorted_tables:
            dump.extend(str(row) for row in conn.execute(table.select()))
    assert dump and not any(secret[8:] in row for row in dump)
    assert actions and not any(secret[8:] in (a.after or "") for a in actions)
    assert secret[8:] not in caplog.text


def test_unknown_expired_revoked_and_wrong_address_keys_get_the_same_401(people: Hub) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        soon = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
        expiring = admin.post("/v1/admin/partners/motcua/keys", json={"expires_at": soon}).json()["key"]
        revoked = admin.post("/v1/admin/partners/motcua/keys", json={}).json()
        admin.post(f"/v1/admin/keys/{revoked['id']}:revoke")
        elsewhere = admin.post("/v1/admin/partners/motcua/keys", json={"allowed_ips": ["192.0.2.0/24"]}).json()["key"]
        time.sleep(1.2)
        bodies = []
        for key in ("lt_live_nonsense", expiring, revoked["key"], elsewhere):
            with client(server.url, key) as c:
                r = c.post("/v1/messages", json=submitted())
            assert r.status_code == 401 and r.headers["www-authenticate"]
            bodies.append(r.json())
    assert all(b == bodies[0] for b in bodies)
    reasons = {e.outcome for e in wait_until(lambda: [e for e in events(people) if e.status == 401], 5)}
    assert {"unknown_key", "expired", "revoked", "ip_not_allowed"} <= reasons


def test_a_key_outside_its_scopes_gets_403_naming_the_rule(people: Hub) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        status_only = admin.post("/v1/admin/partners/motcua/keys", json={"scopes": {"types": ["status.changed"]}}).json()["key"]
        read_only = admin.post("/v1/admin/partners/motcua/keys", json={"scopes": {"endpoints": ["read"]}}).json()["key"]
        bad = admin.post("/v1/admin/partners/motcua/keys", json={"scopes": {"endpoints": ["admin"]}})
        with client(server.url, status_only) as c:
            assert c.post("/v1/messages", json=status_changed()).status_code == 202
            r = c.post("/v1/messages", json=submitted())
        with client(server.url, read_only) as c:
            r2 = c.post("/v1/messages", json=submitted())
            ops = c.get("/v1/flows")
    assert r.status_code == 403 and r.json()["errors"][0] == {**r.json()["errors"][0], "field": "type", "rule": "key_scope"}
    assert r2.status_code == 403 and ops.status_code == 403
    assert bad.status_code == 422 and "scopes.endpoints" in bad.text


def test_rotation_keeps_the_old_key_working_for_the_grace_period_only(people: Hub) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        old = admin.post("/v1/admin/partners/motcua/keys", json={"label": "main", "scopes": {"types": ["*"]}}).json()
        new = admin.post(f"/v1/admin/keys/{old['id']}:rotate", json={"grace_seconds": 2}).json()
        assert new["label"] == "main" and new["key"] != old["key"]
        with client(server.url, old["key"]) as c_old, client(server.url, new["key"]) as c_new:
            assert c_old.post("/v1/messages", json=submitted()).status_code == 202  # inside the grace period
            assert c_new.post("/v1/messages", json=submitted()).status_code == 202
            time.sleep(2.2)
            assert c_old.post("/v1/messages", json=submitted()).status_code == 401
            assert c_new.post("/v1/messages", json=submitted()).status_code == 202
        listed = {k["id"]: k for k in admin.get("/v1/admin/keys", params={"partner": "motcua"}).json()["items"]}
    assert listed[old["id"]]["replaced_by"] == new["id"] and listed[old["id"]]["state"] == "expired"


# --- across hub processes -----------------------------------------------------------------------


@pytest.fixture
def two_apis(people: Hub) -> Iterator[tuple[str, str]]:
    """Two API processes on one database and Redis, started together (each takes seconds to import)."""
    urls = []
    for i in range(2):
        port = free_port()
        people.spawn("-m", "hub.cli", "api", "--port", str(port), name=f"api{i}")
        urls.append(f"http://127.0.0.1:{port}")
    for i, url in enumerate(urls):
        wait_until(lambda u=url: _up(u), 30, what=f"api {i}")
    yield urls[0], urls[1]


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_one_key_hammered_through_two_processes_is_admitted_exactly_up_to_the_limit(people: Hub, two_apis: tuple[str, str]) -> None:
    key_id = 1  # motcua's key from the fixture
    set_policy(people.engine, counter="key", key_id=key_id, route_class="read", name="per-minute", quota=40,
               window_seconds=60, actor="test")
    set_policy(people.engine, counter="key", key_id=key_id, route_class="read", name="per-second", quota=1000,
               window_seconds=1, actor="test")
    time.sleep(2.5)  # both processes reload the policies

    async def hammer() -> list[httpx.Response]:
        async with httpx.AsyncClient(headers={"Authorization": f"ApiKey {people.keys['motcua']}"}, timeout=30) as c:
            return await asyncio.gather(*(c.get(f"{two_apis[i % 2]}/v1/messages/nope")
                                          for i in range(120)))

    answers = asyncio.run(hammer())
    admitted = [r for r in answers if r.status_code != 429]
    refused = [r for r in answers if r.status_code == 429]
    assert len(admitted) == 40 and len(refused) == 80
    assert all(r.status_code == 404 for r in admitted)  # admitted, then "no such message"
    r = refused[0]
    assert int(r.headers["retry-after"]) >= 1 and r.headers["content-type"].startswith("application/problem+json")
    assert '"per-minute";q=40;w=60' in r.headers["ratelimit-policy"] and "ratelimit" in r.headers


def test_revocation_through_one_process_is_refused_by_the_other_within_a_second(people: Hub, two_apis: tuple[str, str]) -> None:
    a, b = two_apis
    admin = login(a, "alice")
    issued = admin.post("/v1/admin/partners/motcua/keys", json={"label": "doomed"}).json()
    with client(b, issued["key"]) as on_b:
        assert on_b.get("/v1/messages/nope").status_code == 404  # works, and is now cached in b
        assert admin.post(f"/v1/admin/keys/{issued['id']}:revoke").status_code == 200
        revoked_at = time.monotonic()
        wait_until(lambda: on_b.get("/v1/messages/nope").status_code == 401, 2, 0.02, what="refusal on the other process")
    assert time.monotonic() - revoked_at < 1.0


# --- people ------------------------------------------------------------------------------------


def test_roles_decide_what_a_person_may_call_and_admin_actions_are_recorded(people: Hub) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin, operator, auditor = login(server.url, "alice"), login(server.url, "olga"), login(server.url, "audrey")
        assert operator.get("/v1/flows").status_code == 200
        assert operator.get("/v1/admin/partners").status_code == 403
        assert auditor.get("/v1/flows").status_code == 403
        assert admin.patch("/v1/admin/partners/postal_vnpost", json={"state": "suspended"}).status_code == 200
        trail = auditor.get("/v1/audit/admin-actions", params={"actor": "alice"}).json()["items"]
        assert admin.get("/v1/audit/admin-actions").status_code == 403
        assert admin.post("/v1/auth/logout").status_code == 200
        assert admin.get("/v1/admin/partners").status_code == 401
    change = [t for t in trail if t["action"] == "partner.update"][0]
    assert change["before"]["state"] == "active" and change["after"]["state"] == "suspended"
    assert change["client_ip"] == "127.0.0.1"
    def kinds() -> list[str]:
        return [e.outcome for e in events(people)]

    assert wait_until(lambda: kinds().count("login") == 3 and "logout" in kinds(), 5)


def test_people_cannot_sign_in_from_outside_their_allowed_networks(people: Hub) -> None:
    settings = people.settings.model_copy(update={"people_allowed_ips": ["10.0.0.0/8"]})
    with ThreadedServer(create_app(settings)).start() as server:
        r = httpx.post(f"{server.url}/v1/auth/login", json={"username": "alice", "password": PASSWORD})
        wrong = httpx.post(f"{server.url}/v1/auth/login", json={"username": "alice", "password": "nope"})
    assert r.status_code == 401 and wrong.status_code == 401 and r.json() == wrong.json()
    def failed() -> list[str]:
        return [e.outcome for e in events(people) if e.outcome.startswith("login_failed")]

    assert wait_until(lambda: len(failed()) == 2 and failed(), 5) == ["login_failed:ip", "login_failed:bad_password"]


def test_review_lists_and_disables_keys_and_accounts_unused_for_n_days(people: Hub) -> None:
    from sqlalchemy import update

    from hub.store.tables import accounts, api_keys
    old = datetime.now(timezone.utc) - timedelta(days=120)
    with people.engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == 2).values(created_at=old))
        conn.execute(update(accounts).where(accounts.c.username == "olga").values(created_at=old))
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        listed = admin.get("/v1/admin/review", params={"days": 90}).json()
        done = admin.post("/v1/admin/review:disable", params={"days": 90}).json()
        assert httpx.post(f"{server.url}/v1/auth/login", json={"username": "olga", "password": PASSWORD}).status_code == 401
    assert [k["id"] for k in listed["keys"]] == [2] and [a["username"] for a in listed["accounts"]] == ["olga"]
    assert done == {"days": 90, "revoked_keys": [2], "disabled_accounts": ["olga"]}


def test_keys_issued_before_scopes_existed_keep_their_kinds_default_scopes(hub: Hub) -> None:
    from sqlalchemy import update

    from hub.store.tables import api_keys
    with hub.engine.begin() as conn:
        conn.execute(update(api_keys).values(scopes="{}"))  # as migration 0003 leaves older keys
    with ThreadedServer(create_app(hub.settings)).start() as server:
        with client(server.url, hub.keys["ops"]) as ops, client(server.url, hub.keys["motcua"]) as motcua:
            assert ops.get("/v1/flows").status_code == 200  # an operator system's key keeps ops
            assert motcua.get("/v1/flows").status_code == 403
            assert motcua.post("/v1/messages", json=submitted()).status_code == 202


def test_registering_a_taken_partner_code_or_username_is_409_already_exists_and_stores_nothing(people: Hub) -> None:
    with ThreadedServer(create_app(people.settings)).start() as server:
        admin = login(server.url, "alice")
        before = admin.get("/v1/admin/partners").json()["items"]
        r = admin.post("/v1/admin/partners", json={"code": "motcua", "name": "again", "kind": "one_stop"})
        r2 = admin.post("/v1/admin/accounts", json={"username": "olga", "display_name": "O", "role": "auditor",
                                                    "password": PASSWORD})
        after = admin.get("/v1/admin/partners").json()["items"]
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-exists"
    assert r2.status_code == 409 and r2.json()["type"] == "/problems/already-exists"
    assert before == after
